using System;
using System.Numerics;

namespace Kiln.Quantization;

/// <summary>
/// The float32 sum of a contiguous vector in the order PyTorch's CPU kernel adds it (8-lane vectors, four interleaved
/// partial sums with a cascade over 2^k-long runs, the scalar tail, then the lanes), so double quantization's offset —
/// <c>absmax.mean()</c> in the reference — comes out bit for bit and the quant-state JSON is byte-identical.
/// </summary>
internal static class TorchSum
{
    const int Lanes = 8, Ilp = 4, Levels = 4;

    public static float Mean(ReadOnlySpan<float> a) => Sum(a) / a.Length;

    public static float Sum(ReadOnlySpan<float> a)
    {
        var arr = a.ToArray();
        if (a.Length < Lanes) return RowSum(a.Length, 1, i => arr[i])[0];
        int vectors = a.Length / Lanes;
        var lanes = RowSum(vectors, Lanes, i => arr[i]);
        float total = 0;
        for (int k = vectors * Lanes; k < a.Length; k++) total += a[k];
        for (int l = 0; l < Lanes; l++) total += lanes[l];
        return total;
    }

    // row_sum over `count` items of `width` floats (item i at element i·width): four interleaved partial sums through the
    // cascade, leftover items into the first, then the four folded left to right.
    static float[] RowSum(int count, int width, Func<int, float> at)
    {
        int groups = count / Ilp;
        var partial = MultiRowSum(groups, width, at);
        for (int i = groups * Ilp; i < count; i++) Add(partial[0], i, width, at);
        for (int k = 1; k < Ilp; k++)
            for (int l = 0; l < width; l++) partial[0][l] += partial[k][l];
        return partial[0];
    }

    static float[][] MultiRowSum(int size, int width, Func<int, float> at)
    {
        int levelPower = Math.Max(4, CeilLog2(size) / Levels), levelStep = 1 << levelPower, levelMask = levelStep - 1;
        var acc = new float[Levels][][];
        for (int j = 0; j < Levels; j++) { acc[j] = new float[Ilp][]; for (int k = 0; k < Ilp; k++) acc[j][k] = new float[width]; }
        int i = 0;
        for (; i + levelStep <= size; i += levelStep)
        {
            for (int j = 0; j < levelStep; j++)
                for (int k = 0; k < Ilp; k++) Add(acc[0][k], (i + j) * Ilp + k, width, at);
            for (int j = 1; j < Levels; j++)
            {
                for (int k = 0; k < Ilp; k++)
                    for (int l = 0; l < width; l++) { acc[j][k][l] += acc[j - 1][k][l]; acc[j - 1][k][l] = 0; }
                if (((i + levelStep) & (levelMask << (j * levelPower))) != 0) break;
            }
        }
        for (; i < size; i++)
            for (int k = 0; k < Ilp; k++) Add(acc[0][k], i * Ilp + k, width, at);
        for (int j = 1; j < Levels; j++)
            for (int k = 0; k < Ilp; k++)
                for (int l = 0; l < width; l++) acc[0][k][l] += acc[j][k][l];
        return acc[0];
    }

    static void Add(float[] into, int item, int width, Func<int, float> at)
    {
        for (int l = 0; l < width; l++) into[l] += at(item * width + l);
    }

    static int CeilLog2(int x) => x <= 1 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)(x - 1));
}
