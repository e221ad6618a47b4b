using System;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// A linear layer whose weight is stored in bitsandbytes' 4-bit format (<c>bnb.nn.Linear4bit</c>): <c>weight</c> holds
/// the packed codes, <c>absmax</c>/<c>quant_map</c> (and the nested statistics) are buffers. The forward computes in
/// float32 (or <see cref="ComputeDType"/>): a few input rows go through the fused dequantizing product, more rows
/// dequantize the weight once and multiply. Gradients flow to the input and bias (the weight is frozen), which is what
/// QLoRA trains through.
/// </summary>
public sealed unsafe class Linear4bit : Linear
{
    Quantized4Bit _q;

    /// <summary>Quantizes <paramref name="source"/>'s weight (its bias is kept as it is).</summary>
    public Linear4bit(Linear source, QuantType type = QuantType.Nf4, int blocksize = 64, bool doubleQuant = false)
        : this(source.InFeatures, source.OutFeatures, Quantized4Bit.Quantize(source.Weight, type, blocksize, doubleQuant), source.Bias) { }

    /// <summary>A layer over an already quantized weight of shape [<paramref name="outFeatures"/>, <paramref name="inFeatures"/>].</summary>
    public Linear4bit(int inFeatures, int outFeatures, Quantized4Bit weight, Tensor? bias)
        : base(inFeatures, outFeatures, Frozen(weight.Packed), bias)
    {
        if (weight.Shape.Length != 2 || weight.Shape[0] != outFeatures || weight.Shape[1] != inFeatures)
            throw new KilnException("Linear4bit", $"Linear4bit: the quantized weight has shape [{string.Join(", ", weight.Shape)}], the layer needs [{outFeatures}, {inFeatures}]", KilnErrorKind.Shape);
        _q = weight;
        RegisterBuffer("absmax", weight.Absmax);
        RegisterBuffer("quant_map", weight.QuantMap);
        if (weight.DoubleQuant)
        {
            RegisterBuffer("nested_absmax", weight.NestedAbsmax);
            RegisterBuffer("nested_quant_map", weight.NestedQuantMap);
        }
        ComputeDType = weight.DType == DType.Float16 ? DType.Float32 : weight.DType == DType.BFloat16 ? DType.BFloat16 : DType.Float32;
        RefreshAbsmax();
    }

    static Tensor Frozen(Tensor t) => t.RequiresGrad ? t.Detach() : t;

    /// <summary>The quantized weight.</summary>
    public Quantized4Bit Quantized => _q;
    /// <summary>The dtype of the output (<c>bnb_4bit_compute_dtype</c>); products accumulate in float32.</summary>
    public DType ComputeDType { get; set; }

    float[] _absmax = [];
    Tensor? _codeF32;

    void RefreshAbsmax()
    {
        _absmax = _q.BlockAbsmax();
        _codeF32 = _q.QuantMap.Cpu().To(DType.Float32).Contiguous();
    }

    /// <summary>The weight as float32 [out, in].</summary>
    public Tensor DequantizedWeight() => _q.Dequantize(DType.Float32);

    /// <summary>Adds <paramref name="delta"/> [out, in] to the weight and quantizes again (how an adapter is merged into a 4-bit base).</summary>
    public void AddToWeight(Tensor delta)
    {
        using var _ = Autograd.NoGrad();
        var merged = DequantizedWeight().Add(delta.To(DType.Float32));
        var q = Quantized4Bit.Quantize(merged.To(_q.DType), _q.Type, _q.Blocksize, _q.DoubleQuant);
        // Same sizes: the codes and statistics are copied into the tensors this layer (and any wrapper) already shares.
        _q.Packed.Copy_(q.Packed);
        _q.Absmax.Copy_(q.Absmax);
        _q.NestedAbsmax?.Copy_(q.NestedAbsmax!);
        _q = new Quantized4Bit
        {
            Packed = _q.Packed,
            Type = q.Type,
            Blocksize = q.Blocksize,
            Shape = q.Shape,
            DType = q.DType,
            QuantMap = _q.QuantMap,
            Absmax = _q.Absmax,
            NestedAbsmax = _q.NestedAbsmax,
            NestedQuantMap = _q.NestedQuantMap,
            NestedOffset = q.NestedOffset,
            NestedBlocksize = q.NestedBlocksize,
        };
        RefreshAbsmax();
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        QuantizedMatmul.Linear("linear_4bit", input, Bias, InFeatures, OutFeatures, ComputeDType, DequantizedWeight, CanFuse ? FusedProduct : null);

    unsafe void FusedProduct(int m, float* x, float* bias, float* y)
    {
        fixed (byte* p = Weight.AsSpan<byte>()) fixed (float* a = _absmax) fixed (float* c = _codeF32!.AsSpan<float>())
            Kernels.FourBitKernels.FusedMatmul(m, OutFeatures, InFeatures, x, p, c, a, _q.Blocksize, bias, y);
    }

    /// <summary>True when the fused kernel applies to this layer (blocks never straddle a row).</summary>
    internal bool CanFuse => InFeatures % _q.Blocksize == 0 && !Weight.IsCuda;

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={Py(Bias is not null)}, quant_type={Quantized4Bit.TypeName(_q.Type)}, blocksize={_q.Blocksize}";
}
