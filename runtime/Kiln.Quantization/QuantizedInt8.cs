using System;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.Quantization;

/// <summary>
/// A weight in LLM.int8's row-wise format (bitsandbytes' <c>Int8Params</c>): int8 codes round(W·127/absmax_row) (half to
/// even) and each row's absmax as float32 (<c>SCB</c>); W ≈ code·SCB/127.
/// </summary>
public sealed class QuantizedInt8
{
    /// <summary>The codes, int8 [rows, cols] (bitsandbytes' <c>weight</c>, <c>CB</c>).</summary>
    public required Tensor Codes { get; init; }
    /// <summary>Each row's absmax, float32 [rows] (<c>SCB</c>).</summary>
    public required Tensor Scb { get; init; }

    /// <summary>Rows (output features).</summary>
    public int Rows => Codes.Size(0);
    /// <summary>Columns (input features).</summary>
    public int Cols => Codes.Size(1);
    /// <summary>Bytes held.</summary>
    public long Bytes => Codes.Numel + Scb.Numel * 4;

    /// <summary>Quantizes a 2-D float weight row by row (<c>int8_vectorwise_quant</c> without outlier columns).</summary>
    public static QuantizedInt8 Quantize(Tensor weight)
    {
        if (weight.Dim != 2) throw new KilnException("quantize_int8", $"quantize_int8: expected a 2-D weight, got shape [{string.Join(", ", weight.Shape.ToArray())}]", KilnErrorKind.Shape);
        if (!weight.DType.IsFloatingPoint()) throw new KilnException("quantize_int8", $"quantize_int8: expected a floating-point weight, got {weight.DType}", KilnErrorKind.DType);
        var w = weight.Cpu().To(DType.Float32).Contiguous();
        int rows = w.Size(0), cols = w.Size(1);
        var src = w.AsSpan<float>();
        var codes = Tensor.Empty([rows, cols], DType.Int8);
        var c = codes.AsSpan<sbyte>();
        var scb = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = src.Slice(r * cols, cols);
            float max = 0;
            foreach (var v in row) max = Math.Max(max, Math.Abs(v));
            scb[r] = max;
            float scale = 127f / max;
            for (int j = 0; j < cols; j++)
            {
                float q = MathF.Round(row[j] * scale);   // ties to even, as torch.round
                c[r * cols + j] = float.IsNaN(q) ? (sbyte)0 : (sbyte)q;
            }
        }
        return new QuantizedInt8 { Codes = codes, Scb = Tensor.From(scb, rows) };
    }

    /// <summary>The float32 weight back: code·SCB·(1/127) (<c>int8_vectorwise_dequant</c>).</summary>
    public Tensor Dequantize()
    {
        var result = Tensor.Empty([Rows, Cols], DType.Float32);
        Kernels.Int8Kernels.Dequantize(Codes.Cpu().Contiguous().AsSpan<sbyte>(), Scb.Cpu().Contiguous().AsSpan<float>(), Cols, result.AsSpan<float>());
        return result;
    }

    /// <summary>The tensors bitsandbytes saves for a weight under <paramref name="key"/>: <c>weight</c>, <c>SCB</c> beside it, <c>weight_format</c> 0 (row-major).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> ToStateDict(string key)
    {
        string scb = ScbKey(key);
        yield return new(key, Codes);
        yield return new(scb, Scb);
        yield return new(scb[..^"SCB".Length] + "weight_format", Tensor.Zeros([], DType.UInt8));
    }

    /// <summary>True when <paramref name="tensors"/> holds an LLM.int8 weight under <paramref name="key"/>.</summary>
    public static bool IsStored(IReadOnlyDictionary<string, Tensor> tensors, string key) =>
        tensors.TryGetValue(key, out var w) && w.DType == DType.Int8 && tensors.ContainsKey(ScbKey(key));

    static string ScbKey(string key) => key.EndsWith(".weight", StringComparison.Ordinal) ? key[..^"weight".Length] + "SCB" : key + ".SCB";

    /// <summary>Reads an LLM.int8 weight saved under <paramref name="key"/>.</summary>
    public static QuantizedInt8 FromStateDict(IReadOnlyDictionary<string, Tensor> tensors, string key)
    {
        if (!tensors.TryGetValue(key, out var codes) || !tensors.TryGetValue(ScbKey(key), out var scb))
            throw new KilnException("load_int8", $"load_int8: {key} and {ScbKey(key)} are both needed");
        if (codes.DType != DType.Int8 || codes.Dim != 2) throw new KilnException("load_int8", $"load_int8: {key} should be a 2-D int8 tensor, got {codes.DType} [{string.Join(", ", codes.Shape.ToArray())}]");
        if (scb.DType != DType.Float32 || scb.Numel != codes.Size(0)) throw new KilnException("load_int8", $"load_int8: {ScbKey(key)} should hold {codes.Size(0)} float32 values, got {scb.Numel} {scb.DType}");
        return new QuantizedInt8 { Codes = codes, Scb = scb };
    }
}
