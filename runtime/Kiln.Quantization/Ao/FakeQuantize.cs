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
    /// <summary>The current scale and zero point.</summary>
    public QParams QParams => Observer.CalculateQParams();

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (ObserverEnabled) Observer.Forward(input);
        return FakeQuantEnabled ? Apply(input, QParams) : input;
    }

    /// <summary><c>torch.fake_quantize_per_tensor_affine</c>: (clamp(zero_point + round(x/scale)) − zero_point)·scale, gradient 1 inside the range, 0 outside.</summary>
    public static Tensor Apply(Tensor input, QParams q)
    {
        var x = input.To(DType.Float32).Contiguous();
        var mask = new float[x.Numel];
        Tensor Compute()
        {
            var src = x.AsSpan<float>();
            var y = Tensor.Empty(x.Shape.ToArray(), DType.Float32);
            var dst = y.AsSpan<float>();
            float inv = 1f / q.Scale;
            for (int i = 0; i < src.Length; i++)
            {
                long qv = q.ZeroPoint + (long)MathF.Round(src[i] * inv);
                mask[i] = qv >= q.QuantMin && qv <= q.QuantMax ? 1f : 0f;
                dst[i] = (Math.Clamp(qv, q.QuantMin, q.QuantMax) - q.ZeroPoint) * q.Scale;
            }
            return y.To(input.DType);
        }
        if (!(Autograd.IsGradEnabled && input.RequiresGrad)) using (Autograd.NoGrad()) return Compute();
        return Autograd.Function("fake_quantize_per_tensor_affine", [input], Compute,
            grad => [grad.Mul(Tensor.From(mask, x.Shape.ToArray()).To(grad.DType))]);
    }
}
