using System;

namespace Kiln.Quantization;

/// <summary>
/// The code tables of bitsandbytes' formats, values in [-1, 1] that a block's absmax scales: NF4 and FP4 (16 entries,
/// index = the 4-bit code) and the 8-bit signed dynamic map that double quantization stores absmax values with.
/// </summary>
public static class Codebooks
{
    /// <summary>NF4's 16 values (the QLoRA paper's normal quantiles, as bitsandbytes tabulates them).</summary>
    public static ReadOnlySpan<float> Nf4 =>
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
        -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
        0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    static readonly float[] Fp4Table = MakeFp4();
    static readonly float[] DynamicTable = MakeDynamic();

    /// <summary>FP4's 16 values in bitsandbytes' bit order (sign in bit 3; magnitudes 0, 1/192, 2/3, 1, 1/3, 1/2, 1/6, 1/4).</summary>
    public static ReadOnlySpan<float> Fp4 => Fp4Table;

    /// <summary>The 256-value signed dynamic map (<c>create_dynamic_map(signed=True)</c>), ascending.</summary>
    public static ReadOnlySpan<float> Dynamic => DynamicTable;

    /// <summary>The 4-bit table of <paramref name="type"/>.</summary>
    public static ReadOnlySpan<float> For(QuantType type) => type == QuantType.Nf4 ? Nf4 : Fp4;

    static float[] MakeFp4()
    {
        // e2m1 magnitudes in bitsandbytes' code order, normalised by the largest (12).
        float[] m = [0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f];
        var t = new float[16];
        for (int i = 0; i < 8; i++) { t[i] = m[i] / 12f; t[i + 8] = -m[i] / 12f; }
        return t;
    }

    static float[] MakeDynamic()
    {
        // Seven decades 1e-6..1: decade i holds 2^i means of a linear split of [0.1, 1] (float32 arithmetic, as torch
        // computes it), with both signs; plus 0 and 1.
        var data = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++)
        {
            int items = (1 << i) + 1;
            float scale = (float)Math.Pow(10, -6 + i);
            for (int j = 0; j + 1 < items; j++)
            {
                float mean = (Linspace(items, j) + Linspace(items, j + 1)) / 2f;
                data[n++] = scale * mean;
                data[n++] = -scale * mean;
            }
        }
        data[n++] = 0f;
        data[n++] = 1f;
        Array.Sort(data);
        return data;
    }

    // torch.linspace(0.1, 1, steps) in float32 exactly as the reference computes it (PyTorch's CPU kernel with 8-wide
    // AVX2 vectors): pairs of 8-lane chunks each start from start + step·i (or end − step·(steps−1−i) past halfway) with
    // one rounding (the compiler fuses it), then add step·k per lane; the tail is scalar, fused. The mathematically
    // rounded values differ from these by an ulp in a few entries, and a code chosen near a midpoint would follow.
    static float Linspace(int steps, int i)
    {
        const float start = 0.1f, end = 1f;
        float step = (end - start) / (steps - 1);
        int half = steps / 2, vectorEnd = steps / 16 * 16;
        float Fused(int at) => at < half ? MathF.FusedMultiplyAdd(step, at, start) : MathF.FusedMultiplyAdd(-step, steps - at - 1, end);
        if (i >= vectorEnd) return Fused(i);
        int chunk = i / 8 * 8;
        float lane = step * (i - chunk);
        return Fused(chunk) + lane;
    }
}
