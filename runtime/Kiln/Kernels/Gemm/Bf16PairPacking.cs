using System;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Gemm;

/// <summary>
/// Packs bfloat16 operands for <see cref="Bf16DotMicroKernel"/>: k taken in pairs, each pair's two values one 32-bit word
/// (the first in the low half), so a dot-product instruction multiplies and sums both. An odd last k pairs with zero.
/// </summary>
internal static unsafe class Bf16PairPacking
{
    /// <summary>
    /// Rows [0, rows) of row-major bfloat16 A (rows <paramref name="rsa"/> apart), k in [0, kc), into MR-row panels
    /// (panel i at dst + i·MR·pairs, for each pair MR words); rows past the last are zero.
    /// </summary>
    /// <remarks>
    /// A pair is four bytes, as a float: with whole pairs in rows an even number of elements apart, the rows are a float32
    /// matrix of pairs and the float32 packer's register transposes lay them out (a batch-8 prompt's 256 rows were packed
    /// word by word, 5 % of the prompt).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(ushort* a, long rsa, int rows, int kc, uint* dst)
    {
        const int mr = Bf16DotMicroKernel.MR;
        int pairs = (kc + 1) / 2, whole = kc / 2;
        if (kc % 2 == 0 && rsa % 2 == 0)
        {
            Sgemm.PackA((float*)a, rsa / 2, 1, rows, pairs, mr, (float*)dst);
            return;
        }
        for (int ir = 0; ir < rows; ir += mr)
        {
            int valid = Math.Min(mr, rows - ir);
            uint* panel = dst + (long)ir * pairs;
            if (valid < mr) new Span<uint>(panel, pairs * mr).Clear();
            for (int r = 0; r < valid; r++)
            {
                ushort* row = a + (ir + r) * rsa;
                uint* o = panel + r;
                for (int p = 0; p < whole; p++) o[p * mr] = ((uint*)row)[p];
                if (whole < pairs) o[whole * mr] = row[kc - 1];
            }
        }
    }

    /// <summary>Pairs [from, pairs) of one W row into its panel column <paramref name="o"/> (words NR apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tail(ushort* row, int from, int whole, int pairs, int kc, uint* o)
    {
        const int nr = Bf16DotMicroKernel.NR;
        for (int p = from; p < whole; p++) o[p * nr] = ((uint*)row)[p];
        if (whole < pairs) o[whole * nr] = row[kc - 1];
    }

    /// <summary>
    /// Micro-panels [s, e) of a kc × nc block of B = Wᵀ, W's rows (B's columns) <paramref name="csb"/> apart in bfloat16:
    /// panel q at dst + q·NR·pairs, for each pair NR words; columns past the last are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(ushort* b, long csb, int kc, int nc, long s, long e, uint* dst)
    {
        const int nr = Bf16DotMicroKernel.NR;
        int pairs = (kc + 1) / 2, whole = kc / 2;
        for (long q = s; q < e; q++)
        {
            int col = (int)q * nr, valid = Math.Min(nr, nc - col);
            uint* panel = dst + q * nr * pairs;
            if (valid < nr) new Span<uint>(panel, pairs * nr).Clear();
            int j = 0;
            if (csb % 2 == 0)
            {
                // Eight columns by eight pairs at a time, transposed in registers as the float32 packer's 8 × 8 blocks (a
                // pair is four bytes, as a float): word by word a block of 256 × 2048 took 194 µs to pack.
                int p8 = whole / 8 * 8;
                for (; j + 8 <= valid; j += 8)
                {
                    ushort* row = b + (col + j) * csb, next = row + 8 * csb;
                    for (int p = 0; p < p8; p += 8)
                    {
                        if ((p & 15) == 0) Sgemm.FetchEightRows((byte*)(next + 2 * p), csb * sizeof(ushort));
                        Sgemm.Transpose8x8<Float32Elements>((byte*)(row + 2 * p), csb / 2, (float*)(panel + p * nr + j), nr);
                    }
                    for (int jj = 0; jj < 8; jj++) Tail(row + jj * csb, p8, whole, pairs, kc, panel + j + jj);
                }
            }
            for (; j < valid; j++) Tail(b + (col + j) * csb, 0, whole, pairs, kc, panel + j);
        }
    }
}
