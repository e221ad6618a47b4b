using System;
using System.Collections.Generic;

namespace Kiln.Distributions;

/// <summary>
/// The distribution of f(x) for x from a base distribution and f a chain of elementwise <see cref="Transform"/>s
/// (<c>torch.distributions.TransformedDistribution</c>): samples are the base's pushed through the transforms; the log
/// density pulls a value back through their inverses and subtracts each log-Jacobian, summed over the event dims.
/// </summary>
public class TransformedDistribution : Distribution
{
    /// <summary><paramref name="baseDistribution"/> pushed through <paramref name="transforms"/>, first to last.</summary>
    public TransformedDistribution(Distribution baseDistribution, params Transform[] transforms)
        : this(baseDistribution, transforms, Shapes(baseDistribution, transforms)) { }

    TransformedDistribution(Distribution baseDistribution, Transform[] transforms, (int[] Batch, int[] Event) shapes)
        : base(shapes.Batch, shapes.Event)
    {
        Base = baseDistribution;
        Transforms = transforms;
    }

    /// <summary>
    /// The batch and event shapes after the transforms (PyTorch's): the base's shape pushed through each transform's
    /// <see cref="Transform.ForwardShape"/>, with as many event dims as the base or any transform acts on together.
    /// </summary>
    static (int[], int[]) Shapes(Distribution baseDistribution, Transform[] transforms)
    {
        int[] shape = [.. baseDistribution.BatchShape, .. baseDistribution.EventShape];
        int eventDims = baseDistribution.EventShape.Length;
        foreach (var t in transforms)
        {
            shape = t.ForwardShape(shape);
            eventDims = Math.Max(eventDims, t.EventDim);
        }
        if (eventDims > shape.Length)
            throw new KilnException("TransformedDistribution", $"TransformedDistribution: a transform acts on {eventDims} dims, the base distribution's samples have {shape.Length}", KilnErrorKind.Shape);
        return (shape[..^eventDims], shape[^eventDims..]);
    }

    /// <summary>The distribution before the transforms.</summary>
    public Distribution Base { get; }

    /// <summary>The transforms, applied first to last.</summary>
    public IReadOnlyList<Transform> Transforms { get; }

    /// <summary>Not known in closed form for a general chain (PyTorch raises too); <see cref="LogNormal"/> has one.</summary>
    public override Tensor Mean => throw NotClosedForm("mean", "mean");

    /// <summary>Not known in closed form for a general chain (PyTorch raises too).</summary>
    public override Tensor Variance => throw NotClosedForm("variance", "variance");

    /// <inheritdoc/>
    public override bool HasRSample => Base.HasRSample;

    /// <inheritdoc/>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        var x = Base.Sample(sampleShape, generator);
        return Push(x);
    }

    /// <inheritdoc/>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null) => Push(Base.RSample(sampleShape, generator));

    Tensor Push(Tensor x)
    {
        foreach (var t in Transforms)
        {
            var y = t.Forward(x);
            x.Dispose();
            x = y;
        }
        return x;
    }

    /// <summary>log p(y) = log p_base(x) - Σ log |det J|, x = the inverses applied last to first.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        var y = value.To(value.DType);
        Tensor? correction = null;
        try
        {
            for (int i = Transforms.Count - 1; i >= 0; i--)
            {
                var x = Transforms[i].Inverse(y);
                using var jacobian = Transforms[i].LogAbsDetJacobian(x, y);
                using var summed = Independent.SumRightmost(jacobian, EventShape.Length - Transforms[i].EventDim);
                var next = correction is null ? summed.To(summed.DType) : correction + summed;
                correction?.Dispose();
                correction = next;
                y.Dispose();
                y = x;
            }
            using var baseLog = Base.LogProb(y);
            return correction is null ? baseLog.To(baseLog.DType) : baseLog - correction;
        }
        finally
        {
            y.Dispose();
            correction?.Dispose();
        }
    }

    /// <summary>Not known in closed form for a general chain (PyTorch raises too).</summary>
    public override Tensor Entropy() => throw NotClosedForm("entropy", "entropy");
}

/// <summary>exp of a normal variable (<c>torch.distributions.LogNormal</c>), with its closed-form moments and entropy.</summary>
public sealed class LogNormal : TransformedDistribution
{
    /// <summary>exp(N(loc, scale²)).</summary>
    public LogNormal(Tensor loc, Tensor scale) : base(new Normal(loc, scale), new ExpTransform()) { }

    /// <summary>The underlying normal's mean.</summary>
    public Tensor Loc => ((Normal)Base).Loc;

    /// <summary>The underlying normal's standard deviation.</summary>
    public Tensor Scale => ((Normal)Base).Scale;

    /// <summary>exp(loc + scale²/2).</summary>
    public override Tensor Mean
    {
        get
        {
            using var variance = Scale.Square();
            using var exponent = Loc + variance * 0.5;
            return exponent.Exp();
        }
    }

    /// <summary>(exp(scale²) - 1)·exp(2·loc + scale²).</summary>
    public override Tensor Variance
    {
        get
        {
            using var variance = Scale.Square();
            using var grow = variance.Expm1();
            using var exponent = Loc * 2.0 + variance;
            using var scale = exponent.Exp();
            return grow * scale;
        }
    }

    /// <summary>The normal's entropy + loc.</summary>
    public override Tensor Entropy()
    {
        using var normal = Base.Entropy();
        return normal + Loc;
    }

    /// <summary>e^(μ - σ²).</summary>
    public override Tensor Mode
    {
        get
        {
            using var variance = Scale.Square();
            using var shifted = Loc - variance;
            return shifted.Exp();
        }
    }

    /// <summary>x > 0.</summary>
    public override Constraint Support => Constraints.Positive;
}
