using System;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// The forward and backward every quantized linear layer shares, written once: y = x·Wᵀ + b with W only ever
/// dequantized (never trained). Up to a few input rows use the layer's fused kernel (on the CPU, or on its CUDA device
/// where it has one); more rows run the blocked GEMM with W dequantized panel by panel as it is packed (on the CPU), or
/// dequantize W once and use the GEMM (on a device). The backward gives the input x's gradient through the dequantized W, and the bias's.
/// </summary>
internal static class QuantizedMatmul
{
    public unsafe delegate void FusedKernel(int m, float* x, float* bias, float* y);

    /// <summary>The fused product on the weight's CUDA device: y [m, out] from x [m, in] and the bias (float32, contiguous).</summary>
    public delegate void DeviceKernel(int m, Tensor x, Tensor? bias, Tensor y);

    public const int MaxFusedRows = 8;

    public static Tensor Linear(string op, Tensor input, Tensor? bias, int inFeatures, int outFeatures, DType computeDType,
        Func<Tensor> dequantize, FusedKernel? fused, DeviceKernel? device = null, FusedKernel? blocked = null, FusedKernel? inputGrad = null)
    {
        if (input.Dim == 0 || input.Size(-1) != inFeatures)
            throw new KilnException(op, $"{op}: input of shape [{string.Join(", ", input.Shape.ToArray())}] does not end in in_features={inFeatures}", KilnErrorKind.Shape);
        if (!input.DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: expected a floating-point input, got {input.DType}", KilnErrorKind.DType);
        // As bitsandbytes: the input is cast to the compute dtype, the product rounded to it, and the output handed back
        // in the input's dtype (a float32 model with a bf16 compute dtype keeps float32 activations). Products
        // accumulate in float32; float64 inputs stay float64 throughout.
        var compute = input.DType == DType.Float64 ? DType.Float64 : computeDType;
        Tensor Output(Tensor y) => y.To(compute).To(input.DType);
        Tensor Compute()
        {
            int m = (int)(input.Numel / Math.Max(1, inFeatures));
            bool fuse = (input.IsCuda ? device is not null : fused is not null) && m <= MaxFusedRows;
            if ((fuse || (!input.IsCuda && blocked is not null)) && m > 0 && input.DType != DType.Float64)
            {
                var x = input.To(compute).To(DType.Float32).Contiguous();
                var b = bias?.To(compute).To(DType.Float32).Contiguous();
                var shape = input.Shape.ToArray();
                shape[^1] = outFeatures;
                var y = Tensor.Empty(shape, DType.Float32, input.Device);
                if (input.IsCuda) device!(m, x, b, y);
                else Run(fuse ? fused! : blocked!, m, x, b, y);
                return Output(y);
            }
            var w = dequantize().To(input.DType == DType.Float64 ? DType.Float64 : DType.Float32);
            if (input.IsCuda) w = w.To(input.Device);
            return Output(F.Linear(input.To(compute).To(w.DType), w, bias?.To(compute).To(w.DType)));
        }
        bool needsGrad = Autograd.IsGradEnabled && (input.RequiresGrad || bias?.RequiresGrad == true);
        if (!needsGrad)
            using (Autograd.NoGrad()) return Compute();
        return Autograd.Function(op, bias is null ? [input] : [input, bias], Compute, grad =>
        {
            var wide = input.DType == DType.Float64 || grad.DType == DType.Float64 ? DType.Float64 : DType.Float32;
            var g = grad.To(wide);
            return bias is null ? [InputGrad(g)] : [InputGrad(g), bias.RequiresGrad ? g.Reshape(-1, outFeatures).Sum(0).To(bias.DType) : null];
        });

        // dx = g·W: on the CPU in float32 by the GEMM with W's panels dequantized as packed (inputGrad), else through W dequantized whole.
        Tensor? InputGrad(Tensor g)
        {
            if (!input.RequiresGrad) return null;
            if (!g.IsCuda && inputGrad is not null && g.DType == DType.Float32)
            {
                var gc = g.Contiguous();
                var dx = Tensor.Empty(input.Shape.ToArray(), DType.Float32);
                Run(inputGrad, (int)(gc.Numel / Math.Max(1, outFeatures)), gc, null, dx);
                return dx.To(input.DType);
            }
            var w = dequantize().To(g.DType);
            if (g.IsCuda) w = w.To(g.Device);
            return g.Matmul(w).To(input.DType);
        }
    }

    static unsafe void Run(FusedKernel fused, int m, Tensor x, Tensor? b, Tensor y)
    {
        fixed (float* px = x.AsSpan<float>()) fixed (float* py = y.AsSpan<float>())
        {
            if (b is null) fused(m, px, null, py);
            else fixed (float* pb = b.AsSpan<float>()) fused(m, px, pb, py);
        }
    }
}
