using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace Kiln.Quantization;

/// <summary>
/// A tensor in bitsandbytes' 4-bit format (<c>Params4bit</c> + <c>QuantState</c>): the flattened values in blocks of
/// <see cref="Blocksize"/>, each stored as a 4-bit index into <see cref="QuantMap"/> (two per byte, the first in the high
/// nibble) and scaled by its block's absmax — kept as float32, or with double quantization as 8-bit codes of
/// (absmax − offset) in the dynamic map, blockwise (256) with their own float32 absmax.
/// </summary>
public sealed class Quantized4Bit
{
    /// <summary>The packed codes, uint8 [⌈n/2⌉, 1] (bitsandbytes' <c>weight</c>).</summary>
    public required Tensor Packed { get; init; }
    /// <summary>NF4 or FP4.</summary>
    public required QuantType Type { get; init; }
    /// <summary>Elements per absmax block.</summary>
    public required int Blocksize { get; init; }
    /// <summary>The original shape.</summary>
    public required int[] Shape { get; init; }
    /// <summary>The original dtype (what dequantization returns).</summary>
    public required DType DType { get; init; }
    /// <summary>The 16 code values, float32 (<c>quant_map</c>).</summary>
    public required Tensor QuantMap { get; init; }
    /// <summary>Per-block absmax: float32 [blocks], or with double quantization uint8 codes [blocks].</summary>
    public required Tensor Absmax { get; init; }
    /// <summary>Double quantization: float32 absmax of each 256 absmax codes, else null (<c>nested_absmax</c>).</summary>
    public Tensor? NestedAbsmax { get; init; }
    /// <summary>Double quantization: the 256-value dynamic map (<c>nested_quant_map</c>).</summary>
    public Tensor? NestedQuantMap { get; init; }
    /// <summary>Double quantization: the mean absmax subtracted before quantizing (<c>nested_offset</c>).</summary>
    public float NestedOffset { get; init; }
    /// <summary>Double quantization's block size (bitsandbytes: 256).</summary>
    public int NestedBlocksize { get; init; } = 256;

    /// <summary>True with double quantization (<c>compress_statistics</c>).</summary>
    public bool DoubleQuant => NestedAbsmax is not null;
    /// <summary>Number of elements.</summary>
    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);
    /// <summary>Number of absmax blocks.</summary>
    public int Blocks => (int)((Numel + Blocksize - 1) / Blocksize);
    /// <summary>Bytes held: codes, absmax (and nested statistics), maps.</summary>
    public long Bytes => Packed.Numel + Absmax.Numel * (DoubleQuant ? 1 : 4) + (NestedAbsmax?.Numel ?? 0) * 4 + (NestedQuantMap?.Numel ?? 0) * 4 + 16 * 4;

    /// <summary>
    /// Quantizes <paramref name="tensor"/> (float32, bfloat16 or float16) as <c>bitsandbytes.functional.quantize_4bit</c>
    /// does; <paramref name="doubleQuant"/> is its <c>compress_statistics</c>.
    /// </summary>
    public static Quantized4Bit Quantize(Tensor tensor, QuantType type = QuantType.Nf4, int blocksize = 64, bool doubleQuant = false)
    {
        Blockwise.CheckBlocksize("quantize_4bit", blocksize);
        if (tensor.DType is not (DType.Float32 or DType.BFloat16 or DType.Float16))
            throw new KilnException("quantize_4bit", $"quantize_4bit: only 16/32-bit floats can be quantized, got {tensor.DType}", KilnErrorKind.DType);
        var src = tensor.Cpu().To(DType.Float32).Contiguous();
        var values = src.AsSpan<float>();
        int n = values.Length, blocks = (n + blocksize - 1) / blocksize;
        var codes = new byte[n + 1];          // a spare slot: an odd count packs the code nearest 0 last, as bitsandbytes pads
        var absmax = new float[blocks];
        var table = Codebooks.For(type);
        Blockwise.Quantize(values, table, codeSorted: type == QuantType.Nf4, blocksize, codes, absmax);
        if (n % 2 == 1) codes[n] = Blockwise.Nearest(0f, table, type == QuantType.Nf4);
        var packed = Tensor.Empty([(n + 1) / 2, 1], DType.UInt8);
        var p = packed.AsSpan<byte>();
        for (int i = 0; i < p.Length; i++) p[i] = (byte)(codes[2 * i] << 4 | codes[2 * i + 1]);
        var map = Tensor.From(table.ToArray(), 16);
        if (!doubleQuant)
            return new Quantized4Bit { Packed = packed, Type = type, Blocksize = blocksize, Shape = tensor.Shape.ToArray(), DType = tensor.DType, QuantMap = map, Absmax = Tensor.From(absmax, blocks) };
        // Double quantization: the mean absmax off, the rest in 8 bits per value, blockwise over 256.
        float offset = TorchSum.Mean(absmax);
        var centred = new float[blocks];
        for (int i = 0; i < blocks; i++) centred[i] = absmax[i] - offset;
        int nestedBlocks = (blocks + 255) / 256;
        var qabs = new byte[blocks];
        var nested = new float[nestedBlocks];
        Blockwise.Quantize(centred, Codebooks.Dynamic, codeSorted: true, 256, qabs, nested);
        return new Quantized4Bit
        {
            Packed = packed,
            Type = type,
            Blocksize = blocksize,
            Shape = tensor.Shape.ToArray(),
            DType = tensor.DType,
            QuantMap = map,
            Absmax = Tensor.From(qabs, blocks),
            NestedAbsmax = Tensor.From(nested, nestedBlocks),
            NestedQuantMap = Tensor.From(Codebooks.Dynamic.ToArray(), 256),
            NestedOffset = offset,
        };
    }

    /// <summary>Each block's absmax as float32 (double quantization decoded: code·nested_absmax + offset).</summary>
    public float[] BlockAbsmax()
    {
        var result = new float[Blocks];
        if (!DoubleQuant) { Absmax.Cpu().Contiguous().AsSpan<float>().CopyTo(result); return result; }
        var q = Absmax.Cpu().Contiguous().AsSpan<byte>();
        var nested = NestedAbsmax!.Cpu().Contiguous().AsSpan<float>();
        var map = NestedQuantMap!.Cpu().Contiguous().AsSpan<float>();
        for (int i = 0; i < result.Length; i++) result[i] = map[q[i]] * nested[i / NestedBlocksize] + NestedOffset;
        return result;
    }

    /// <summary>The values back (<c>dequantize_4bit</c>), in <see cref="DType"/> unless <paramref name="dtype"/> is given.</summary>
    public Tensor Dequantize(DType? dtype = null)
    {
        var result = Tensor.Empty(Shape, DType.Float32);
        DequantizeInto(result.AsSpan<float>());
        var want = dtype ?? DType;
        return want == DType.Float32 ? result : result.To(want);
    }

    /// <summary>Writes the float32 values into <paramref name="destination"/> (length <see cref="Numel"/>).</summary>
    public void DequantizeInto(Span<float> destination)
    {
        if (destination.Length != Numel) throw new KilnException("dequantize_4bit", $"dequantize_4bit: destination holds {destination.Length} values, the tensor {Numel}", KilnErrorKind.Shape);
        Kernels.FourBitKernels.Dequantize(Packed.Cpu().Contiguous().AsSpan<byte>(), QuantMap.Cpu().Contiguous().AsSpan<float>(), BlockAbsmax(), Blocksize, destination);
    }

    /// <summary>The quant state's JSON as bitsandbytes packs it (<c>quant_state.bitsandbytes__nf4</c>: Python's json.dumps of its fields).</summary>
    public string QuantStateJson()
    {
        var sb = new StringBuilder();
        sb.Append("{\"quant_type\": \"").Append(TypeName(Type)).Append("\", \"blocksize\": ").Append(Blocksize.ToString(CultureInfo.InvariantCulture));
        sb.Append(", \"dtype\": \"").Append(DTypeName(DType)).Append("\", \"shape\": [").Append(string.Join(", ", Shape.Select(s => s.ToString(CultureInfo.InvariantCulture)))).Append(']');
        if (DoubleQuant)
            sb.Append(", \"nested_blocksize\": ").Append(NestedBlocksize.ToString(CultureInfo.InvariantCulture))
              .Append(", \"nested_dtype\": \"float32\", \"nested_offset\": ").Append(PythonFloat(NestedOffset));
        return sb.Append('}').ToString();
    }

    /// <summary>The tensors bitsandbytes saves for a weight under <paramref name="key"/> (e.g. <c>model.layers.0.mlp.up_proj.weight</c>).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> ToStateDict(string key)
    {
        yield return new(key, Packed);
        yield return new(key + ".absmax", Absmax);
        yield return new(key + ".quant_map", QuantMap);
        if (DoubleQuant)
        {
            yield return new(key + ".nested_absmax", NestedAbsmax!);
            yield return new(key + ".nested_quant_map", NestedQuantMap!);
        }
        var json = Encoding.UTF8.GetBytes(QuantStateJson());
        yield return new(key + ".quant_state.bitsandbytes__" + TypeName(Type), Tensor.From(json, json.Length));
    }

    /// <summary>True when <paramref name="tensors"/> holds a bitsandbytes 4-bit weight under <paramref name="key"/>.</summary>
    public static bool IsStored(IReadOnlyDictionary<string, Tensor> tensors, string key) =>
        tensors.ContainsKey(key + ".quant_state.bitsandbytes__nf4") || tensors.ContainsKey(key + ".quant_state.bitsandbytes__fp4");

    /// <summary>Reads a bitsandbytes 4-bit weight saved under <paramref name="key"/> (what <see cref="ToStateDict"/> writes).</summary>
    public static Quantized4Bit FromStateDict(IReadOnlyDictionary<string, Tensor> tensors, string key)
    {
        string? stateKey = tensors.ContainsKey(key + ".quant_state.bitsandbytes__nf4") ? key + ".quant_state.bitsandbytes__nf4"
            : tensors.ContainsKey(key + ".quant_state.bitsandbytes__fp4") ? key + ".quant_state.bitsandbytes__fp4" : null;
        if (stateKey is null) throw new KilnException("load_4bit", $"load_4bit: no quant_state.bitsandbytes__nf4/fp4 beside {key}");
        Tensor Need(string k) => tensors.TryGetValue(k, out var t) ? t : throw new KilnException("load_4bit", $"load_4bit: {k} is missing");
        JsonElement s;
        try { s = JsonDocument.Parse(Encoding.UTF8.GetString(Need(stateKey).Cpu().Contiguous().AsSpan<byte>())).RootElement; }
        catch (JsonException e) { throw new KilnException("load_4bit", $"load_4bit: {stateKey} is not the JSON bitsandbytes writes: {e.Message}"); }
        var type = s.GetProperty("quant_type").GetString() switch
        {
            "nf4" => QuantType.Nf4,
            "fp4" => QuantType.Fp4,
            var t => throw new KilnException("load_4bit", $"load_4bit: {stateKey}: unknown quant_type '{t}'"),
        };
        int[] shape = s.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var q = new Quantized4Bit
        {
            Packed = Need(key),
            Type = type,
            Blocksize = s.GetProperty("blocksize").GetInt32(),
            Shape = shape,
            DType = ParseDType(s.GetProperty("dtype").GetString()!, stateKey),
            QuantMap = Need(key + ".quant_map"),
            Absmax = Need(key + ".absmax"),
            NestedAbsmax = s.TryGetProperty("nested_offset", out _) ? Need(key + ".nested_absmax") : null,
            NestedQuantMap = s.TryGetProperty("nested_offset", out _) ? Need(key + ".nested_quant_map") : null,
            NestedOffset = s.TryGetProperty("nested_offset", out var off) ? (float)off.GetDouble() : 0f,
            NestedBlocksize = s.TryGetProperty("nested_blocksize", out var nb) ? nb.GetInt32() : 256,
        };
        q.Validate(key);
        return q;
    }

    /// <summary>Checks that the parts agree (sizes of codes, absmax, maps) so a corrupt file is named, not read out of bounds.</summary>
    void Validate(string key)
    {
        void Check(bool ok, string what) { if (!ok) throw new KilnException("load_4bit", $"load_4bit: {key}: {what}"); }
        Blockwise.CheckBlocksize("load_4bit", Blocksize);
        Check(Shape.All(d => d >= 0), $"negative shape [{string.Join(", ", Shape)}]");
        Check(Packed.DType == DType.UInt8 && Packed.Numel == (Numel + 1) / 2, $"packed codes should be {(Numel + 1) / 2} uint8 values for shape [{string.Join(", ", Shape)}], got {Packed.Numel} {Packed.DType}");
        Check(QuantMap.DType == DType.Float32 && QuantMap.Numel == 16, $"quant_map should be 16 float32 values, got {QuantMap.Numel} {QuantMap.DType}");
        Check(Absmax.Numel == Blocks && Absmax.DType == (DoubleQuant ? DType.UInt8 : DType.Float32),
            $"absmax should be {Blocks} {(DoubleQuant ? "uint8" : "float32")} values (blocksize {Blocksize}), got {Absmax.Numel} {Absmax.DType}");
        if (DoubleQuant)
        {
            Check(NestedBlocksize > 0 && NestedAbsmax!.Numel == (Blocks + NestedBlocksize - 1) / NestedBlocksize && NestedAbsmax.DType == DType.Float32,
                $"nested_absmax should be {(Blocks + NestedBlocksize - 1) / Math.Max(1, NestedBlocksize)} float32 values, got {NestedAbsmax!.Numel} {NestedAbsmax.DType}");
            Check(NestedQuantMap!.Numel == 256 && NestedQuantMap.DType == DType.Float32, $"nested_quant_map should be 256 float32 values, got {NestedQuantMap.Numel}");
        }
    }

    internal static string TypeName(QuantType t) => t == QuantType.Nf4 ? "nf4" : "fp4";

    static string DTypeName(DType d) => d switch
    {
        DType.Float32 => "float32",
        DType.BFloat16 => "bfloat16",
        DType.Float16 => "float16",
        _ => d.ToString().ToLowerInvariant(),
    };

    static DType ParseDType(string s, string key) => s.Replace("torch.", "", StringComparison.Ordinal) switch
    {
        "float32" => DType.Float32,
        "bfloat16" => DType.BFloat16,
        "float16" => DType.Float16,
        _ => throw new KilnException("load_4bit", $"load_4bit: {key}: unsupported dtype '{s}'"),
    };

    /// <summary>Python's <c>repr</c> of a float32 widened to double: the shortest round-trip digits (as .NET's "R"), <c>1e-05</c>-style exponents, <c>2.0</c> for integers.</summary>
    internal static string PythonFloat(float value)
    {
        // Both switch to an exponent below 1e-4; .NET writes "1E-05" where Python writes "1e-05". (Python stays positional
        // up to 1e16, .NET to 1e15: not a range absmax statistics reach.)
        string s = ((double)value).ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E')) return s.Replace('E', 'e');
        return s.Contains('.') || s.Contains("Infinity") || s == "NaN" ? s : s + ".0";
    }
}
