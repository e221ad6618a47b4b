using System;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// Quantize-then-dequantize in the forward with the straight-through estimator in the backward (torch.ao's
/// <c>FakeQuantize</c>): an observer keeps updating the scale and zero point while <see cref="ObserverEnabled"/>; the
/// gradient passes where the value fell inside the integer range and is zero where it was clamped.
/// </summary>
public sealed class FakeQuantize : Module<Tensor, Tensor>
{
    /// <summary>Fake quantization driven by <paramref name="observer"/>.</summary>
    public FakeQuantize(Observer observer) => RegisterModule("activation_post_process", observer);

    /// <summary>The observer.</summary>
    public Observer Observer => Child<Observer>("activation_post_process");
    /// <summary>Update the statistics on each forward (<c>enable_observer</c>).</summary>
    public bool ObserverEnabled { get; set; } = true;
    /// <summary>Apply the rounding (<c>enable_fake_quant</c>).</summary>
    public bool FakeQuantEnabled { get; set; } = true;
    /// <summary>The current scale and zero point (a per-tensor observer's).</summary>
    public QParams QParams => Observer.CalculateQParams();

    /// <summary>The current scale and zero point of each of <paramref name="channels"/> channels (repeated for a per-tensor observer).</summary>
    public QParams[] ChannelQParams(int channels) => Observer.CalculateQParamsPerChannel(channels);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (ObserverEnabled) Observer.Forward(input);
        if (!FakeQuantEnabled) return input;
        if (Observer.ChannelAxis is null) return Apply(input, QParams);
        int dim = Observer.ChannelDim(input, "fake_quantize_per_channel_affine");
        return ApplyPerChannel(input, ChannelQParams(input.Size(dim)), dim);
    }

    /// <summary><c>torch.fake_quantize_per_tensor_affine</c>: (clamp(zero_point + round(x/scale)) − zero_point)·scale, gradient 1 inside the range, 0 outside.</summary>
    public static Tensor Apply(Tensor input, QParams q) => Apply(input, [q], Math.Max(1, input.Numel), "fake_quantize_per_tensor_affine");

    /// <summary><c>torch.fake_quantize_per_channel_affine</c>: <see cref="Apply(Tensor, QParams)"/> with channel c of dim <paramref name="axis"/> on grid <paramref name="q"/>[c].</summary>
    public static Tensor ApplyPerChannel(Tensor input, QParams[] q, int axis)
    {
        if (axis < 0 || axis >= input.Dim || input.Size(axis) != q.Length)
            throw new KilnException("fake_quantize_per_channel_affine", $"fake_quantize_per_channel_affine: {q.Length} scales for dim {axis} of an input of shape [{string.Join(", ", input.Shape.ToArray())}]", KilnErrorKind.Shape);
        long inner = 1;
        for (int d = axis + 1; d < input.Dim; d++) inner *= input.Size(d);
        return Apply(input, q, inner, "fake_quantize_per_channel_affine");
    }

    /// <summary>Element i is on grid q[(i / inner) mod q.Length] (contiguous layout); one loop for both schemes.</summary>
    static Tensor Apply(Tensor input, QParams[] q, long inner, string op)
    {
        var x = input.To(DType.Float32).Contiguous();
        var mask = new float[x.Numel];
        Tensor Compute()
        {
            var src = x.AsSpan<float>();
            var y = Tensor.Empty(x.Shape.ToArray(), DType.Float32);
            var dst = y.AsSpan<float>();
            for (long start = 0, run = 0; start < src.Length; start += inner, run++)
            {
                var g = q[run % q.Length];
                float inv = 1f / g.Scale;
                long end = Math.Min(src.Length, start + inner);
                for (long i = start; i < end; i++)
                {
                    long qv = g.ZeroPoint + (long)MathF.Round(src[(int)i] * inv);
                    mask[i] = qv >= g.QuantMin && qv <= g.QuantMax ? 1f : 0f;
                    dst[(int)i] = (Math.Clamp(qv, g.QuantMin, g.QuantMax) - g.ZeroPoint) * g.Scale;
                }
            }
            return y.To(input.DType);
        }
        if (!(Autograd.IsGradEnabled && input.RequiresGrad)) using (Autograd.NoGrad()) return Compute();
        return Autograd.Function(op, [input], Compute,
            grad => [grad.Mul(Tensor.From(mask, x.Shape.ToArray()).To(grad.DType))]);
    }
}
