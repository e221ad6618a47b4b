using System;
using Kiln.Compiler.Shapes;

namespace Kiln.Distributions;

/// <summary>
/// A probability distribution over tensors (<c>torch.distributions.Distribution</c>): batches of independent
/// distributions of one event shape, with seeded sampling, log densities and entropies that are differentiable in the
/// parameters, and reparameterized samples (<see cref="RSample"/>) where the family has them.
/// </summary>
public abstract class Distribution
{
    private protected Distribution(int[] batchShape, int[] eventShape)
    {
        ValidateArgs = ScopedValidation.Value ?? DefaultValidateArgs;
        BatchShape = batchShape;
        EventShape = eventShape;
    }

    /// <summary>The shape of the batch of independent distributions.</summary>
    public int[] BatchShape { get; }

    /// <summary>The shape of one sample of one distribution ([] for scalar families, [k] for a k-variate normal).</summary>
    public int[] EventShape { get; }

    /// <summary>The mean of each distribution.</summary>
    public abstract Tensor Mean { get; }

    /// <summary>The variance of each distribution (of each coordinate, for a multivariate family).</summary>
    public abstract Tensor Variance { get; }

    /// <summary>Whether <see cref="EnumerateSupport"/> lists the values (a discrete family with a finite support).</summary>
    public virtual bool HasEnumerateSupport => false;

    /// <summary>
    /// Every value of the support along a new leading dim (<c>enumerate_support</c>): [n] + batch + event with
    /// <paramref name="expand"/>, [n] + ones + event without.
    /// </summary>
    public virtual Tensor EnumerateSupport(bool expand = true) =>
        throw new KilnException("enumerate_support", $"enumerate_support: {GetType().Name} has no finite support to enumerate", KilnErrorKind.Unsupported);

    /// <summary>The support's values <paramref name="values"/> [n, ...event] laid out as <see cref="EnumerateSupport"/> returns them.</summary>
    private protected Tensor Enumerated(Tensor values, bool expand)
    {
        int n = values.Size(0);
        int[] eventShape = values.ShapeArray[1..];
        int[] ones = new int[BatchShape.Length];
        Array.Fill(ones, 1);
        using var shaped = values.Reshape([n, .. ones, .. eventShape]);
        return expand ? shaped.Expand([n, .. BatchShape, .. eventShape]).Contiguous() : shaped.Contiguous();
    }

    /// <summary>e^entropy (<c>perplexity</c>).</summary>
    public Tensor Perplexity()
    {
        using var entropy = Entropy();
        return entropy.Exp();
    }

    /// <summary>The most probable value of each distribution (<c>mode</c>), where the family has one in closed form.</summary>
    public virtual Tensor Mode => throw NotClosedForm("mode", "mode");

    /// <summary>The standard deviation, √variance.</summary>
    public Tensor Stddev => Variance.Sqrt();

    /// <summary>Whether <see cref="RSample"/> exists (<c>has_rsample</c>).</summary>
    public virtual bool HasRSample => false;

    /// <summary>
    /// Samples of shape <paramref name="sampleShape"/> + batch + event, with no gradient (<c>sample</c>), drawn from
    /// <paramref name="generator"/>'s stream.
    /// </summary>
    public virtual Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        return HasRSample ? RSample(sampleShape, generator) : throw new KilnException("sample", $"sample: {GetType().Name} does not implement sampling", KilnErrorKind.Unsupported);
    }

    /// <summary>
    /// Reparameterized samples (<c>rsample</c>): a differentiable function of the parameters and parameter-free noise, so
    /// a loss of the samples trains the parameters (the VAE trick).
    /// </summary>
    public virtual Tensor RSample(int[]? sampleShape = null, Generator? generator = null) =>
        throw new KilnException("rsample", $"rsample: {GetType().Name} has no reparameterized sampler (use Sample and a score-function estimator)", KilnErrorKind.Unsupported);

    /// <summary>
    /// The log density (or log mass) of <paramref name="value"/> under each distribution (<c>log_prob</c>). With
    /// <see cref="ValidateArgs"/> a value outside the <see cref="Support"/> is refused, naming the family and the first
    /// offending element (PyTorch's <c>validate_args</c>).
    /// </summary>
    public Tensor LogProb(Tensor value)
    {
        if (ValidateArgs) CheckSample(value);
        return LogProbOf(value);
    }

    /// <summary>The family's log density, the value already checked.</summary>
    private protected abstract Tensor LogProbOf(Tensor value);

    /// <summary>
    /// Whether new distributions check their parameters against their constraints when built and the values given to
    /// <see cref="LogProb"/> against their support (<c>Distribution.set_default_validate_args</c>; on by default, as in
    /// PyTorch). Each check reads a flag back from the device.
    /// </summary>
    public static bool DefaultValidateArgs { get; set; } = true;

    static readonly System.Threading.AsyncLocal<bool?> ScopedValidation = new();

    /// <summary>
    /// Builds the distributions created inside the scope with validation on or off (PyTorch's per-object
    /// <c>validate_args=</c>): <c>using (Distribution.ValidateArgsScope(false)) { var u = new Uniform(low, high); ... }</c>.
    /// It follows the async flow and leaves other threads alone.
    /// </summary>
    public static IDisposable ValidateArgsScope(bool validate)
    {
        var previous = ScopedValidation.Value;
        ScopedValidation.Value = validate;
        return new ScopeEnd(previous);
    }

    sealed class ScopeEnd(bool? previous) : IDisposable
    {
        public void Dispose() => ScopedValidation.Value = previous;
    }

    /// <summary>Whether this distribution checks its parameters and the values given to <see cref="LogProb"/> (<c>validate_args</c>), fixed when it was built.</summary>
    public bool ValidateArgs { get; }

    /// <summary>The set the samples lie in (<c>support</c>).</summary>
    public virtual Constraint Support => Constraints.Real;

    /// <summary>Refuses parameters outside their constraints (with <see cref="ValidateArgs"/>); null parameters are skipped.</summary>
    private protected void CheckParameters(params (string Name, Tensor? Value, Constraint Constraint)[] parameters)
    {
        if (!ValidateArgs) return;
        foreach (var (name, value, constraint) in parameters)
            if (value is not null) Check(value, constraint, $"parameter {name}", $"to satisfy the constraint {constraint}");
    }

    /// <summary>Refuses a value outside the support.</summary>
    private protected void CheckSample(Tensor value)
    {
        var support = Support;
        Check(value, support, "value argument", $"to be within the support ({support}) of the distribution");
    }

    void Check(Tensor value, Constraint constraint, string what, string expectation)
    {
        using var noGrad = Autograd.NoGrad();
        using var ok = constraint.Check(value);
        using var all = ok.All();
        if (all.Item<bool>()) return;
        using var flags = ok.Cpu();
        var each = flags.ToArray<bool>();
        int first = Array.IndexOf(each, false);
        string found = "";
        if (ok.Numel == value.Numel)
        {
            using var flat = value.Reshape([-1]);
            using var element = flat[first];
            using var wide = element.To(DType.Float64);
            found = $": {wide.Item<double>().ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
        }
        string family = GetType().Name;
        throw new KilnException(family, $"{family}: expected {what} (shape {ShapeText.Format(value.ShapeArray)}) {expectation}, but found invalid values, the first at flat index {first}{found}",
            KilnErrorKind.Argument);
    }

    /// <summary>The entropy of each distribution, in nats.</summary>
    public abstract Tensor Entropy();

    /// <summary>The cumulative distribution function P(X ≤ value) of each distribution (<c>cdf</c>), where the family has one in closed form.</summary>
    public virtual Tensor Cdf(Tensor value) =>
        throw NotClosedForm("cdf", "cumulative distribution function");

    /// <summary>The inverse of <see cref="Cdf"/> (<c>icdf</c>): the value below which each distribution puts probability <paramref name="value"/>.</summary>
    public virtual Tensor Icdf(Tensor value) =>
        throw NotClosedForm("icdf", "inverse cumulative distribution function");

    /// <summary>The refusal of a quantity this family has no closed form for (PyTorch raises NotImplementedError).</summary>
    private protected KilnException NotClosedForm(string op, string what) =>
        new(op, $"{op}: {GetType().Name} has no closed-form {what}", KilnErrorKind.Unsupported);

    /// <summary>A tensor of <see cref="BatchShape"/> filled with <paramref name="value"/>, like <paramref name="like"/> (an undefined or infinite moment).</summary>
    private protected Tensor Filled(double value, Tensor like) => Tensor.Full(BatchShape, value, like.DType, like.Device);

    /// <summary>sampleShape + batch + event.</summary>
    private protected int[] ExtendedShape(int[]? sampleShape) => [.. sampleShape ?? [], .. BatchShape, .. EventShape];

    /// <summary>Standard normal noise of <paramref name="shape"/> on <paramref name="like"/>'s device and dtype.</summary>
    private protected static Tensor StandardNormal(int[] shape, Tensor like, Generator? generator)
    {
        using var host = Tensor.Randn(shape, like.DType, generator);
        return host.To(like.Device);
    }

    /// <summary>Uniform [0, 1) noise of <paramref name="shape"/> on <paramref name="like"/>'s device and dtype.</summary>
    private protected static Tensor StandardUniform(int[] shape, Tensor like, Generator? generator)
    {
        using var host = Tensor.Rand(shape, like.DType, generator);
        return host.To(like.Device);
    }

    /// <summary>Two parameters broadcast against each other, as floating tensors.</summary>
    private protected static (Tensor A, Tensor B) Broadcast(string family, Tensor a, Tensor b)
    {
        if (!a.DType.IsFloatingPoint() || !b.DType.IsFloatingPoint())
            throw new KilnException(family, $"{family}: parameters must be floating point, got {a.DType} and {b.DType}", KilnErrorKind.DType);
        var shape = ShapeRules.Broadcast(family, a.ShapeArray, b.ShapeArray);
        return (a.Expand(shape), b.Expand(shape));
    }
}
