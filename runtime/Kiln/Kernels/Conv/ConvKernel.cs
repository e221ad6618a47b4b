using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Attention;

namespace Kiln.Kernels.Conv;

/// <summary>
/// 2-D convolution one image at a time: each image's im2col columns live in a per-thread buffer (cache-resident)
/// and feed one GEMM per channel group, so the batch's full column matrix is never written to memory. Images are
/// spread over threads; backward recomputes the columns for the weight gradient and folds each image's column
/// gradient straight into its input gradient.
/// </summary>
internal static unsafe class ConvKernel
{
    public struct Shape
    {
        public int N, C, H, W, O, Groups, OH, OW;
        public ConvGeometry G;
        public int Cg => C / Groups;
        public int Og => O / Groups;
        public int Kk => G.KH * G.KW;
        public int L => OH * OW;
        public int ColRows => C * Kk;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(Shape s, T* x, T* w, T* bias, T* y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && WinogradConv.Handles(s))
        {
            WinogradConv.Forward(s, (float*)x, (float*)w, (float*)bias, (float*)y);
            return;
        }
        if (typeof(T) == typeof(float) && DirectConv.Handles(s) && PreferDirect(s.O))
        {
            DirectConv.Forward(s, (float*)x, (float*)w, (float*)bias, (float*)y);
            return;
        }
        if (typeof(T) == typeof(float) && s.Groups == 1 && s.G.SH == 1 && s.G.SW == 1)
        {
            ForwardStride1(s, (float*)x, (float*)w, (float*)bias, (float*)y);
            return;
        }
        if (typeof(T) == typeof(float) && s.Groups == 1 && s.ColRows <= 4096)
        {
            ForwardImplicit(s, (float*)x, (float*)w, (float*)bias, (float*)y);
            return;
        }
        long colSize = (long)s.ColRows * s.L;
        ForImages<T>(s.N, colSize, (n, buffer) =>
        {
            T* cols = buffer;
            Im2Col.Unfold(x + (long)n * s.C * s.H * s.W, cols, 1, s.C, s.H, s.W, s.G, s.OH, s.OW);
            T* yn = y + (long)n * s.O * s.L;
            int kg = s.Cg * s.Kk;
            for (int g = 0; g < s.Groups; g++)
                BlockGemm.Multiply(s.Og, s.L, kg, T.One, w + (long)g * s.Og * kg, kg, 1, cols + (long)g * kg * s.L, s.L, 1, T.Zero, yn + (long)g * s.Og * s.L, s.L);
            if (bias != null)
                for (int o = 0; o < s.O; o++)
                {
                    T b = bias[o];
                    T* row = yn + (long)o * s.L;
                    for (int l = 0; l < s.L; l++) row[l] += b;
                }
        });
    }

    /// <summary>
    /// Implicit-GEMM forward: outᵀ (pixels × O) = cols (pixels × C·kk) · Wᵀ, where each MR-pixel panel of cols is gathered
    /// straight from a zero-padded copy of the image into the micro-kernel's packed layout (no im2col matrix, no packing
    /// pass) and Wᵀ is packed once for the whole batch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ForwardImplicit(Shape s, float* x, float* w, float* bias, float* y)
    {
        int k = s.ColRows, o = s.O, l = s.L;
        using var packed = new Gemm.Sgemm.PackedB(k, o, w, 1, k);     // B[k, o] = W[o, k]
        int mr = packed.Mr, nr = packed.Nr, panels = (o + nr - 1) / nr;
        var (kBlocks, kcEven) = packed.KSplit;
        var (wp, planeP, koff) = Padding(s);
        int slots = Math.Max(1, Math.Min(Threads.Count, s.N));
        Threads.For(slots, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
        {
            float* xpad = ConvScratch.Zeroed(ConvScratch.Padded, s.C * planeP);
            float* panel = ConvScratch.Get(ConvScratch.Panel, (long)k * mr);
            float* tile = ConvScratch.Get(ConvScratch.Tile, mr * nr);
            long* pix = stackalloc long[mr];
            {
                fixed (long* ko = koff)
                    for (long slot = s0; slot < s1; slot++)
                        for (long n = s.N * slot / slots; n < s.N * (slot + 1) / slots; n++)
                        {
                            Padded.Fill(x + n * s.C * s.H * s.W, s.C, s.H, s.W, s.G.PH, s.G.PW, xpad);
                            float* yn = y + n * o * l;
                            for (int l0 = 0; l0 < l; l0 += mr)
                            {
                                int rows = Math.Min(mr, l - l0);
                                for (int i = 0; i < mr; i++)
                                {
                                    int li = l0 + Math.Min(i, rows - 1);   // pad rows repeat the last pixel; their results are dropped
                                    pix[i] = (long)(li / s.OW) * s.G.SH * wp + (long)(li % s.OW) * s.G.SW;
                                }
                                Gather(xpad, ko, pix, panel, k, mr);
                                for (int pn = 0; pn < panels; pn++)
                                {
                                    for (int pb = 0, pc = 0; pb < kBlocks; pb++, pc += kcEven)
                                        packed.Tile(pb, pn, Math.Min(kcEven, k - pc), panel + (long)pc * mr, tile, nr, pb > 0);
                                    int cols = Math.Min(nr, o - pn * nr);
                                    for (int j = 0; j < cols; j++)
                                    {
                                        int oc = pn * nr + j;
                                        float b = bias != null ? bias[oc] : 0f;
                                        float* dst = yn + (long)oc * l + l0;
                                        for (int i = 0; i < rows; i++) dst[i] = tile[i * nr + j] + b;
                                    }
                                }
                            }
                        }
            }
        });
    }

    /// <summary>
    /// Implicit-GEMM forward of a stride-1 convolution, output-stationary: out (O × positions) = W (O × C·kk) · cols. Row r
    /// of cols is the padded image read from koff[r] on, so the micro-kernel reads its panel of cols in place (vector j of
    /// row r at xpad + koff[r] + the vector's position: no copy, no gather) and W is packed once into MR-channel panels.
    /// Where output rows are whole vectors (width a multiple of the lanes) each vector is one run of real positions and the
    /// tiles go straight into the output; otherwise positions are taken on the padded width (q = oy·Wp + ox; the Wp - OW
    /// columns past each row are computed and dropped) into a per-thread buffer compacted once per image.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ForwardStride1(Shape s, float* x, float* w, float* bias, float* y)
    {
        int k = s.ColRows, o = s.O, l = s.L;
        bool wideKernel = Gemm.Sgemm.UseAvx512;
        int mr = wideKernel ? Gemm.ConvMicroKernel512.MR : Gemm.MicroKernel256.MR, nr = wideKernel ? Gemm.ConvMicroKernel512.NR : Gemm.MicroKernel256.NR;
        int lanes = wideKernel ? 16 : 8;
        bool rowVectors = s.OW % lanes == 0;
        var (wp, planeP, koff) = Padding(s);
        int positions = rowVectors ? l : (s.OH - 1) * wp + s.OW, ldw = (positions + nr - 1) / nr * nr;
        int oPanels = (o + mr - 1) / mr;
        int kBlocks = Math.Max(1, (k + Gemm.Sgemm.KC - 1) / Gemm.Sgemm.KC), kcEven = (k + kBlocks - 1) / kBlocks;
        // W packed per k-block: [block][oc panel][kc × MR], zero rows past O.
        float* packedW = ConvScratch.Get(ConvScratch.Weights, (long)oPanels * mr * k);
        for (int pb = 0, pc = 0; pb < kBlocks; pb++, pc += kcEven)
            Gemm.Sgemm.PackA(w + pc, k, 1, o, Math.Min(kcEven, k - pc), mr, packedW + (long)oPanels * mr * pc);
        int slots = Math.Max(1, Math.Min(Threads.Count, s.N));
        Threads.For(slots, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
        {
            // Slack past the last plane: the last padded-width panel reads up to NR positions beyond the last real one.
            float* xpad = ConvScratch.Zeroed(ConvScratch.Padded, s.C * planeP + nr + 16);
            float* wide = ConvScratch.Get(ConvScratch.Output, (long)oPanels * mr * (rowVectors ? nr : ldw));
            fixed (long* ko = koff)
                for (long slot = s0; slot < s1; slot++)
                    for (long n = s.N * slot / slots; n < s.N * (slot + 1) / slots; n++)
                    {
                        Padded.Fill(x + n * s.C * s.H * s.W, s.C, s.H, s.W, s.G.PH, s.G.PW, xpad);
                        float* yn = y + n * o * l;
                        for (int q0 = 0; q0 < positions; q0 += nr)
                        {
                            // Where the tile's vectors start in the padded image. An image's last tile may have fewer
                            // vectors (a narrower kernel), so every tile of a whole channel panel goes straight into y.
                            long b0 = q0, q1 = lanes, q2 = 2 * lanes;
                            int count = nr;
                            if (rowVectors)
                            {
                                count = Math.Min(nr, l - q0);
                                b0 = PaddedPosition(q0, s.OW, wp);
                                q1 = PaddedPosition(Math.Min(q0 + lanes, l - lanes), s.OW, wp) - b0;
                                q2 = PaddedPosition(Math.Min(q0 + 2 * lanes, l - lanes), s.OW, wp) - b0;
                            }
                            for (int pb = 0, pc = 0; pb < kBlocks; pb++, pc += kcEven)
                            {
                                int kc = Math.Min(kcEven, k - pc);
                                float* wBlock = packedW + (long)oPanels * mr * pc;
                                for (int op = 0; op < oPanels; op++)
                                {
                                    float* a = wBlock + (long)op * mr * kc, b = xpad + b0, c = wide + (long)op * mr * ldw + q0;
                                    long ldc = ldw;
                                    bool acc = pb > 0;
                                    if (rowVectors && (op + 1) * mr <= o) { c = yn + (long)op * mr * l + q0; ldc = l; }
                                    else if (rowVectors) { c = wide + (long)op * mr * nr; ldc = nr; }
                                    if (wideKernel)
                                    {
                                        if (count == nr) Gemm.ConvMicroKernel512.Run(kc, a, b, ko + pc, q1, q2, c, ldc, 1f, acc);
                                        else if (count == 2 * lanes) Gemm.ConvMicroKernel512.Run32(kc, a, b, ko + pc, q1, c, ldc, 1f, acc);
                                        else Gemm.ConvMicroKernel512.Run16(kc, a, b, ko + pc, c, ldc, 1f, acc);
                                    }
                                    else if (count == nr) Gemm.MicroKernel256.Run(kc, a, b, ko + pc, q1, c, ldc, 1f, acc);
                                    else Gemm.MicroKernel256.Run8(kc, a, b, ko + pc, c, ldc, 1f, acc);
                                }
                            }
                            if (rowVectors && o % mr != 0)
                            {
                                // The last channel panel's real rows.
                                int op = oPanels - 1;
                                for (int i = 0; op * mr + i < o; i++)
                                    new ReadOnlySpan<float>(wide + (long)(op * mr + i) * nr, count).CopyTo(new Span<float>(yn + (long)(op * mr + i) * l + q0, count));
                            }
                        }
                        for (int oc = 0; oc < o; oc++)
                        {
                            float b = bias != null ? bias[oc] : 0f;
                            if (rowVectors) { if (bias != null) AddBias(yn + (long)oc * l, yn + (long)oc * l, l, b); }
                            else
                                for (int oy = 0; oy < s.OH; oy++)
                                    AddBias(wide + (long)oc * ldw + (long)oy * wp, yn + (long)oc * l + (long)oy * s.OW, s.OW, b);
                        }
                    }
        });
    }

    /// <summary>Where output position q (row-major, <paramref name="ow"/> wide) lies on the padded width.</summary>
    static long PaddedPosition(int q, int ow, int wp) => (long)(q / ow) * wp + q % ow;

    /// <summary>dst = src + b over one output row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddBias(float* src, float* dst, int count, float b)
    {
        int i = 0;
        var vb = Vector256.Create(b);
        for (; i + 8 <= count; i += 8) (Vector256.Load(src + i) + vb).Store(dst + i);
        for (; i < count; i++) dst[i] = src[i] + b;
    }

    /// <summary>
    /// The zero-padded image the implicit GEMMs read: its row length, plane size, and the offset of every column-matrix
    /// row (c, ki, kj) inside it.
    /// </summary>
    static (int Wp, long PlaneP, long[] Koff) Padding(Shape s)
    {
        int hp = s.H + 2 * s.G.PH, wp = s.W + 2 * s.G.PW;
        long planeP = (long)hp * wp;
        var koff = new long[s.ColRows];
        for (int c = 0, r = 0; c < s.C; c++)
            for (int ki = 0; ki < s.G.KH; ki++)
                for (int kj = 0; kj < s.G.KW; kj++, r++)
                    koff[r] = c * planeP + (long)ki * s.G.DH * wp + (long)kj * s.G.DW;
        return (wp, planeP, koff);
    }

    /// <summary>
    /// Implicit-GEMM weight gradient: dWᵀ (C·kk × O) = Σ over images of cols (C·kk × pixels) · dYᵀ, with every MR-row panel
    /// of cols gathered from the padded image straight into the micro-kernel layout (no column matrix, no packing pass)
    /// and dYᵀ packed once per image. Each thread sums its images into its own dWᵀ; the sums are added and transposed at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WeightGradImplicit(Shape s, float* x, float* dy, float* dw)
    {
        int k = s.ColRows, o = s.O, l = s.L;
        var (wp, planeP, koff) = Padding(s);
        var pixAll = new long[l];
        for (int li = 0; li < l; li++) pixAll[li] = (long)(li / s.OW) * s.G.SH * wp + (long)(li % s.OW) * s.G.SW;
        int slots = Math.Max(1, Math.Min(Threads.Count, s.N));
        long wSize = (long)k * o;
        float* partial = ConvScratch.Zeroed(ConvScratch.Partial, slots * wSize);
        {
            Threads.For(slots, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
            {
                float* xpad = ConvScratch.Zeroed(ConvScratch.Padded, s.C * planeP);
                int mrMax = Gemm.MicroKernel512.MR, nrMax = Gemm.MicroKernel512.NR;
                float* panel = null;
                float* tile = ConvScratch.Get(ConvScratch.Tile, mrMax * nrMax);
                {
                    fixed (long* ko = koff, px = pixAll)
                        for (long slot = s0; slot < s1; slot++)
                        {
                            float* acc = partial + slot * wSize;    // dWᵀ of this thread's images, [k, o]
                            for (long n = s.N * slot / slots; n < s.N * (slot + 1) / slots; n++)
                            {
                                Padded.Fill(x + n * s.C * s.H * s.W, s.C, s.H, s.W, s.G.PH, s.G.PW, xpad);
                                using var packed = new Gemm.Sgemm.PackedB(l, o, dy + n * o * l, 1, l);   // B[pixel, o] = dY[o, pixel]
                                int mr = packed.Mr, nr = packed.Nr, panels = (o + nr - 1) / nr;
                                var (kBlocks, kcEven) = packed.KSplit;
                                if (panel == null) panel = ConvScratch.Get(ConvScratch.Panel, (long)kcEven * mr);
                                for (int r0 = 0; r0 < k; r0 += mr)
                                {
                                    int rows = Math.Min(mr, k - r0);
                                    for (int pb = 0, pc = 0; pb < kBlocks; pb++, pc += kcEven)
                                    {
                                        int kc = Math.Min(kcEven, l - pc);
                                        // panel[p·mr + i] = cols[r0 + i, pc + p] = xpad[koff[r0 + i] + pix[pc + p]]
                                        GatherTransposed(xpad, ko + r0, rows, px + pc, kc, panel, mr);
                                        for (int pn = 0; pn < panels; pn++)
                                        {
                                            int cols = Math.Min(nr, o - pn * nr);
                                            if (rows == mr && cols == nr)
                                                packed.Tile(pb, pn, kc, panel, acc + (long)r0 * o + pn * nr, o, true);
                                            else
                                            {
                                                packed.Tile(pb, pn, kc, panel, tile, nr, false);
                                                for (int i = 0; i < rows; i++)
                                                    for (int j = 0; j < cols; j++) acc[(long)(r0 + i) * o + pn * nr + j] += tile[i * nr + j];
                                            }
                                        }
                                    }
                                }
                            }
                        }
                }
            });
            SumTransposed(partial, slots, wSize, k, o, o, dw);
        }
    }

    /// <summary>dW[q, r] = Σ over the threads' slots of dWᵀ[r, q] (each slot [k, ld], <paramref name="wSize"/> floats apart).</summary>
    static void SumTransposed(float* partial, int slots, long wSize, int k, int o, int ld, float* dw)
    {
        for (int r = 0; r < k; r++)
            for (int q = 0; q < o; q++)
            {
                float a = 0;
                for (int sl = 0; sl < slots; sl++) a += partial[sl * wSize + (long)r * ld + q];
                dw[(long)q * k + r] = a;
            }
    }

    /// <summary>
    /// Weight gradient of a stride-1, ungrouped convolution on AVX-512: dWᵀ (C·kk × O) = Σ over images and output positions
    /// of x[tap offset + position] · dYᵀ[position, O]. Each image's dY is transposed once into rows of channels (zeros past
    /// O) and the taps' values are broadcast from the padded image where they lie, six taps per tile — no column matrix
    /// and no transposed gather. Positions are walked a few output rows at a time so that block of dYᵀ stays in L1 while
    /// every tap group reads it. Each thread sums its images into its own dWᵀ; the sums are added and transposed at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WeightGradStride1(Shape s, float* x, float* dy, float* dw)
    {
        const int mr = Gemm.ConvWeightGradKernel512.MR;
        int k = s.ColRows, o = s.O, l = s.L;
        int kPad = (k + mr - 1) / mr * mr, oPad = (o + 15) / 16 * 16;
        var (wp, planeP, koff) = Padding(s);
        // Taps past the last repeat it; their rows of dWᵀ are never read.
        var offsets = new long[kPad];
        for (int r = 0; r < kPad; r++) offsets[r] = koff[Math.Min(r, k - 1)];
        // Output rows per block: that block of dYᵀ within 32 KB (16 and 32 KB measured alike; the whole image slower).
        int rowsPerBlock = Math.Max(1, 8192 / (s.OW * oPad));
        int slots = Math.Max(1, Math.Min(Threads.Count, s.N));
        long wSize = (long)kPad * oPad;
        float* partial = ConvScratch.Zeroed(ConvScratch.Partial, slots * wSize);
        Threads.For(slots, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
        {
            float* xpad = ConvScratch.Zeroed(ConvScratch.Padded, s.C * planeP);
            float* dyT = ConvScratch.Zeroed(ConvScratch.Panel, (long)l * oPad);
            fixed (long* ko = offsets)
                for (long slot = s0; slot < s1; slot++)
                {
                    float* acc = partial + slot * wSize;    // dWᵀ of this thread's images, [kPad, oPad]
                    for (long n = s.N * slot / slots; n < s.N * (slot + 1) / slots; n++)
                    {
                        Padded.Fill(x + n * s.C * s.H * s.W, s.C, s.H, s.W, s.G.PH, s.G.PW, xpad);
                        Transpose(dy + n * o * l, o, l, dyT, oPad);
                        for (int y0 = 0; y0 < s.OH; y0 += rowsPerBlock)
                        {
                            int rows = Math.Min(rowsPerBlock, s.OH - y0);
                            float* xb = xpad + (long)y0 * wp, bb = dyT + (long)y0 * s.OW * oPad;
                            for (int r0 = 0; r0 < kPad; r0 += mr)
                                for (int j0 = 0; j0 < oPad;)
                                {
                                    float* c = acc + (long)r0 * oPad + j0;
                                    int vectors = (oPad - j0) / 16;
                                    if (vectors >= 4) { Gemm.ConvWeightGradKernel512.Run4(xb, ko + r0, rows, s.OW, wp, bb + j0, oPad, c, oPad); j0 += 64; }
                                    else if (vectors >= 2) { Gemm.ConvWeightGradKernel512.Run2(xb, ko + r0, rows, s.OW, wp, bb + j0, oPad, c, oPad); j0 += 32; }
                                    else { Gemm.ConvWeightGradKernel512.Run1(xb, ko + r0, rows, s.OW, wp, bb + j0, oPad, c, oPad); j0 += 16; }
                                }
                        }
                    }
                }
        });
        SumTransposed(partial, slots, wSize, k, o, oPad, dw);
    }

    /// <summary>
    /// dst[p·ld + j] = src[j·cols + p] for j &lt; rows, p &lt; cols: eight-by-eight blocks transposed in registers, the edges
    /// element by element. Columns rows..ld of dst are left as they are (zero).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose(float* src, int rows, int cols, float* dst, int ld)
    {
        int j = 0;
        if (Avx.IsSupported)
            for (; j + 8 <= rows; j += 8)
            {
                float* s0 = src + (long)j * cols;
                int p = 0;
                for (; p + 8 <= cols; p += 8)
                {
                    float* b = s0 + p;
                    Transpose8(Vector256.Load(b), Vector256.Load(b + cols), Vector256.Load(b + 2 * cols), Vector256.Load(b + 3 * cols),
                        Vector256.Load(b + 4 * cols), Vector256.Load(b + 5 * cols), Vector256.Load(b + 6 * cols), Vector256.Load(b + 7 * cols),
                        dst + (long)p * ld + j, ld, 8);
                }
                for (; p < cols; p++)
                    for (int i = 0; i < 8; i++) dst[(long)p * ld + j + i] = s0[(long)i * cols + p];
            }
        for (; j < rows; j++)
            for (int p = 0; p < cols; p++) dst[(long)p * ld + j] = src[(long)j * cols + p];
    }

    /// <summary>
    /// panel[p·mr + i] = xpad[rowOff[min(i, rows-1)] + pix[p]]: MR rows of the column matrix over kc pixels, pixel-major.
    /// Eight pixels that are neighbours in the padded image are loaded as one vector per row and transposed in registers
    /// (the 12-row AVX-512 panel as an 8×8 and a 4×8 block); anything else goes element by element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void GatherTransposed(float* xpad, long* rowOff, int rows, long* pix, int kc, float* panel, int mr)
    {
        float** src = stackalloc float*[16];
        for (int i = 0; i < mr; i++) src[i] = xpad + rowOff[Math.Min(i, rows - 1)];
        int p = 0;
        if (mr == 12 && Avx.IsSupported)
        {
            for (; p + 8 <= kc; p += 8)
            {
                long b = pix[p];
                if (pix[p + 7] != b + 7) { Scalar(p, p + 8); continue; }
                float* d = panel + (long)p * 12;
                Transpose8(Vector256.Load(src[0] + b), Vector256.Load(src[1] + b), Vector256.Load(src[2] + b), Vector256.Load(src[3] + b),
                    Vector256.Load(src[4] + b), Vector256.Load(src[5] + b), Vector256.Load(src[6] + b), Vector256.Load(src[7] + b), d, 12, 8);
                var z = Vector256<float>.Zero;
                Transpose8(Vector256.Load(src[8] + b), Vector256.Load(src[9] + b), Vector256.Load(src[10] + b), Vector256.Load(src[11] + b),
                    z, z, z, z, d + 8, 12, 4);
            }
        }
        Scalar(p, kc);

        void Scalar(int from, int to)
        {
            for (int q = from; q < to; q++)
            {
                float* d = panel + (long)q * mr;
                long off = pix[q];
                for (int i = 0; i < mr; i++) d[i] = src[i][off];
            }
        }
    }

    /// <summary>Transposes eight row vectors and stores the first <paramref name="width"/> lanes of each column at dst + q·stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* dst, int stride, int width)
    {
        RegisterTranspose.Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Store(r0, dst);
        Store(r1, dst + stride);
        Store(r2, dst + 2 * stride);
        Store(r3, dst + 3 * stride);
        Store(r4, dst + 4 * stride);
        Store(r5, dst + 5 * stride);
        Store(r6, dst + 6 * stride);
        Store(r7, dst + 7 * stride);

        void Store(Vector256<float> v, float* at)
        {
            if (width == 8) v.Store(at);
            else v.GetLower().Store(at);
        }
    }

    /// <summary>
    /// panel[r·mr + i] = xpad[pix[i] + koff[r]]: one packed A panel of the column matrix. Pixels that are neighbours in
    /// the padded image (stride 1, same output row) form runs copied with vector moves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Gather(float* xpad, long* koff, long* pix, float* panel, int k, int mr)
    {
        int* runStart = stackalloc int[mr + 1];
        int runs = 0;
        for (int i = 0; i < mr; i++)
            if (i == 0 || pix[i] != pix[i - 1] + 1) runStart[runs++] = i;
        runStart[runs] = mr;
        if (runs == 1 && mr >= 8 && Vector256.IsHardwareAccelerated)
        {
            // All pixels contiguous: eight lanes, then the rest.
            long p0 = pix[0];
            for (int r = 0; r < k; r++)
            {
                float* src = xpad + koff[r] + p0;
                float* dst = panel + (long)r * mr;
                Vector256.Store(Vector256.Load(src), dst);
                for (int i = 8; i < mr; i++) dst[i] = src[i];
            }
            return;
        }
        for (int r = 0; r < k; r++)
        {
            float* src = xpad + koff[r];
            float* dst = panel + (long)r * mr;
            for (int q = 0; q < runs; q++)
            {
                int a = runStart[q], e = runStart[q + 1];
                float* from = src + pix[a];
                for (int i = a; i < e; i++) dst[i] = from[i - a];
            }
        }
    }

    /// <summary>dx (may be null), dw (may be null) and db (may be null) from dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(Shape s, T* x, T* w, T* dy, T* dx, T* dw, T* db) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && dx != null && DirectConv.HandlesInputGrad(s) && PreferDirect(s.C))
        {
            DirectConv.InputGrad(s, (float*)w, (float*)dy, (float*)dx);
            dx = null;
        }
        if (typeof(T) == typeof(float) && dx != null && InputGradAsForward(s, (float*)w, (float*)dy, (float*)dx)) dx = null;
        if (typeof(T) == typeof(float) && dw != null && WinogradConv.HandlesWeightGrad(s))
        {
            WinogradConv.WeightGrad(s, (float*)x, (float*)dy, (float*)dw);
            dw = null;
        }
        if (typeof(T) == typeof(float) && dw != null && DirectConv.Handles(s))
        {
            DirectConv.WeightGrad(s, (float*)x, (float*)dy, (float*)dw);
            dw = null;
        }
        if (dx == null && dw == null && db == null) return;
        if (typeof(T) == typeof(float) && s.Groups == 1 && dw != null)
        {
            if (Gemm.Sgemm.UseAvx512 && s.G.SH == 1 && s.G.SW == 1) WeightGradStride1(s, (float*)x, (float*)dy, (float*)dw);
            else WeightGradImplicit(s, (float*)x, (float*)dy, (float*)dw);
            dw = null;
            if (dx == null && db == null) return;
        }
        long colSize = (long)s.ColRows * s.L;
        int kg = s.Cg * s.Kk;
        long wSize = (long)s.O * kg;
        int slots = Math.Max(1, Math.Min(Threads.Count, s.N));
        // Each thread sums its images' weight gradients into its own slot; the slots are added at the end.
        var partial = dw != null ? (T*)NativeMemory.AllocZeroed((nuint)(slots * wSize), (nuint)sizeof(T)) : null;
        try
        {
            if (dx != null || dw != null)
                ForImages<T>(s.N, colSize, (n, buffer) =>
                {
                    T* cols = buffer;
                    T* dyn = dy + (long)n * s.O * s.L;
                    if (dw != null)
                    {
                        T* acc = partial + (long)Slot(slots) * wSize;
                        Im2Col.Unfold(x + (long)n * s.C * s.H * s.W, cols, 1, s.C, s.H, s.W, s.G, s.OH, s.OW);
                        // dW_gᵀ += cols_g · dY_gᵀ: the big operand (cols) is read along its rows, which packs fast.
                        for (int g = 0; g < s.Groups; g++)
                            BlockGemm.Multiply(kg, s.Og, s.L, T.One, cols + (long)g * kg * s.L, s.L, 1, dyn + (long)g * s.Og * s.L, 1, s.L, T.One, acc + (long)g * s.Og * kg, s.Og);
                    }
                    if (dx != null)
                    {
                        for (int g = 0; g < s.Groups; g++)   // dcols_g = W_gᵀ · dY_g
                            BlockGemm.Multiply(kg, s.L, s.Og, T.One, w + (long)g * s.Og * kg, 1, kg, dyn + (long)g * s.Og * s.L, s.L, 1, T.Zero, cols + (long)g * kg * s.L, s.L);
                        Im2Col.Fold(cols, dx + (long)n * s.C * s.H * s.W, 1, s.C, s.H, s.W, s.G, s.OH, s.OW);
                    }
                });
            if (dw != null)
                for (int g = 0; g < s.Groups; g++)
                    for (int o = 0; o < s.Og; o++)
                        for (int k = 0; k < kg; k++)
                        {
                            // The slots hold dW_gᵀ [kg, Og]; dW is [O, kg].
                            long src = (long)g * s.Og * kg + (long)k * s.Og + o;
                            T a = T.Zero;
                            for (int sl = 0; sl < slots; sl++) a += partial[sl * wSize + src];
                            dw[((long)g * s.Og + o) * kg + k] = a;
                        }
            if (db != null)
                for (int o = 0; o < s.O; o++)
                {
                    // Each image's row summed with vector lanes, the rows' sums in double.
                    double a = 0;
                    for (int n = 0; n < s.N; n++)
                    {
                        T* row = dy + ((long)n * s.O + o) * s.L;
                        a += typeof(T) == typeof(float) ? Reduce.RowKernels.Sum((float*)row, s.L) : double.CreateTruncating(Reduce.RowKernels.Sum(row, s.L));
                    }
                    db[o] = T.CreateTruncating(a);
                }
        }
        finally { if (partial != null) NativeMemory.Free(partial); }
    }

    /// <summary>
    /// Whether the direct kernels beat the stride-1 implicit GEMM for a product with <paramref name="outputs"/> output
    /// channels: where a GEMM tile would be mostly empty rows (fewer than the AVX-512 tile's 8), or without AVX-512.
    /// </summary>
    static bool PreferDirect(int outputs) => outputs < Gemm.ConvMicroKernel512.MR || !Gemm.Sgemm.UseAvx512;

    /// <summary>
    /// The input gradient of a stride-1, undilated, ungrouped convolution is itself a forward correlation: dy padded by
    /// K-1-P, against the weights with in and out channels swapped and the taps flipped. Running it through
    /// <see cref="Forward{T}"/> gives it the forward's kernels (implicit GEMM or direct) instead of a GEMM into a column
    /// matrix and a fold. False where the geometry does not allow it.
    /// </summary>
    static bool InputGradAsForward(Shape s, float* w, float* dy, float* dx)
    {
        var g = s.G;
        if (s.Groups != 1 || g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1 || g.PH > g.KH - 1 || g.PW > g.KW - 1) return false;
        var t = new Shape
        {
            N = s.N,
            C = s.O,
            H = s.OH,
            W = s.OW,
            O = s.C,
            Groups = 1,
            OH = s.H,
            OW = s.W,
            G = new ConvGeometry("conv2d", g.KH, g.KW, 1, 1, g.KH - 1 - g.PH, g.KW - 1 - g.PW, 1, 1),
        };
        int kk = s.Kk;
        float* flipped = ConvScratch.Get(ConvScratch.Flipped, (long)s.O * s.C * kk);
        {
            // flipped[c, o, ki, kj] = w[o, c, KH-1-ki, KW-1-kj]
            for (int o = 0; o < s.O; o++)
                for (int c = 0; c < s.C; c++)
                {
                    float* src = w + ((long)o * s.C + c) * kk;
                    float* dst = flipped + ((long)c * s.O + o) * kk;
                    for (int r = 0; r < kk; r++) dst[r] = src[kk - 1 - r];
                }
            Forward(t, dy, flipped, null, dx);
        }
        return true;
    }

    [ThreadStatic] static int _slot;

    static int Slot(int slots) => Math.Min(_slot, slots - 1);

    /// <summary>Runs <paramref name="body"/> for every image with a per-thread column buffer; threads take whole images.</summary>
    static void ForImages<T>(int images, long colSize, Action<int, Pointer<T>> body) where T : unmanaged
    {
        int slots = Math.Max(1, Math.Min(Threads.Count, images));
        Threads.For(slots, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
        {
            T* cols = (T*)NativeMemory.Alloc((nuint)Math.Max(1, colSize), (nuint)sizeof(T));
            try
            {
                for (long slot = s0; slot < s1; slot++)
                {
                    _slot = (int)slot;
                    for (long n = images * slot / slots; n < images * (slot + 1) / slots; n++) body((int)n, new Pointer<T>(cols));
                }
            }
            finally { NativeMemory.Free(cols); }
        });
    }

    /// <summary>A raw pointer that can travel through a delegate.</summary>
    public readonly struct Pointer<T>(T* p) where T : unmanaged
    {
        public readonly T* P = p;
        public static implicit operator T*(Pointer<T> p) => p.P;
    }
}
