using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// A linear layer whose weight is stored in LLM.int8's row-wise format (<c>bnb.nn.Linear8bitLt</c> with
/// has_fp16_weights=False): <c>weight</c> holds the int8 codes, <c>SCB</c> each row's absmax. Weight-only: inputs stay
/// in float32 (bitsandbytes also quantizes the inputs and keeps outlier columns in 16 bits; Kiln does not, so it is at
/// least as accurate). A few input rows use the fused int8 kernel; more dequantize once and use the GEMM.
/// </summary>
public sealed unsafe class Linear8bitLt : Linear
{
    /// <summary>Quantizes <paramref name="source"/>'s weight (its bias is kept).</summary>
    public Linear8bitLt(Linear source) : this(source.InFeatures, source.OutFeatures, QuantizedInt8.Quantize(source.Weight), source.Bias) { }

    /// <summary>A layer over an already quantized weight.</summary>
    public Linear8bitLt(int inFeatures, int outFeatures, QuantizedInt8 weight, Tensor? bias)
        : base(inFeatures, outFeatures, weight.Codes.RequiresGrad ? weight.Codes.Detach() : weight.Codes, bias)
    {
        if (weight.Rows != outFeatures || weight.Cols != inFeatures)
            throw new KilnException("Linear8bitLt", $"Linear8bitLt: the quantized weight has shape [{weight.Rows}, {weight.Cols}], the layer needs [{outFeatures}, {inFeatures}]", KilnErrorKind.Shape);
        RegisterBuffer("SCB", weight.Scb);
    }

    /// <summary>The quantized weight, read from the layer's current tensors.</summary>
    public QuantizedInt8 Quantized => new() { Codes = Weight, Scb = (Tensor)TensorMember("SCB")! };

    /// <summary>The weight as float32 [out, in], on the layer's device (a CUDA layer dequantizes there, one kernel).</summary>
    public Tensor DequantizedWeight()
    {
        var q = Quantized;
        if (!Weight.IsCuda) return q.Dequantize();
        var y = Tensor.Empty([OutFeatures, InFeatures], DType.Float32, Weight.Device);
        Kiln.Gpu.GpuOps.DequantizeInt8Rows(y, q.Codes.Contiguous(), q.Scb.Contiguous(), InFeatures);
        return y;
    }

    /// <summary>Adds <paramref name="delta"/> [out, in] to the weight and quantizes again (merging an adapter into an int8 base).</summary>
    public void AddToWeight(Tensor delta)
    {
        using var _ = Autograd.NoGrad();
        var q = QuantizedInt8.Quantize(DequantizedWeight().Add(delta.To(DType.Float32)));
        Weight.Copy_(q.Codes);
        ((Tensor)TensorMember("SCB")!).Copy_(q.Scb);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        QuantizedMatmul.Linear("linear_8bit", input, Bias, InFeatures, OutFeatures, DType.Float32, DequantizedWeight, Weight.IsCuda ? null : FusedProduct,
            Weight.IsCuda ? DeviceProduct : null, Weight.IsCuda ? null : BlockedProduct,
            Weight.IsCuda ? null : InputGradProduct);

    /// <summary>The input gradient on the CPU, dx = g·W, by the same GEMM (W's panels dequantized as packed).</summary>
    void InputGradProduct(int m, float* g, float* unused, float* dx)
    {
        fixed (sbyte* c = Weight.AsSpan<sbyte>()) fixed (float* s = ((Tensor)TensorMember("SCB")!).AsSpan<float>())
            Kiln.Kernels.Gemm.Sgemm.MultiplyByDequantized(m, InFeatures, OutFeatures, g, OutFeatures, new Kernels.Int8Weight(c, s, InFeatures), dx, InFeatures);
    }

    /// <summary>More rows on the CPU: the blocked GEMM, each panel of the weight dequantized as it is packed.</summary>
    void BlockedProduct(int m, float* x, float* bias, float* y)
    {
        fixed (sbyte* c = Weight.AsSpan<sbyte>()) fixed (float* s = ((Tensor)TensorMember("SCB")!).AsSpan<float>())
            Kiln.Kernels.Gemm.Sgemm.MultiplyDequantized(m, OutFeatures, InFeatures, x, InFeatures, new Kernels.Int8Weight(c, s, InFeatures),
                y, OutFeatures, new Kiln.Kernels.Gemm.GemmEpilogue { ColumnBias = bias });
    }

    /// <summary>A few rows' product on the CUDA device straight from the int8 codes (the weight never dequantized).</summary>
    void DeviceProduct(int m, Tensor x, Tensor? bias, Tensor y) =>
        Kiln.Gpu.GpuOps.FusedMatmulInt8(y, x, Weight.Contiguous(), ((Tensor)TensorMember("SCB")!).Contiguous(), bias, m, InFeatures, OutFeatures);

    unsafe void FusedProduct(int m, float* x, float* bias, float* y)
    {
        fixed (sbyte* c = Weight.AsSpan<sbyte>()) fixed (float* s = ((Tensor)TensorMember("SCB")!).AsSpan<float>())
            Kernels.Int8Kernels.FusedMatmul(m, OutFeatures, InFeatures, x, c, s, bias, y);
    }

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={Py(Bias is not null)}, int8";
}
