using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Gemm;

namespace Kiln.Kernels.Conv;

// The weight gradient by Winograd F(3×3, 2×2): the forward's algorithm transposed. The forward computes
// y = Aᵀ[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]A for each tile; the weight gradient is that product's derivative by g summed over tiles,
// dW = Gᵀ[Σ over tiles (A·dy·Aᵀ) ⊙ (Bᵀ·d·B)]G, with dy the tile's 2×2 output gradient. The sum over tiles is, for each
// of the 16 positions ξ, a product with the tiles as its inner dimension: M[ξ] (O × C) += Dy[ξ] (O × tiles) · V[ξ]ᵀ.
internal static unsafe partial class WinogradConv
{
    /// <summary>
    /// Whether the weight gradient of this (forward) shape takes the route: as <see cref="Handles"/>, but with 16 input
    /// channels (its products one 16-wide micro-kernel tile) only where the direct route is the slow few-channel one
    /// (16 → 32 on 32 × 32 × 32 images: 1.9 ms direct, 2.2 here; 16 → 16: 2.2 direct, 1.3 here).
    /// </summary>
    public static bool HandlesWeightGrad(ConvKernel.Shape s) => Handles(s) && (s.C > 16 || s.O <= 16);

    /// <summary>dW = ∂(Σ y·dy)/∂w for a shape <see cref="HandlesWeightGrad"/> accepts (the forward's shape).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGrad(ConvKernel.Shape s, float* x, float* dy, float* dw)
    {
        var p = new Plan(s);
        int cPad = RoundUp(s.C, 16);
        long sumPlane = (long)p.OPad * cPad + 16;
        long items = (long)s.N * p.BlocksPerImage;
        int slots = (int)Math.Max(1, Math.Min(Threads.Count, items));
        long sumSize = Positions * sumPlane;
        float* sums = ConvScratch.Zeroed(ConvScratch.Partial, slots * sumSize);
        var offsets = new long[p.Tcap];
        for (int t = 0; t < p.Tcap; t++) offsets[t] = (long)t * cPad;
        Threads.For(slots, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
        {
            float* vt = ConvScratch.Get(ConvScratch.Panel, Positions * p.VPlane);
            float* gt = ConvScratch.Get(ConvScratch.Output, Positions * p.MPlane);
            // The rows past O of the last eight-channel panel: never written by the transform, read by the products
            // (whose sums there are never read): zeros, so no stale NaN or denormal slows the multiplies.
            for (int xi = 0; xi < Positions; xi++)
                new Span<float>(gt + xi * p.MPlane + (long)s.O * p.Tcap, (p.OPad - s.O) * p.Tcap).Clear();
            // Zeroed once: its columns past C stay zero for every block.
            float* vb = ConvScratch.Zeroed(ConvScratch.WinogradB, (long)p.Tcap * cPad);
            fixed (long* off = offsets)
                for (long slot = s0; slot < s1; slot++)
                    for (long item = items * slot / slots; item < items * (slot + 1) / slots; item++)
                    {
                        long n = item / p.BlocksPerImage;
                        int tr0 = (int)(item % p.BlocksPerImage) * p.RowsPerBlock, rows = Math.Min(p.RowsPerBlock, p.TilesY - tr0);
                        int tiles = InputTransform(x + n * s.C * s.H * s.W, s, p, tr0, rows, vt);
                        GradTransform(dy + n * s.O * s.OH * s.OW, s, p, tr0, rows, gt);
                        for (int xi = 0; xi < Positions; xi++)
                        {
                            // V[ξ] as rows of a tile's channels (the micro-kernel's B, small enough to stay in L1 for
                            // the product); Dy[ξ] is read where it lies, its channels' rows of tiles as A's rows.
                            ConvKernel.Transpose(vt + xi * p.VPlane, s.C, p.Tcap, vb, cPad);
                            Accumulate(gt + xi * p.MPlane, p.OPad, vb, off, cPad, tiles, sums + slot * sumSize + xi * sumPlane, p.Tcap);
                        }
                    }
        });
        for (int sl = 1; sl < slots; sl++)
            AddInto(sums, sums + sl * sumSize, sumSize);
        TransformGradient(sums, sumPlane, s.O, s.C, cPad, dw);
    }

    /// <summary>a[0..count) += b[0..count).</summary>
    static void AddInto(float* a, float* b, long count)
    {
        long i = 0;
        for (; i + 16 <= count; i += 16) (Vector512.Load(a + i) + Vector512.Load(b + i)).Store(a + i);
        for (; i < count; i++) a[i] += b[i];
    }

    /// <summary>
    /// A·dy·Aᵀ of every tile of the block (A's rows (1, 0), (1, 1), (1, -1), (0, -1)), stored [ξ][o][tile] like the
    /// input's transform. Output positions past the image — odd sizes, the tiles rounding added — and the half vector
    /// past an odd last run read as zeros, so they add nothing to the sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void GradTransform(float* dy, ConvKernel.Shape s, Plan p, int tr0, int rows, float* gt)
    {
        int runsPerRow = p.TilesX8 / Run, runs = rows * runsPerRow, vectors = (runs + 1) / 2;
        long ld = p.MPlane, plane = (long)s.OH * s.OW;
        var at = stackalloc RunAt[2 * vectors];
        for (int v = 0; v < 2 * vectors; v++)
            at[v] = v < runs ? new RunAt(2 * (tr0 + v / runsPerRow), 2 * (v % runsPerRow) * Run, s.OW) : RunAt.Absent(s.OW);
        for (int o = 0; o < s.O; o++)
        {
            float* img = dy + o * plane;
            for (int v = 0; v < vectors; v++)
            {
                ref readonly RunAt ra = ref at[2 * v], rb = ref at[2 * v + 1];
                Split(img, ra, rb, 0, 0, s.OH, s.OW, out var p0, out var q0);
                Split(img, ra, rb, 1, 0, s.OH, s.OW, out var p1, out var q1);
                float* dst = gt + (long)o * p.Tcap + 16 * v;
                Row(dst, ld, 0, p0, q0);
                Row(dst, ld, 1, p0 + p1, q0 + q1);
                Row(dst, ld, 2, p0 - p1, q0 - q1);
                Row(dst, ld, 3, -p1, -q1);
            }
        }
    }

    /// <summary>Row i of (A·dy)·Aᵀ from row i of A·dy, (p, q): (p, p + q, p - q, -q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row(float* dst, long ld, int i, Vector512<float> p, Vector512<float> q)
    {
        p.Store(dst + 4 * i * ld);
        (p + q).Store(dst + (4 * i + 1) * ld);
        (p - q).Store(dst + (4 * i + 2) * ld);
        (-q).Store(dst + (4 * i + 3) * ld);
    }

    /// <summary>
    /// M[ξ] (OPad × cPad) += Dy[ξ] · V[ξ]ᵀ over the block's tiles on the convolution micro-kernel, Dy[ξ]'s rows (output
    /// channels, <paramref name="tcap"/> apart) read where they lie.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Accumulate(float* dy, int oPad, float* vb, long* off, int cPad, int tiles, float* m, int tcap)
    {
        for (int op = 0; op < oPad / Mr; op++)
        {
            float* a = dy + (long)op * Mr * tcap, c = m + (long)op * Mr * cPad;
            for (int j = 0; j < cPad;)
            {
                // 48-wide tiles, but 64 as two 32s (a 16-wide tile is the least efficient).
                int left = cPad - j;
                if (left >= 48 && left != 64) { ConvMicroKernel512.RowsInPlace48(tiles, a, tcap, vb + j, off, 16, 32, c + j, cPad, 1f, true); j += 48; }
                else if (left >= 32) { ConvMicroKernel512.RowsInPlace32(tiles, a, tcap, vb + j, off, 16, c + j, cPad, 1f, true); j += 32; }
                else { ConvMicroKernel512.RowsInPlace16(tiles, a, tcap, vb + j, off, c + j, cPad, 1f, true); j += 16; }
            }
        }
    }

    /// <summary>
    /// dW[o, c] = Gᵀ·M·G (3 × 3 from 4 × 4) for every channel pair; Gᵀ's rows are (1, ½, ½, 0), (0, ½, -½, 0), (0, ½, ½, 1).
    /// </summary>
    static void TransformGradient(float* m, long plane, int o, int c, int cPad, float* dw)
    {
        float* t = stackalloc float[12];
        for (int oc = 0; oc < o; oc++)
            for (int ic = 0; ic < c; ic++)
            {
                long at = (long)oc * cPad + ic;
                for (int j = 0; j < 4; j++)   // t = Gᵀ·M, 3 × 4
                {
                    float m0 = m[j * plane + at], m1 = m[(4 + j) * plane + at], m2 = m[(8 + j) * plane + at], m3 = m[(12 + j) * plane + at];
                    t[j] = m0 + 0.5f * (m1 + m2);
                    t[4 + j] = 0.5f * (m1 - m2);
                    t[8 + j] = 0.5f * (m1 + m2) + m3;
                }
                float* g = dw + ((long)oc * c + ic) * 9;
                for (int r = 0; r < 3; r++)   // dW = t·G, 3 × 3
                {
                    float t0 = t[r * 4], t1 = t[r * 4 + 1], t2 = t[r * 4 + 2], t3 = t[r * 4 + 3];
                    g[r * 3] = t0 + 0.5f * (t1 + t2);
                    g[r * 3 + 1] = 0.5f * (t1 - t2);
                    g[r * 3 + 2] = 0.5f * (t1 + t2) + t3;
                }
            }
    }
}
