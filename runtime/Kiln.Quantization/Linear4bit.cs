using System;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// A linear layer whose weight is stored in bitsandbytes' 4-bit format (<c>bnb.nn.Linear4bit</c>): <c>weight</c> holds
/// the packed codes, <c>absmax</c>/<c>quant_map</c> (and the nested statistics) are buffers. The forward computes in
/// <see cref="ComputeDType"/> and returns the input's dtype: a few input rows go through the fused dequantizing product, more rows
/// dequantize the weight once and multiply. Gradients flow to the input and bias (the weight is frozen), which is what
/// QLoRA trains through.
/// </summary>
public sealed unsafe class Linear4bit : Linear
{

    /// <summary>Quantizes <paramref name="source"/>'s weight (its bias is kept as it is).</summary>
    public Linear4bit(Linear source, QuantType type = QuantType.Nf4, int blocksize = 64, bool doubleQuant = false)
        : this(source.InFeatures, source.OutFeatures, Quantized4Bit.Quantize(source.Weight, type, blocksize, doubleQuant), source.Bias) { }

    /// <summary>A layer over an already quantized weight of shape [<paramref name="outFeatures"/>, <paramref name="inFeatures"/>].</summary>
    public Linear4bit(int inFeatures, int outFeatures, Quantized4Bit weight, Tensor? bias)
        : base(inFeatures, outFeatures, Frozen(weight.Packed), bias)
    {
        if (weight.Shape.Length != 2 || weight.Shape[0] != outFeatures || weight.Shape[1] != inFeatures)
            throw new KilnException("Linear4bit", $"Linear4bit: the quantized weight has shape [{string.Join(", ", weight.Shape)}], the layer needs [{outFeatures}, {inFeatures}]", KilnErrorKind.Shape);
        _meta = weight;
        RegisterBuffer("absmax", weight.Absmax);
        RegisterBuffer("quant_map", weight.QuantMap);
        if (weight.DoubleQuant)
        {
            RegisterBuffer("nested_absmax", weight.NestedAbsmax);
            RegisterBuffer("nested_quant_map", weight.NestedQuantMap);
            RegisterBuffer("nested_offset", Tensor.From([weight.NestedOffset], 1));   // in bitsandbytes' quant-state JSON; a buffer here so state dicts carry it
        }
        ComputeDType = weight.DType == DType.Float16 ? DType.Float32 : weight.DType == DType.BFloat16 ? DType.BFloat16 : DType.Float32;
    }

    static Tensor Frozen(Tensor t) => t.RequiresGrad ? t.Detach() : t;

    /// <summary>The quantized weight, read from the layer's current tensors (after a state dict load or a move too).</summary>
    public Quantized4Bit Quantized => new()
    {
        Packed = Weight,
        Type = _meta.Type,
        Blocksize = _meta.Blocksize,
        Shape = _meta.Shape,
        DType = _meta.DType,
        QuantMap = TensorMember("quant_map")!,
        Absmax = TensorMember("absmax")!,
        NestedAbsmax = TensorMember("nested_absmax"),
        NestedQuantMap = TensorMember("nested_quant_map"),
        NestedOffset = TensorMember("nested_offset") is { } o ? o.Cpu().ToArray<float>()[0] : 0f,
        NestedBlocksize = _meta.NestedBlocksize,
    };
    /// <summary>
    /// The dtype the product runs in (<c>bnb_4bit_compute_dtype</c>): the input is cast to it and the product rounded to
    /// it, accumulating in float32; the output comes back in the input's dtype, as bitsandbytes returns it.
    /// </summary>
    public DType ComputeDType { get; set; }

    readonly Quantized4Bit _meta;   // type, block sizes, shape, dtype: what the tensors do not say
    float[] _absmax = [];
    Tensor? _codeF32;
    (int, int, int, int, Device) _cacheKey = (-1, -1, -1, -1, Device.Cpu);

    // The decoded absmax per block and the code table as float32, rebuilt when a statistics tensor changed (its version) or moved.
    float[] BlockScales()
    {
        var key = (TensorMember("absmax")!.Version, TensorMember("nested_absmax")?.Version ?? 0, TensorMember("nested_offset")?.Version ?? 0, TensorMember("quant_map")!.Version, Weight.Device);
        if (key == _cacheKey) return _absmax;
        var q = Quantized;
        _absmax = q.BlockAbsmax();
        _codeF32 = q.QuantMap.Cpu().To(DType.Float32).Contiguous();
        _cacheKey = key;
        return _absmax;
    }

    Tensor? _deviceScales;

    /// <summary>The weight as float32 [out, in], on the layer's device (a CUDA layer dequantizes there, one kernel).</summary>
    public Tensor DequantizedWeight()
    {
        if (!Weight.IsCuda) return Quantized.Dequantize(DType.Float32);
        var (table, scales) = DeviceTables();
        var y = Tensor.Empty([OutFeatures, InFeatures], DType.Float32, Weight.Device);
        Kiln.Gpu.GpuOps.Dequantize4Bit(y, Weight.Contiguous(), table, scales, _meta.Blocksize);
        return y;
    }

    /// <summary>The code table and the decoded absmax per block as float32 on the layer's CUDA device (the scales kept until the statistics change).</summary>
    (Tensor Table, Tensor Scales) DeviceTables()
    {
        var key = _cacheKey;
        var scales = BlockScales();
        if (_deviceScales is null || key != _cacheKey || _deviceScales.Device != Weight.Device)
            _deviceScales = Tensor.From(scales, scales.Length).To(Weight.Device);
        return (TensorMember("quant_map")!.To(DType.Float32).Contiguous(), _deviceScales);
    }

    /// <summary>A few rows' product on the CUDA device straight from the packed codes (the weight never dequantized).</summary>
    void DeviceProduct(int m, Tensor x, Tensor? bias, Tensor y)
    {
        var (table, scales) = DeviceTables();
        Kiln.Gpu.GpuOps.FusedMatmul4Bit(y, x, Weight.Contiguous(), table, scales, bias, m, InFeatures, OutFeatures, _meta.Blocksize);
    }

    /// <summary>Adds <paramref name="delta"/> [out, in] to the weight and quantizes again (how an adapter is merged into a 4-bit base).</summary>
    public void AddToWeight(Tensor delta)
    {
        using var _ = Autograd.NoGrad();
        var current = Quantized;
        var merged = DequantizedWeight().Add(delta.To(DType.Float32));
        var q = Quantized4Bit.Quantize(merged.To(current.DType), current.Type, current.Blocksize, current.DoubleQuant);
        // Same sizes: the codes and statistics are copied into the tensors this layer (and any wrapper) already shares.
        var device = Weight.Device;
        Weight.Copy_(q.Packed.To(device));
        TensorMember("absmax")!.Copy_(q.Absmax.To(device));
        TensorMember("nested_absmax")?.Copy_(q.NestedAbsmax!.To(device));
        TensorMember("nested_offset")?.Copy_(Tensor.From([q.NestedOffset], 1).To(device));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        QuantizedMatmul.Linear("linear_4bit", input, Bias, InFeatures, OutFeatures, ComputeDType, DequantizedWeight, CanFuse ? FusedProduct : null,
            Weight.IsCuda && InFeatures % 2 == 0 && _meta.Blocksize % 2 == 0 ? DeviceProduct : null, Weight.IsCuda ? null : BlockedProduct,
            Weight.IsCuda ? null : InputGradProduct);

    /// <summary>More rows on the CPU: the blocked GEMM, each panel of the weight dequantized as it is packed.</summary>
    unsafe void BlockedProduct(int m, float* x, float* bias, float* y)
    {
        var scales = BlockScales();
        fixed (byte* p = Weight.AsSpan<byte>()) fixed (float* a = scales) fixed (float* c = _codeF32!.AsSpan<float>())
            Kiln.Kernels.Gemm.Sgemm.MultiplyDequantized(m, OutFeatures, InFeatures, x, InFeatures, new Kernels.FourBitWeight(p, c, a, _meta.Blocksize, InFeatures),
                y, OutFeatures, new Kiln.Kernels.Gemm.GemmEpilogue { ColumnBias = bias });
    }

    /// <summary>The input gradient on the CPU, dx = g·W, by the same GEMM (W's panels dequantized as packed).</summary>
    unsafe void InputGradProduct(int m, float* g, float* unused, float* dx)
    {
        var scales = BlockScales();
        fixed (byte* p = Weight.AsSpan<byte>()) fixed (float* a = scales) fixed (float* c = _codeF32!.AsSpan<float>())
            Kiln.Kernels.Gemm.Sgemm.MultiplyByDequantized(m, InFeatures, OutFeatures, g, OutFeatures, new Kernels.FourBitWeight(p, c, a, _meta.Blocksize, InFeatures), dx, InFeatures);
    }

    unsafe void FusedProduct(int m, float* x, float* bias, float* y)
    {
        var scales = BlockScales();
        fixed (byte* p = Weight.AsSpan<byte>()) fixed (float* a = scales) fixed (float* c = _codeF32!.AsSpan<float>())
            Kernels.FourBitKernels.FusedMatmul(m, OutFeatures, InFeatures, x, p, c, a, _meta.Blocksize, bias, y);
    }

    /// <summary>True when the fused kernel applies to this layer (blocks never straddle a row).</summary>
    internal bool CanFuse => InFeatures % _meta.Blocksize == 0 && InFeatures % 32 == 0 && !Weight.IsCuda;

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={Py(Bias is not null)}, quant_type={Quantized4Bit.TypeName(_meta.Type)}, blocksize={_meta.Blocksize}";
}
