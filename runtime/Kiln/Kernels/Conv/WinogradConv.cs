using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kiln.Kernels.Gemm;

namespace Kiln.Kernels.Conv;

/// <summary>
/// Winograd F(2×2, 3×3) for stride-1, undilated, ungrouped 3×3 float convolutions on AVX-512 (Lavin and Gray, 2015):
/// every 2×2 block of outputs (a tile) comes from a 4×4 block of input, and in the transformed domain the correlation
/// becomes 16 independent products over channels, M[ξ] = U[ξ]ᵀ·V[ξ], with U = G·g·Gᵀ the transformed weights and
/// V = Bᵀ·d·B the transformed input tiles; the outputs are Aᵀ·M·A. That is 16 multiplies per tile and channel pair where
/// the direct form takes 36: 2.25x fewer, at the cost of two cheap transforms (adds and subtracts only, so the result
/// stays within a few ulps of the direct sum). Its channels-by-tiles products run on the convolution micro-kernel.
/// The transforms work on eight tiles of a tile row at a time, two such runs to a 16-lane vector (AVX-512's two-source
/// permutes split even and odd columns); tile rows are rounded up to eight tiles, the extra ones computed and dropped.
/// Work is cut into blocks of a few tile rows of one image (its transformed tiles and their products stay in L2),
/// spread over threads. The weight gradient (WinogradConv.WeightGrad.cs) is the same algorithm transposed.
/// </summary>
internal static unsafe partial class WinogradConv
{
    /// <summary>Transform positions ξ of a 4×4 tile.</summary>
    const int Positions = 16;
    /// <summary>Tiles of one tile row a transform takes at once (half a vector).</summary>
    const int Run = 8;
    /// <summary>Output-channel rows of the micro-kernel.</summary>
    const int Mr = ConvMicroKernel512.MR;
    /// <summary>Tiles a block aims for: one micro-kernel width, so its products stay in L2 beside the weights.</summary>
    const int BlockTiles = ConvMicroKernel512.NR;

    /// <summary>
    /// Whether forwards, input gradients (which run as forwards) and weight gradients take this route; on by default,
    /// KILN_WINOGRAD=0 starts a process with it off.
    /// </summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("KILN_WINOGRAD") != "0";

    /// <summary>
    /// Whether this convolution takes the Winograd route: a 3×3 stride-1 layer with enough channels that the products
    /// dominate (16 or more each way) and tile rows that rounding up to whole runs of eight tiles grows by at most a
    /// third (6-8 tiles, outputs 11-16 wide, or 12 and more; 14 × 14 outputs with 256 channels: forward 22.5 → 14.9 ms).
    /// </summary>
    public static bool Handles(ConvKernel.Shape s)
    {
        var g = s.G;
        if (!Enabled || !Avx512F.IsSupported || !Sgemm.UseAvx512 || s.Groups != 1 || g.KH != 3 || g.KW != 3
            || g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1 || g.PH > 2 || g.PW > 2 || s.OH < 2)
            return false;
        int tilesX = (s.OW + 1) / 2;
        return s.C >= 16 && s.O >= 16 && RoundUp(tilesX, Run) * 3 <= tilesX * 4;
    }

    static int RoundUp(int v, int m) => (v + m - 1) / m * m;

    /// <summary>Geometry of one call: tiles, blocks of tile rows, and the sizes of the per-thread buffers.</summary>
    readonly struct Plan
    {
        public readonly int TilesY, TilesX8, RowsPerBlock, BlocksPerImage, Tcap, OPad;
        /// <summary>
        /// Floats between two positions' planes of transformed tiles and of products: one cache line more than the
        /// plane, so the 16 planes a transform writes or reads together do not all fall in one L1 set (their natural
        /// sizes are multiples of 4 KiB: 16 lines into a 12-way set missed on every vector).
        /// </summary>
        public readonly long VPlane, MPlane;

        public Plan(ConvKernel.Shape s)
        {
            TilesY = (s.OH + 1) / 2;
            TilesX8 = RoundUp((s.OW + 1) / 2, Run);
            RowsPerBlock = Math.Clamp(BlockTiles / TilesX8, 1, TilesY);
            BlocksPerImage = (TilesY + RowsPerBlock - 1) / RowsPerBlock;
            Tcap = RoundUp(RowsPerBlock * TilesX8, 16);
            OPad = RoundUp(s.O, Mr);
            VPlane = (long)s.C * Tcap + 16;
            MPlane = (long)OPad * Tcap + 16;
        }
    }

    /// <summary>y = conv(x, w) + bias for a shape <see cref="Handles"/> accepts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ConvKernel.Shape s, float* x, float* w, float* bias, float* y)
    {
        var p = new Plan(s);
        int c = s.C;
        float* u = ConvScratch.Get(ConvScratch.Weights, (long)Positions * p.OPad * c);
        TransformWeights(w, s.O, c, p.OPad, u);
        var offsets = new long[c];
        for (int k = 0; k < c; k++) offsets[k] = (long)k * p.Tcap;
        long items = (long)s.N * p.BlocksPerImage;
        Threads.For(items, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (i0, i1) =>
        {
            float* vt = ConvScratch.Get(ConvScratch.Panel, (long)Positions * p.VPlane);
            float* mt = ConvScratch.Get(ConvScratch.Output, (long)Positions * p.MPlane);
            fixed (long* off = offsets)
                for (long item = i0; item < i1; item++)
                {
                    long n = item / p.BlocksPerImage;
                    int tr0 = (int)(item % p.BlocksPerImage) * p.RowsPerBlock, rows = Math.Min(p.RowsPerBlock, p.TilesY - tr0);
                    int tiles = InputTransform(x + n * c * s.H * s.W, s, p, tr0, rows, vt);
                    Multiply(u, vt, off, c, p, tiles, mt);
                    OutputTransform(mt, bias, s, p, tr0, rows, y + n * s.O * s.OH * s.OW);
                }
        });
    }

    /// <summary>
    /// U[ξ] = G·g·Gᵀ for every (o, c), packed for the micro-kernel: [ξ][channel panel of <see cref="Mr"/>][c][Mr],
    /// zeros past the last output channel. G's rows are (1, 0, 0), (½, ½, ½), (½, -½, ½), (0, 0, 1).
    /// </summary>
    static void TransformWeights(float* w, int o, int c, int oPad, float* u)
    {
        int panels = oPad / Mr;
        float* t = stackalloc float[12];
        for (int oc = 0; oc < oPad; oc++)
            for (int ic = 0; ic < c; ic++)
            {
                long at(int xi) => (((long)xi * panels + oc / Mr) * c + ic) * Mr + oc % Mr;
                if (oc >= o)
                {
                    for (int xi = 0; xi < Positions; xi++) u[at(xi)] = 0f;
                    continue;
                }
                float* g = w + ((long)oc * c + ic) * 9;
                for (int r = 0; r < 3; r++)   // t = g·Gᵀ, 3 × 4
                {
                    float g0 = g[r * 3], g1 = g[r * 3 + 1], g2 = g[r * 3 + 2];
                    t[r * 4] = g0;
                    t[r * 4 + 1] = 0.5f * (g0 + g1 + g2);
                    t[r * 4 + 2] = 0.5f * (g0 - g1 + g2);
                    t[r * 4 + 3] = g2;
                }
                for (int j = 0; j < 4; j++)   // U = G·t, 4 × 4
                {
                    float t0 = t[j], t1 = t[4 + j], t2 = t[8 + j];
                    u[at(j)] = t0;
                    u[at(4 + j)] = 0.5f * (t0 + t1 + t2);
                    u[at(8 + j)] = 0.5f * (t0 - t1 + t2);
                    u[at(12 + j)] = t2;
                }
            }
    }

    /// <summary>
    /// V = Bᵀ·d·B of every tile of the block, read straight from the image (lanes outside it load as zeros: the padding),
    /// stored [ξ][c][tile] with the block's tiles in tile-row order (rows of TilesX8). Bᵀ's rows are (1, 0, -1, 0),
    /// (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1). Returns the tiles written (a multiple of 16: the half vector past an
    /// odd last run reads as zeros, its products computed and dropped).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int InputTransform(float* x, ConvKernel.Shape s, Plan p, int tr0, int rows, float* vt)
    {
        int runsPerRow = p.TilesX8 / Run, runs = rows * runsPerRow, vectors = (runs + 1) / 2;
        long ldv = p.VPlane, plane = (long)s.H * s.W;
        var at = stackalloc RunAt[2 * vectors];
        for (int v = 0; v < vectors; v++)
        {
            at[2 * v] = InputRun(s, tr0, 2 * v, runsPerRow);
            at[2 * v + 1] = 2 * v + 1 < runs ? InputRun(s, tr0, 2 * v + 1, runsPerRow) : RunAt.Absent(s.W);
        }
        // Channel by channel, so each channel's rows of the block are read in one sequential sweep; the next
        // channel's rows are prefetched meanwhile (a plane apart, the hardware prefetchers miss them).
        int y0 = Math.Max(0, 2 * tr0 - s.G.PH), y1 = Math.Min(s.H, 2 * (tr0 + rows) + 2 - s.G.PH);
        long first = (long)y0 * s.W, span = Math.Max(0, y1 - y0) * (long)s.W;
        for (int ch = 0; ch < s.C; ch++)
        {
            float* img = x + ch * plane;
            if (ch + 1 < s.C)
                for (long i = 0; i < span; i += 16) Sse.Prefetch0(img + plane + first + i);
            for (int v = 0; v < vectors; v++)
            {
                ref readonly RunAt ra = ref at[2 * v], rb = ref at[2 * v + 1];
                float* dst = vt + (long)ch * p.Tcap + 16 * v;
                Columns(img, ra, rb, 0, s.H, s.W, out var e00, out var e01, out var e02, out var e03);
                Columns(img, ra, rb, 1, s.H, s.W, out var e10, out var e11, out var e12, out var e13);
                Columns(img, ra, rb, 2, s.H, s.W, out var e20, out var e21, out var e22, out var e23);
                Columns(img, ra, rb, 3, s.H, s.W, out var e30, out var e31, out var e32, out var e33);
                (e00 - e20).Store(dst);
                (e01 - e21).Store(dst + ldv);
                (e02 - e22).Store(dst + 2 * ldv);
                (e03 - e23).Store(dst + 3 * ldv);
                (e10 + e20).Store(dst + 4 * ldv);
                (e11 + e21).Store(dst + 5 * ldv);
                (e12 + e22).Store(dst + 6 * ldv);
                (e13 + e23).Store(dst + 7 * ldv);
                (e20 - e10).Store(dst + 8 * ldv);
                (e21 - e11).Store(dst + 9 * ldv);
                (e22 - e12).Store(dst + 10 * ldv);
                (e23 - e13).Store(dst + 11 * ldv);
                (e10 - e30).Store(dst + 12 * ldv);
                (e11 - e31).Store(dst + 13 * ldv);
                (e12 - e32).Store(dst + 14 * ldv);
                (e13 - e33).Store(dst + 15 * ldv);
            }
        }
        return vectors * 16;
    }

    /// <summary>Where run <paramref name="run"/> of a block's tiles reads the input: 2 rows and 16 columns per tile row and run, less the padding.</summary>
    static RunAt InputRun(ConvKernel.Shape s, int tr0, int run, int runsPerRow) =>
        new(2 * (tr0 + run / runsPerRow) - s.G.PH, 2 * (run % runsPerRow) * Run - s.G.PW, s.W);

    /// <summary>Where a run of eight tiles reads an image (input or output gradient): its first row and column, and which lanes of its two loads lie inside.</summary>
    readonly struct RunAt
    {
        public readonly int Y, X;
        public readonly bool Inside0, Inside2;
        public readonly Vector512<float> Mask0, Mask2;

        public RunAt(int y, int x, int width)
        {
            Y = y;
            X = x;
            Inside0 = X >= 0 && X + 16 <= width;
            Inside2 = X + 2 >= 0 && X + 18 <= width;
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            Mask0 = Inside(lane + Vector512.Create(X), width);
            Mask2 = Inside(lane + Vector512.Create(X + 2), width);
        }

        /// <summary>The half vector past an odd last run: its row lies outside every image, so it loads as zeros.</summary>
        public static RunAt Absent(int width) => new(int.MinValue / 2, 0, width);

        static Vector512<float> Inside(Vector512<int> col, int w) =>
            (Vector512.GreaterThanOrEqual(col, Vector512<int>.Zero) & Vector512.LessThan(col, Vector512.Create(w))).AsSingle();
    }

    /// <summary>
    /// Row <paramref name="r"/> of the 4×4 input tiles of runs a and b (lanes 0-7 and 8-15) times B: columns 2t..2t+3 split
    /// into d0..d3 by even/odd permutes, then (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Columns(float* img, in RunAt a, in RunAt b, int r, int h, int w,
        out Vector512<float> e0, out Vector512<float> e1, out Vector512<float> e2, out Vector512<float> e3)
    {
        Split(img, a, b, r, 0, h, w, out var d0, out var d1);
        Split(img, a, b, r, 2, h, w, out var d2, out var d3);
        e0 = d0 - d2;
        e1 = d1 + d2;
        e2 = d2 - d1;
        e3 = d1 - d3;
    }

    /// <summary>
    /// Columns 2t + <paramref name="col"/> (even) and 2t + col + 1 (odd) of row <paramref name="r"/> of runs a and b's
    /// eight tiles each (lanes 0-7 and 8-15), zeros outside the h × w image: one load per run and two-source permutes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Split(float* img, in RunAt a, in RunAt b, int r, int col, int h, int w, out Vector512<float> even, out Vector512<float> odd)
    {
        int ya = a.Y + r, yb = b.Y + r;
        bool inA = (uint)ya < (uint)h, inB = (uint)yb < (uint)h;
        float* pa = img + (long)ya * w + a.X + col, pb = img + (long)yb * w + b.X + col;
        var va = col == 0 ? Load(pa, inA, a.Inside0, a.Mask0) : Load(pa, inA, a.Inside2, a.Mask2);
        var vb = col == 0 ? Load(pb, inB, b.Inside0, b.Mask0) : Load(pb, inB, b.Inside2, b.Mask2);
        even = Avx512F.PermuteVar16x32x2(va, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), vb);
        odd = Avx512F.PermuteVar16x32x2(va, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), vb);
    }

    /// <summary>16 floats from <paramref name="at"/>, zeros outside the image (a row above or below it, lanes left or right of it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Load(float* at, bool rowInside, bool lanesInside, Vector512<float> mask) =>
        !rowInside ? Vector512<float>.Zero : lanesInside ? Vector512.Load(at) : Avx512F.MaskLoad(at, mask, Vector512<float>.Zero);

    /// <summary>M[ξ] (OPad × tiles) = U[ξ]ᵀ·V[ξ] for the 16 positions, K split into the GEMM's KC blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Multiply(float* u, float* vt, long* off, int c, Plan p, int tiles, float* mt)
    {
        int panels = p.OPad / Mr;
        for (int xi = 0; xi < Positions; xi++)
        {
            float* b = vt + xi * p.VPlane;
            for (int q0 = 0; q0 < tiles; q0 += ConvMicroKernel512.NR)
            {
                int count = Math.Min(ConvMicroKernel512.NR, tiles - q0);
                for (int op = 0; op < panels; op++)
                {
                    float* cTile = mt + xi * p.MPlane + (long)op * Mr * p.Tcap + q0;
                    for (int pc = 0; pc < c; pc += Sgemm.KC)
                    {
                        int kc = Math.Min(Sgemm.KC, c - pc);
                        float* a = u + (((long)xi * panels + op) * c + pc) * Mr;
                        bool acc = pc > 0;
                        if (count == ConvMicroKernel512.NR) ConvMicroKernel512.Run(kc, a, b + q0, off + pc, 16, 32, cTile, p.Tcap, 1f, acc);
                        else if (count == 32) ConvMicroKernel512.Run32(kc, a, b + q0, off + pc, 16, cTile, p.Tcap, 1f, acc);
                        else ConvMicroKernel512.Run16(kc, a, b + q0, off + pc, cTile, p.Tcap, 1f, acc);
                    }
                }
            }
        }
    }

    /// <summary>
    /// y = Aᵀ·M·A + bias for every tile of the block (Aᵀ's rows (1, 1, 1, 0) and (0, 1, -1, -1)); outputs past the
    /// image (odd sizes, the tiles rounding added) are dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void OutputTransform(float* mt, float* bias, ConvKernel.Shape s, Plan p, int tr0, int rows, float* y)
    {
        int runsPerRow = p.TilesX8 / Run, runs = rows * runsPerRow, vectors = (runs + 1) / 2;
        long ldm = p.MPlane;
        var lo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var hi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        for (int o = 0; o < s.O; o++)
        {
            var vb = Vector512.Create(bias != null ? bias[o] : 0f);
            float* plane = y + (long)o * s.OH * s.OW;
            for (int v = 0; v < vectors; v++)
            {
                float* m = mt + (long)o * p.Tcap + 16 * v;
                Rows(m, 0, ldm, out var s00, out var s10);
                Rows(m, 1, ldm, out var s01, out var s11);
                Rows(m, 2, ldm, out var s02, out var s12);
                Rows(m, 3, ldm, out var s03, out var s13);
                var y00 = s00 + s01 + s02 + vb;
                var y01 = s01 - s02 - s03 + vb;
                var y10 = s10 + s11 + s12 + vb;
                var y11 = s11 - s12 - s13 + vb;
                StoreRun(plane, s, tr0, 2 * v, runsPerRow, 0, Avx512F.PermuteVar16x32x2(y00, lo, y01));
                StoreRun(plane, s, tr0, 2 * v, runsPerRow, 1, Avx512F.PermuteVar16x32x2(y10, lo, y11));
                if (2 * v + 1 < runs)
                {
                    StoreRun(plane, s, tr0, 2 * v + 1, runsPerRow, 0, Avx512F.PermuteVar16x32x2(y00, hi, y01));
                    StoreRun(plane, s, tr0, 2 * v + 1, runsPerRow, 1, Avx512F.PermuteVar16x32x2(y10, hi, y11));
                }
            }
        }
    }

    /// <summary>Column <paramref name="j"/> of Aᵀ·M for 16 tiles: (m0 + m1 + m2, m1 - m2 - m3) over M's rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Rows(float* m, int j, long ldm, out Vector512<float> s0, out Vector512<float> s1)
    {
        Vector512<float> m0 = Vector512.Load(m + j * ldm), m1 = Vector512.Load(m + (4 + j) * ldm),
            m2 = Vector512.Load(m + (8 + j) * ldm), m3 = Vector512.Load(m + (12 + j) * ldm);
        s0 = m0 + m1 + m2;
        s1 = m1 - m2 - m3;
    }

    /// <summary>Writes output row <paramref name="i"/> (0 or 1) of run <paramref name="run"/>'s eight tiles: 16 values, clipped to the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRun(float* plane, ConvKernel.Shape s, int tr0, int run, int runsPerRow, int i, Vector512<float> values)
    {
        int oy = 2 * (tr0 + run / runsPerRow) + i, ox = 2 * (run % runsPerRow) * Run;
        if (oy >= s.OH) return;
        float* dst = plane + (long)oy * s.OW + ox;
        int count = s.OW - ox;
        if (count >= 16)
        {
            values.Store(dst);
            return;
        }
        for (int k = 0; k < count; k++) dst[k] = values.GetElement(k);
    }
}
