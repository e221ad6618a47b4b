using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Gemm;

/// <summary>
/// Single-precision GEMM, C = alpha·A·B + beta·C, with A and B in any strides (a transposed operand
/// costs nothing: packing reads it in place). Blocked for the caches (KC × NC panels of B, MC × KC
/// blocks of A), packed into micro-panels and computed by an unrolled register micro-kernel —
/// AVX-512 where the CPU has it, AVX2/FMA otherwise — in parallel over blocks of rows of C.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class Sgemm
{
    // Block sizes of pre-packed operands (PackedB); other products take theirs from GemmTiles (Default, or a tuned table).
    internal const int KC = 256, NC = 1024;
    // Per-thread packing buffers, freed with their thread (raw [ThreadStatic] pointers leaked on every thread exit).
    [ThreadStatic] static Memory.ThreadScratch? _aPack;
    [ThreadStatic] static Memory.ThreadScratch? _bPack;
    [ThreadStatic] static Memory.ThreadScratch? _dequantized;

    /// <summary>
    /// Where this thread's GEMMs take their block sizes (null: <see cref="GemmTiles.For"/>). Compiled models in
    /// <c>MaxAutotune</c> mode set it around their forward and backward to their measured table.
    /// </summary>
    [ThreadStatic] public static IGemmTileSource? TileSource;

    /// <summary>Whether row-major B is read in place instead of packed (settable for measuring and testing both paths).</summary>
    public static bool ReadBInPlace { get; set; } = true;
    /// <summary>Whether few-rows products read the weight as four sequences a quarter apart (settable for measuring against adjacent rows).</summary>
    public static bool FarStreams { get; set; } = true;

    // Rows of A multiplied against a transposed B without packing it: up to 16 always, up to 64 when K is deep enough
    // (256+) for the dot products to pay for re-reading B's rows once per four rows.
    const int FewRowsAlways = 16, FewRowsDeepK = 64, DeepK = 256;

    // K chunk of the few-rows kernel when it has two or more row groups (x's chunk of eight rows: 32 KiB, in L1).
    const int KChunk = 1024;

    /// <summary>Whether the AVX-512 micro-kernel is used (settable for testing both kernels).</summary>
    public static bool UseAvx512 { get; set; } = Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Computes C[m×n] = alpha · A[m×k] · B[k×n] + beta · C. Strides are in elements: A[i,p] is at
    /// a + i·rsa + p·csa. C is row-major with leading dimension <paramref name="ldc"/>. With beta = 0,
    /// C is not read. The epilogue runs on each finished tile; the gate filters A as it is packed.
    /// </summary>
    public static void Multiply(int m, int n, int k, float alpha, float* a, long rsa, long csa,
        float* b, long rsb, long csb, float beta, float* c, long ldc, GemmEpilogue epilogue = default, GemmGate gate = default)
    {
        if (m == 0 || n == 0) return;
        bool accumulate = beta != 0;
        if (beta != 0 && beta != 1)
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[i * ldc + j] *= beta;
        if (k == 0 || alpha == 0)
        {
            for (int i = 0; i < m; i++)
            {
                if (!accumulate) new Span<float>(c + i * ldc, n).Clear();
                if (!epilogue.IsEmpty) epilogue.Apply(c + i * ldc, i, 0, n);
            }
            return;
        }
        if ((m <= FewRowsAlways || (m <= FewRowsDeepK && k >= DeepK)) && csa == 1 && rsb == 1 && csb != 1 && gate.IsEmpty)
        {
            // A few rows against a transposed weight (decoding through x·Wᵀ, batch up to 16, or up to 64 over a deep K):
            // each output is a dot product of two contiguous runs; packing B would read the whole weight twice, more than
            // the product costs (at 32 × 3072 × 768 on 2 threads: 0.51 ms in place, 0.78 ms packed).
            FewRows(m, n, k, alpha, a, rsa, b, csb, accumulate, c, ldc, epilogue);
            return;
        }
        var tiles = TileSource is { } source ? source.Tiles(new GemmKey(m, n, k, rsa == 1 && csa != 1, csb != 1, Math.Max(1, Threads.Count))) : GemmTiles.For(m, n, k);
        if (!tiles.IsValid) tiles = GemmTiles.For(m, n, k);
        if (UseAvx512) Blocked(MicroKernel512.MR, MicroKernel512.NR, true, m, n, k, alpha, a, rsa, csa, b, rsb, csb, accumulate, c, ldc, epilogue, tiles, gate: gate);
        else Blocked(MicroKernel256.MR, MicroKernel256.NR, false, m, n, k, alpha, a, rsa, csa, b, rsb, csb, accumulate, c, ldc, epilogue, tiles, gate: gate);
    }

    static void FewRows(int m, int n, int k, float alpha, float* a, long rsa, float* b, long csb, bool accumulate, float* c, long ldc, GemmEpilogue epilogue) =>
        FewRows<Float32Elements>(m, n, k, alpha, a, rsa, (byte*)b, csb, accumulate, c, ldc, epilogue);

    /// <summary>
    /// C[m×n] = x·Wᵀ for a few rows x [m, k] (float32, rows <paramref name="rsx"/> apart) against a bfloat16 weight W
    /// [n, k] (rows k apart) read as stored — the decode-shaped product of bf16 models, by the float32 few-rows kernel
    /// with each weight vector widened in registers. The epilogue (a bias) runs on the finished rows. Where the caller also
    /// has the rows in bfloat16 (x16, rows rsx apart), row groups of four run AVX512_BF16 dot products
    /// (<see cref="FewRowsTiles"/>) where the CPU has them.
    /// </summary>
    internal static void FewRowsBf16(int m, int n, int k, float* x, long rsx, ushort* w, float* c, long ldc, GemmEpilogue epilogue = default, ushort* x16 = null) =>
        FewRows<BFloat16Elements>(m, n, k, 1f, x, rsx, (byte*)w, k, false, c, ldc, epilogue, x16);

    /// <summary>
    /// Rows from which x·Wᵀ with a bfloat16 W runs blocked (W widened as it is packed) rather than few-rows. With W in
    /// cache blocked wins from 32 rows; read from memory in a model (packing writes and rereads it as float32) 32 rows ran
    /// slower blocked (a batch-1 prompt of 32 tokens: 42 → 54 ms on 1 thread), 64 and more faster (8 × 32 tokens: 290 →
    /// 258 ms). With dot-product instructions on both paths the switch stays here (from 16 rows the 32-token prompt took
    /// 37 ms, from 64 29–31 ms).
    /// </summary>
    internal const int Bf16BlockedRows = 64;

    /// <summary>
    /// Whether <see cref="MultiplyBf16Weight"/> multiplies <paramref name="m"/> contiguous bfloat16 rows as stored, never
    /// reading their float32 copy (the blocked path by <see cref="Bf16DotMicroKernel"/>); then, with K above zero, x may be null.
    /// </summary>
    internal static bool TakesBf16RowsAsStored(int m) => m >= Bf16BlockedRows && UseAvx512 && Bf16DotMicroKernel.IsSupported;

    /// <summary>
    /// <see cref="TakesBf16RowsAsStored(int)"/> for an m × n × k product: also few rows that fill whole 4 × 4 tiles of
    /// <see cref="FewRowsTiles"/> over whole 64-byte chunks of k (a batch-8 decode step's products), which read the
    /// bfloat16 rows alone — their float32 copy serves only the single dot products of ragged edges.
    /// </summary>
    internal static bool TakesBf16RowsAsStored(int m, int n, int k) =>
        TakesBf16RowsAsStored(m) || (m < Bf16BlockedRows && m >= 4 && m % 4 == 0 && n % 4 == 0 && k > 0 && k % (FewRowsTiles.ChunkBytes / sizeof(ushort)) == 0 && FewRowsTiles.IsSupported);

    /// <summary>
    /// C[m×n] = x·Wᵀ for float32 rows x [m, k] against a bfloat16 weight W [n, k] read as stored: few rows stream W
    /// through the few-rows kernel (widened in registers), more go through the blocked GEMM with W widened as its panels
    /// are packed — no float32 copy of the weight either way. The epilogue (a bias) runs on the finished rows. With x16, the
    /// rows in bfloat16 too, both paths run AVX512_BF16 dot products where the CPU has them: few rows by
    /// <see cref="FewRowsTiles"/>, more by <see cref="Bf16DotMicroKernel"/> over both operands packed in pairs of k, nothing
    /// widened (256 × 768 → 2048 on 1 thread: 4.6 ms widened, 2.4–2.5 ms so; a batch-8 prompt of the 124M Llama 261 → 168 ms).
    /// </summary>
    internal static void MultiplyBf16Weight(int m, int n, int k, float* x, long rsx, ushort* w, float* c, long ldc, GemmEpilogue epilogue = default, ushort* x16 = null)
    {
        if (x == null && (x16 == null || k == 0 || !TakesBf16RowsAsStored(m, n, k)))
            throw new ArgumentException("MultiplyBf16Weight: float32 rows are needed where the bfloat16 rows are not multiplied as stored", nameof(x));
        if (m < Bf16BlockedRows || k == 0)
        {
            FewRowsBf16(m, n, k, x, rsx, w, c, ldc, epilogue, x16);
            return;
        }
        var tiles = GemmTiles.ForRows(m);
        if (UseAvx512) Blocked(MicroKernel512.MR, MicroKernel512.NR, true, m, n, k, 1f, x, rsx, 1, (float*)w, 1, k, false, c, ldc, epilogue, tiles, bf16: true, a16: x16);
        else Blocked(MicroKernel256.MR, MicroKernel256.NR, false, m, n, k, 1f, x, rsx, 1, (float*)w, 1, k, false, c, ldc, epilogue, tiles, bf16: true);
    }

    /// <summary>
    /// C[m×n] = x·Wᵀ for float32 rows x [m, k] (rows <paramref name="rsx"/> apart) against a quantized weight W [n, k]: the
    /// blocked GEMM with each panel of W dequantized into a per-thread buffer as it is packed — no float32 copy of the weight
    /// (dequantizing all of it first wrote and reread four bytes per weight and faulted the fresh copy in). The epilogue
    /// (a bias) runs on the finished tiles.
    /// </summary>
    internal static void MultiplyDequantized(int m, int n, int k, float* x, long rsx, IDequantizingWeight w, float* c, long ldc, GemmEpilogue epilogue = default) =>
        Dequantized(m, n, k, x, rsx, new DequantizingB(w, 0, Transposed: true), 1, k, c, ldc, epilogue);

    /// <summary>
    /// C[m×n] = g·W for float32 rows g [m, k] (rows <paramref name="rsg"/> apart) against a quantized weight W [k, n] — the
    /// input gradient of x·Wᵀ — by the blocked GEMM, each panel of W dequantized as it is packed.
    /// </summary>
    internal static void MultiplyByDequantized(int m, int n, int k, float* g, long rsg, IDequantizingWeight w, float* c, long ldc) =>
        Dequantized(m, n, k, g, rsg, new DequantizingB(w, 0, Transposed: false), n, 1, c, ldc, default);

    /// <summary>The blocked GEMM over a dequantizing B whose elements sit <paramref name="rsb"/>, <paramref name="csb"/> apart as <paramref name="dq"/> lays them out.</summary>
    static void Dequantized(int m, int n, int k, float* a, long rsa, DequantizingB dq, long rsb, long csb, float* c, long ldc, GemmEpilogue epilogue)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            for (int i = 0; i < m; i++)
            {
                new Span<float>(c + i * ldc, n).Clear();
                if (!epilogue.IsEmpty) epilogue.Apply(c + i * ldc, i, 0, n);
            }
            return;
        }
        var tiles = GemmTiles.ForRows(m);
        if (UseAvx512) Blocked(MicroKernel512.MR, MicroKernel512.NR, true, m, n, k, 1f, a, rsa, 1, null, rsb, csb, false, c, ldc, epilogue, tiles, dq: dq);
        else Blocked(MicroKernel256.MR, MicroKernel256.NR, false, m, n, k, 1f, a, rsa, 1, null, rsb, csb, false, c, ldc, epilogue, tiles, dq: dq);
    }

    static void FewRows<TW>(int m, int n, int k, float alpha, float* a, long rsa, byte* b, long csb, bool accumulate, float* c, long ldc, GemmEpilogue epilogue, ushort* a16 = null)
        where TW : struct, IWeightElements
    {
        if (m == 0 || n == 0) return;
        bool dot16 = a16 != null && TW.Size == sizeof(ushort) && alpha == 1f && FewRowsTiles.IsSupported;
        bool float32 = TW.Size == sizeof(float) && alpha == 1f && FewRowsTiles.Float32IsSupported;
        var job = new FewRowsJob<TW>
        {
            M = m,
            N = n,
            K = k,
            Alpha = alpha,
            A = a,
            A16 = dot16 ? a16 : null,
            Float32Tiles = float32,
            Rsa = rsa,
            B = b,
            Csb = csb,
            Accumulate = accumulate,
            C = c,
            Ldc = ldc,
        };
        // Columns in chunks big enough to pay for a thread hand-off, split at multiples of four: a thread's share ends on a
        // whole 4 × 4 tile (ragged shares left single dot products, which read the float32 rows, at every split).
        Threads.For((n + 3) / 4, Math.Max(4, 16384 / Math.Max(1, k * m)), job.Run);
        if (!epilogue.IsEmpty)
            for (int i = 0; i < m; i++) epilogue.Apply(c + i * ldc, i, 0, n);
    }

    /// <summary>The few-rows product over a range of outputs; <typeparamref name="TW"/> says how weight elements are stored.</summary>
    sealed class FewRowsJob<TW> where TW : struct, IWeightElements
    {
        public int M, K, N;
        public float Alpha;
        public float* A, C;
        /// <summary>A in bfloat16 (rows <see cref="Rsa"/> apart) where bfloat16 weights run <see cref="FewRowsTiles"/>; else null.</summary>
        public ushort* A16;
        /// <summary>Whether float32 4 × 4 tiles run as <see cref="FewRowsTiles"/>' generated FMA loop.</summary>
        public bool Float32Tiles;
        public byte* B;
        public long Rsa, Csb, Ldc;
        public bool Accumulate;
        /// <summary>Outputs [4·q0, 4·q1) (the last quad cut at <see cref="N"/>).</summary>
        public Action<long, long> Run => _run ??= (q0, q1) => Range(4 * q0, Math.Min(N, 4 * q1));
        Action<long, long>? _run;

        byte* Row(long j) => B + j * Csb * TW.Size;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Range(long j0, long j1)
        {
            // Four outputs by four rows at a time: each weight run is read once per four rows (0.5 loads per FMA). The four
            // weight rows of a tile lie a quarter of the range apart, so memory serves four sequences at once (adjacent,
            // they were one: batch-4 decode steps 7–14 % faster, batch 8 in fp32 0–8 %, alternating in one process).
            long tiles = (j1 - j0) / 4, jt = j0 + 4 * tiles;
            int mt = M / 4 * 4;
            if (M <= 3 && FarStreams) FarQuarters(j0, tiles);
            else Tiles(j0, tiles, mt);
            for (long j = jt; j < j1; j++)
                for (int i = 0; i < M; i++) Put(i, j, WeightRows.Dot<TW>(A + i * Rsa, Row(j), K));
        }

        /// <summary>Rows [0, mt) in 4 × 4 tiles over the <paramref name="tiles"/> × 4 outputs from <paramref name="j0"/>, the rows after mt by single dot products.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Tiles(long j0, long tiles, int mt)
        {
            // Two or more row groups over a deep K: K in chunks, so the rows' chunk stays in L1 while every weight row's chunk
            // streams past it. Whole, eight rows of 4096 are 128 KiB and each vector of x came from L2: 8 × 4096 × 4096
            // took 3.47 ms that way, 3.04 ms in chunks (1 thread; 1.66 → 1.34 ms on 2; bf16 weights 5–8 % faster); over
            // K = 2048 (a SwiGLU down projection, 8 × 768) 0.28 → 0.24 ms.
            int chunk = mt >= 8 && K > KChunk ? KChunk : K;
            bool far = FarStreams && tiles > 1;
            long spacing = far ? tiles : 1, step = far ? 1 : 4;
            for (int k0 = 0; k0 < K; k0 += chunk)
            {
                int k1 = Math.Min(K, k0 + chunk);
                bool into = Accumulate || k0 > 0;
                if ((A16 != null || Float32Tiles) && (k1 - k0) * TW.Size >= FewRowsTiles.ChunkBytes)
                {
                    DotTiles(j0, tiles, step, spacing, mt / 4, k0, k1, into);
                    continue;
                }
                for (long u = 0; u < tiles; u++)
                    for (int i = 0; i < mt; i += 4) Tile(i, j0 + u * step, spacing, i / 4, mt / 4, k0, k1, into);
            }
            if (mt < M)
                for (long j = j0; j < j0 + 4 * tiles; j++)
                    for (int i = mt; i < M; i++) Put(i, j, WeightRows.Dot<TW>(A + i * Rsa, Row(j), K));
        }

        /// <summary>
        /// One to three rows (decoding at batch 1–3): four weight rows a quarter of the range apart at a time, so the
        /// weight streams from memory as four sequences (row after row it was one, and a single sequence left the core
        /// waiting on memory: 3 MB of bf16 weight read 10–18 % faster as four in a standalone probe); two rows share each
        /// weight vector as it is loaded.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void FarQuarters(long j0, long q)
        {
            for (long t = 0; t < q; t++)
            {
                long ja = j0 + t, jb = ja + q, jc = jb + q, jd = jc + q;
                int i = 0;
                for (; i + 2 <= M; i += 2)
                {
                    var (s, u) = WeightRows.Dot4x2<TW>(A + i * Rsa, A + (i + 1) * Rsa, Row(ja), Row(jb), Row(jc), Row(jd), K);
                    Put4(i, ja, jb - ja, s, Accumulate);
                    Put4(i + 1, ja, jb - ja, u, Accumulate);
                }
                if (i < M) Put4(i, ja, jb - ja, WeightRows.Dot4<TW>(A + i * Rsa, Row(ja), Row(jb), Row(jc), Row(jd), K), Accumulate);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Put(int i, long j, float dot) => Put(i, j, dot, Accumulate);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Put(int i, long j, float dot, bool into)
        {
            float v = Alpha * dot;
            float* o = C + i * Ldc + j;
            *o = into ? *o + v : v;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Tile(int i, long j, long spacing, int group, int groups, int k0, int k1, bool into)
        {
            // 512-bit lanes where the CPU has them: at batch 8 the product is compute-bound, and 256-bit lanes ran at
            // half the FMA peak of an AVX-512 core.
            // The row groups prefetch the next four weight rows as they stream these: decode reads every weight once from
            // memory, and the hardware prefetcher alone left the loop waiting on it (11 of 32 GB/s at batch 8). Float32
            // weights are dealt out over the groups, line by line, so memory stays busy while the later groups compute
            // (batch-8 decode step 24.9 → 22.7 ms on 1 thread); bfloat16 halves the bytes and its products are
            // compute-bound there, so the first group prefetches them all (dealt out it measured 8 % slower).
            if (TW.Size < sizeof(float)) (group, groups) = (0, group == 0 ? 1 : 0);
            long ahead = (spacing == 1 ? 4 : 1) * Csb * TW.Size;
            if (Vector512.IsHardwareAccelerated && K >= 64) Tile<Elementwise.Lanes512>(i, j, spacing, ahead, group, groups, k0, k1, into);
            else Tile<Elementwise.Lanes256>(i, j, spacing, ahead, group, groups, k0, k1, into);
        }

        /// <summary>Rows i..i+3 against outputs j, j+s, j+2s, j+3s: each weight run is read once per four rows (0.5 loads per FMA).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Tile<TL>(int i, long j, long s, long ahead, int group, int groups, int k0, int k1, bool into) where TL : struct, Elementwise.IFloatLanes<TL>
        {
            float* x0 = A + i * Rsa, x1 = x0 + Rsa, x2 = x1 + Rsa, x3 = x2 + Rsa;
            long stride = s * Csb * TW.Size;
            byte* w0 = Row(j), w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
            TL a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            TL a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            int p = k0, n = TL.Count;
            // One prefetch per 64-byte line of each weight row, the lines dealt out over the row groups.
            int line = 64 / TW.Size, prefetchAt = groups > 0 ? k0 + group * line : int.MaxValue, prefetchStep = groups * line;
            for (; p + n <= k1; p += n)
            {
                if (p == prefetchAt)
                {
                    long at = ahead + (long)p * TW.Size;
                    Sse.Prefetch0(w0 + at); Sse.Prefetch0(w1 + at); Sse.Prefetch0(w2 + at); Sse.Prefetch0(w3 + at);
                    prefetchAt += prefetchStep;
                }
                TL v0 = TW.Load<TL>(w0, p), v1 = TW.Load<TL>(w1, p), v2 = TW.Load<TL>(w2, p), v3 = TW.Load<TL>(w3, p);
                var r = TL.Load(x0 + p);
                a00 = TL.Fma(r, v0, a00); a01 = TL.Fma(r, v1, a01); a02 = TL.Fma(r, v2, a02); a03 = TL.Fma(r, v3, a03);
                r = TL.Load(x1 + p);
                a10 = TL.Fma(r, v0, a10); a11 = TL.Fma(r, v1, a11); a12 = TL.Fma(r, v2, a12); a13 = TL.Fma(r, v3, a13);
                r = TL.Load(x2 + p);
                a20 = TL.Fma(r, v0, a20); a21 = TL.Fma(r, v1, a21); a22 = TL.Fma(r, v2, a22); a23 = TL.Fma(r, v3, a23);
                r = TL.Load(x3 + p);
                a30 = TL.Fma(r, v0, a30); a31 = TL.Fma(r, v1, a31); a32 = TL.Fma(r, v2, a32); a33 = TL.Fma(r, v3, a33);
            }
            if (p == k1)
            {
                // No scalar tail: each row's four sums folded into one vector and stored together (sixteen separate
                // reductions were a third of the instructions at K = 768; 8 × 768 → 2048 on 1 thread 0.318 → 0.285 ms
                // in fp32, 0.228 → 0.199 ms with bf16 weights, in alternating probes).
                Put4(i, j, s, TL.ReduceSum4(a00, a01, a02, a03), into); Put4(i + 1, j, s, TL.ReduceSum4(a10, a11, a12, a13), into);
                Put4(i + 2, j, s, TL.ReduceSum4(a20, a21, a22, a23), into); Put4(i + 3, j, s, TL.ReduceSum4(a30, a31, a32, a33), into);
                return;
            }
            Put(i, j, Finish(TL.ReduceSum(a00), x0, w0, p, k1), into); Put(i, j + s, Finish(TL.ReduceSum(a01), x0, w1, p, k1), into); Put(i, j + 2 * s, Finish(TL.ReduceSum(a02), x0, w2, p, k1), into); Put(i, j + 3 * s, Finish(TL.ReduceSum(a03), x0, w3, p, k1), into);
            Put(i + 1, j, Finish(TL.ReduceSum(a10), x1, w0, p, k1), into); Put(i + 1, j + s, Finish(TL.ReduceSum(a11), x1, w1, p, k1), into); Put(i + 1, j + 2 * s, Finish(TL.ReduceSum(a12), x1, w2, p, k1), into); Put(i + 1, j + 3 * s, Finish(TL.ReduceSum(a13), x1, w3, p, k1), into);
            Put(i + 2, j, Finish(TL.ReduceSum(a20), x2, w0, p, k1), into); Put(i + 2, j + s, Finish(TL.ReduceSum(a21), x2, w1, p, k1), into); Put(i + 2, j + 2 * s, Finish(TL.ReduceSum(a22), x2, w2, p, k1), into); Put(i + 2, j + 3 * s, Finish(TL.ReduceSum(a23), x2, w3, p, k1), into);
            Put(i + 3, j, Finish(TL.ReduceSum(a30), x3, w0, p, k1), into); Put(i + 3, j + s, Finish(TL.ReduceSum(a31), x3, w1, p, k1), into); Put(i + 3, j + 2 * s, Finish(TL.ReduceSum(a32), x3, w2, p, k1), into); Put(i + 3, j + 3 * s, Finish(TL.ReduceSum(a33), x3, w3, p, k1), into);
        }

        /// <summary>
        /// The tiles of <see cref="Tiles"/> over k in [k0, k1) by <see cref="FewRowsTiles"/> (many tiles a call): bf16 dot
        /// products over A's bfloat16 rows, or float32 FMAs over A; whole 64-byte chunks in the generated kernel, the last
        /// few elements by the float32 tail.
        /// </summary>
        void DotTiles(long j0, long tiles, long step, long spacing, int groups, int k0, int k1, bool into)
        {
            if (tiles == 0 || groups == 0) return;   // the kernel's loops run at least once: a range under four columns has no tile
            long stride = spacing * Csb * TW.Size;
            int perChunk = FewRowsTiles.ChunkBytes / TW.Size, chunks = (k1 - k0) / perChunk, p = k0 + chunks * perChunk;
            var args = new FewRowsTilesArgs
            {
                X = A16 != null ? (byte*)(A16 + k0) : (byte*)(A + k0),
                XStride = Rsa * TW.Size,
                W = Row(j0) + (long)k0 * TW.Size,
                WStride = stride,
                Chunks = chunks,
                C = C + j0,
                Ahead = (spacing == 1 ? 4 : 1) * Csb * TW.Size,
                Tiles = tiles,
                Groups = groups,
                TileStep = step * Csb * TW.Size,
                CRowBytes = Ldc * sizeof(float),
                CColumnBytes = spacing * sizeof(float),
                CStep = step * sizeof(float),
            };
            FewRowsTiles.Run(&args, into, float32: A16 == null);
            if (p == k1) return;
            for (long u = 0; u < tiles; u++)
                for (int i = 0; i < 4 * groups; i++)
                    for (int c = 0; c < 4; c++)
                    {
                        long j = j0 + u * step + c * spacing;
                        C[i * Ldc + j] += Finish(0, A + i * Rsa, Row(j), p, k1);
                    }
        }

        /// <summary>C[i, j..j+3] = (C +) alpha · <paramref name="sums"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Put4(int i, long j, long s, Vector128<float> sums, bool into)
        {
            float* o = C + i * Ldc + j;
            var v = sums * Alpha;
            if (s == 1)
            {
                (into ? Vector128.Load(o) + v : v).Store(o);
                return;
            }
            o[0] = into ? o[0] + v.GetElement(0) : v.GetElement(0);
            o[s] = into ? o[s] + v.GetElement(1) : v.GetElement(1);
            o[2 * s] = into ? o[2 * s] + v.GetElement(2) : v.GetElement(2);
            o[3 * s] = into ? o[3 * s] + v.GetElement(3) : v.GetElement(3);
        }

        /// <summary>The lanes' sum <paramref name="s"/> plus the scalar tail from <paramref name="p"/> to <paramref name="end"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        float Finish(float s, float* x, byte* w, int p, int end)
        {
            for (; p < end; p++) s += x[p] * TW.At(w, p);
            return s;
        }
    }

    /// <summary>
    /// B packed once for many products with the same right operand (a recurrent weight used at every step):
    /// every KC × NC block already in micro-panel order, for the micro-kernel chosen when it was packed.
    /// </summary>
    public sealed class PackedB : IDisposable
    {
        internal readonly int K, N, Nr;
        internal readonly bool Wide;
        internal float* Data;
        readonly long _blockStride;

        /// <summary>Packs B[k×n] (B[p, j] at b + p·rsb + j·csb).</summary>
        public PackedB(int k, int n, float* b, long rsb, long csb)
        {
            K = k; N = n;
            Wide = UseAvx512;
            Nr = Wide ? MicroKernel512.NR : MicroKernel256.NR;
            int kBlocks = Math.Max(1, (k + KC - 1) / KC), kcEven = Math.Max(1, (k + kBlocks - 1) / kBlocks);
            int nBlocks = Math.Max(1, (n + NC - 1) / NC);
            _blockStride = (long)kcEven * ((Math.Min(NC, n) + Nr - 1) / Nr * Nr);
            Data = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, _blockStride * kBlocks * nBlocks) * sizeof(float)), 64);
            for (int jc = 0, jb = 0; jc < n; jc += NC, jb++)
            {
                int nc = Math.Min(NC, n - jc), panels = (nc + Nr - 1) / Nr;
                for (int pc = 0, pb = 0; pc < k; pc += kcEven, pb++)
                {
                    int kc = Math.Min(kcEven, k - pc);
                    float* dst = Block(jb, pb, kBlocks);
                    PackBPanels<Float32Elements>((byte*)(b + pc * rsb + jc * csb), rsb, csb, kc, nc, Nr, 0, panels, dst);
                }
            }
        }

        internal float* Block(int jb, int pb, int kBlocks) => Data + (jb * kBlocks + pb) * _blockStride;

        /// <summary>How K is split into blocks (the same split every product with this operand uses).</summary>
        internal (int KBlocks, int KcEven) KSplit
        {
            get
            {
                int kBlocks = Math.Max(1, (K + KC - 1) / KC);
                return (kBlocks, Math.Max(1, (K + kBlocks - 1) / kBlocks));
            }
        }

        /// <summary>Runs the micro-kernel: C tile (MR × NR, ldc) from a packed A panel and B panel <paramref name="panel"/> of k-block <paramref name="pb"/>.</summary>
        internal void Tile(int pb, int panel, int kc, float* aPanel, float* c, long ldc, bool accumulate)
        {
            var (kBlocks, _) = KSplit;
            float* bp = Block(panel * Nr / NC, pb, kBlocks) + (long)(panel % (NC / Nr)) * Nr * kc;
            if (Wide) MicroKernel512.Run(kc, aPanel, bp, Nr, c, ldc, 1f, accumulate);
            else MicroKernel256.Run(kc, aPanel, bp, Nr, c, ldc, 1f, accumulate);
        }

        /// <summary>Rows per A panel of the micro-kernel this operand was packed for.</summary>
        internal int Mr => Wide ? MicroKernel512.MR : MicroKernel256.MR;

        /// <summary>Frees the packed panels.</summary>
        public void Dispose()
        {
            if (Data != null) NativeMemory.AlignedFree(Data);
            Data = null;
            GC.SuppressFinalize(this);
        }

        /// <summary>Frees the panels if <see cref="Dispose"/> was not called.</summary>
        ~PackedB() { if (Data != null) NativeMemory.AlignedFree(Data); }
    }

    /// <summary>C[m×n] = alpha · A · B + beta · C with B packed in advance.</summary>
    public static void Multiply(int m, float alpha, float* a, long rsa, long csa, PackedB b, float beta, float* c, long ldc)
    {
        int n = b.N, k = b.K;
        if (m == 0 || n == 0) return;
        if (beta != 0 && beta != 1)
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[i * ldc + j] *= beta;
        if (k == 0)
        {
            if (beta == 0) for (int i = 0; i < m; i++) new Span<float>(c + i * ldc, n).Clear();
            return;
        }
        int mr = b.Wide ? MicroKernel512.MR : MicroKernel256.MR;
        Blocked(mr, b.Nr, b.Wide, m, n, k, alpha, a, rsa, csa, null, 0, 0, beta != 0, c, ldc, default, GemmTiles.Default, b);
    }

    static void Blocked(int mr, int nr, bool wide, int m, int n, int k, float alpha, float* a, long rsa, long csa,
        float* b, long rsb, long csb, bool accumulate, float* c, long ldc, GemmEpilogue epilogue, GemmTiles tiles, PackedB? packed = null, GemmGate gate = default,
        int threads = 0, bool bf16 = false, DequantizingB? dq = null, ushort* a16 = null)
    {
        if (threads == 0) threads = Math.Max(1, Threads.Count);
        // Both operands in bfloat16 (A's rows at hand as stored, B the weight's rows): the dot-product micro-kernel, its
        // panels packed in pairs of k (same tile shape as the float32 AVX-512 kernel, so the blocking below is shared).
        bool dot16 = a16 != null && bf16 && wide && alpha == 1f && rsb == 1 && csa == 1 && packed == null && dq == null && gate.IsEmpty
            && mr == Bf16DotMicroKernel.MR && nr == Bf16DotMicroKernel.NR && Bf16DotMicroKernel.IsSupported;
        int KC = tiles.Kc, NC = tiles.Nc;
        // Row blocks as equal as whole micro-panels allow: one thread, big blocks; several, blocks of about ParallelPanels
        // micro-panels claimed dynamically, their count a multiple of the thread count so the threads finish together
        // (1024 rows in 96-row blocks left one of two threads 12 % idle at every k-block's barrier).
        int mPanels = (m + mr - 1) / mr;
        // Too few rows to give every thread several row blocks: split the columns instead, so each thread streams only its
        // share of the packed B (splitting 32 rows in two had both threads read all of B: slower than one thread).
        bool splitColumns = threads > 1 && mPanels < tiles.ParallelPanels * threads;
        if (splitColumns && packed == null)
        {
            // Each thread computes its own slab of columns from start to end — packing its share of B into its own cache,
            // no barrier between packing and computing, none between k-blocks. Sharing one job per k-block cost two
            // fork-joins per 256 × 1024 block of B (128 × 4096 × 4096, x·Wᵀ, on two threads: 15.8 → 13.5 ms).
            new ColumnSlabs
            {
                Mr = mr,
                Nr = nr,
                Wide = wide,
                M = m,
                N = n,
                K = k,
                Alpha = alpha,
                A = a,
                Rsa = rsa,
                Csa = csa,
                B = b,
                Rsb = rsb,
                Csb = csb,
                Accumulate = accumulate,
                C = c,
                Ldc = ldc,
                Epilogue = epilogue,
                Tiles = tiles,
                Gate = gate,
                Slabs = threads,
                Bf16 = bf16,
                Dq = dq,
                A16 = dot16 ? a16 : null,
            }.Run();
            return;
        }
        int mBlocks = threads == 1 || splitColumns
            ? (mPanels + tiles.McPanels - 1) / tiles.McPanels
            : Math.Min(mPanels, ((mPanels + tiles.ParallelPanels - 1) / tiles.ParallelPanels + threads - 1) / threads * threads);
        int nSlices = splitColumns ? threads : 1;
        int mc = (mPanels + mBlocks - 1) / mBlocks * mr;
        long bNeed = (long)KC * ((Math.Min(NC, n) + nr - 1) / nr * nr);
        float* bPack = (float*)(_bPack ??= new()).Get(bNeed * sizeof(float));
        var job = new Job
        {
            Mr = mr,
            Nr = nr,
            Wide = wide,
            M = m,
            Mc = mc,
            Alpha = alpha,
            A = a,
            Rsa = rsa,
            Csa = csa,
            Rsb = rsb,
            Csb = csb,
            C = c,
            Ldc = ldc,
            Epilogue = epilogue,
            BPack = bPack,
            Gate = gate,
            Bf16 = bf16,
            Dq = dq,
            A16 = dot16 ? a16 : null,
            MPanels = mPanels,
            MBlocks = mBlocks,
            NSlices = nSlices,
        };
        for (int jc = 0, jb = 0; jc < n; jc += NC, jb++)
        {
            int nc = Math.Min(NC, n - jc);
            int panels = (nc + nr - 1) / nr;
            // K in equal blocks of at most KC: no short last block paying a full tile's C traffic.
            int kBlocks = (k + KC - 1) / KC, kcEven = (k + kBlocks - 1) / kBlocks;
            if (dot16) kcEven += kcEven & 1;   // pairs of k never straddle two blocks
            for (int pc = 0, pb = 0; pc < k; pc += kcEven, pb++)
            {
                int kc = Math.Min(kcEven, k - pc);
                job.Jc = jc; job.Nc = nc; job.Pc = pc; job.Kc = kc;
                job.Accumulate = accumulate || pc > 0;
                job.Last = pc + kc >= k;
                if (packed != null)
                {
                    job.DirectB = false;
                    job.BPack = packed.Block(jb, pb, kBlocks);
                }
                else
                {
                    job.BBlock = ElementAt(b, pc * rsb + jc * csb, bf16);
                    // Narrow row-major B (rows at most 2 KiB apart) whose width is a whole number of panels is
                    // read in place: packing it costs more than it saves. Wide B is packed (strided rows thrash L1).
                    job.DirectB = ReadBInPlace && !bf16 && dq == null && csb == 1 && nc % nr == 0 && rsb <= 512;
                    if (!job.DirectB) Threads.For(panels, 8, job.PackPanels);
                }
                job.NextBlock = 0;
                job.Blocks = mBlocks * nSlices;
                Threads.For(Math.Min(threads, job.Blocks), 1, job.ComputeBlocks);
            }
        }
    }

    /// <summary>A product split into column slabs, one per thread, each computed as a one-thread product of its own.</summary>
    sealed class ColumnSlabs
    {
        public int Mr, Nr, M, N, K, Slabs;
        public bool Wide, Accumulate, Bf16;
        public float Alpha;
        public float* A, B, C;
        public long Rsa, Csa, Rsb, Csb, Ldc;
        public GemmEpilogue Epilogue;
        public GemmTiles Tiles;
        public GemmGate Gate;
        public DequantizingB? Dq;
        public ushort* A16;

        public void Run() => Threads.For(Slabs, 1, Range);

        void Range(long s, long e)
        {
            int panels = (N + Nr - 1) / Nr;
            for (long t = s; t < e; t++)
            {
                int j0 = (int)(t * panels / Slabs) * Nr, j1 = Math.Min(N, (int)((t + 1) * panels / Slabs) * Nr);
                if (j0 >= j1) continue;
                Blocked(Mr, Nr, Wide, M, j1 - j0, K, Alpha, A, Rsa, Csa, ElementAt(B, j0 * Csb, Bf16), Rsb, Csb, Accumulate, C + j0, Ldc,
                    Epilogue.Columns(j0), Tiles, gate: Gate, threads: 1, bf16: Bf16, dq: Dq is { } dq ? dq with { Offset = dq.Offset + j0 } : null, a16: A16);
            }
        }
    }

    /// <summary>The state of one GEMM call shared by the threads working on it.</summary>
    sealed class Job
    {
        public int Mr, Nr, M, Mc, Jc, Nc, Pc, Kc, Blocks, MPanels, MBlocks, NSlices;
        public int NextBlock;
        public bool Wide, Accumulate, Last, DirectB, Bf16;
        /// <summary>A in bfloat16 where both operands are packed in pairs of k for <see cref="Bf16DotMicroKernel"/>; else null.</summary>
        public ushort* A16;
        public float Alpha;
        public float* A, BBlock, C, BPack;
        public long Rsa, Csa, Rsb, Csb, Ldc;
        public GemmEpilogue Epilogue;
        public GemmGate Gate;
        public DequantizingB? Dq;
        public readonly Action<long, long> PackPanels, ComputeBlocks;

        public Job()
        {
            PackPanels = PackRange;
            ComputeBlocks = ComputeRange;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void PackRange(long s, long e)
        {
            if (Dq != null) DequantizePanels(s, e);
            else if (A16 != null) Bf16PairPacking.PackB((ushort*)BBlock, Csb, Kc, Nc, s, e, (uint*)BPack);
            else if (Bf16) PackBPanels<BFloat16Elements>((byte*)BBlock, Rsb, Csb, Kc, Nc, Nr, s, e, BPack);
            else PackBPanels<Float32Elements>((byte*)BBlock, Rsb, Csb, Kc, Nc, Nr, s, e, BPack);
        }

        /// <summary>Panels [s, e) of a quantized B, dequantized into this thread's buffer and packed.</summary>
        void DequantizePanels(long s, long e)
        {
            var (weight, offset, transposed) = Dq!.Value;
            float* rows = (float*)(_dequantized ??= new()).Get((long)Nr * Kc * sizeof(float));
            for (long q = s; q < e; q++)
            {
                int col = (int)q * Nr, valid = Math.Min(Nr, Nc - col);
                float* panel = BPack + q * Nr * Kc;
                if (transposed)
                {
                    // B = Wᵀ: the panel's columns are weight rows, dequantized as rows and transposed by the packer.
                    weight.Dequantize(offset + Jc + col, valid, Pc, Kc, rows);
                    PackB<Float32Elements>((byte*)rows, 1, Kc, Kc, 0, valid, Nr, panel);
                }
                else if (valid == Nr) weight.Dequantize(Pc, Kc, offset + Jc + col, Nr, panel);   // B = W: already the panel's layout
                else
                {
                    weight.Dequantize(Pc, Kc, offset + Jc + col, valid, rows);
                    PackB<Float32Elements>((byte*)rows, valid, 1, Kc, 0, valid, Nr, panel);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void ComputeRange(long s, long e)
        {
            long aNeed = (long)(Mc + Mr) * Kc;
            float* ap = (float*)(_aPack ??= new()).Get(aNeed * sizeof(float));
            float* tile = stackalloc float[MicroKernel512.MR * MicroKernel512.NR];
            int mr = Mr, kc = Kc, nc = Nc, nr = Nr;
            long ldc = Ldc;
            int nPanels = (nc + nr - 1) / nr;
            for (int blk; (blk = System.Threading.Interlocked.Increment(ref NextBlock) - 1) < Blocks;)
            {
                // Block blk is row block blk / NSlices (micro-panels [b·P/MBlocks, (b+1)·P/MBlocks): sizes differ by at most
                // one panel) times column slice blk % NSlices (B's micro-panels split alike).
                int mb = blk / NSlices, ns = blk % NSlices;
                int ic = (int)((long)mb * MPanels / MBlocks) * mr, iend = Math.Min(M, (int)((long)(mb + 1) * MPanels / MBlocks) * mr);
                int j0 = (int)((long)ns * nPanels / NSlices) * nr, j1 = Math.Min(nc, (int)((long)(ns + 1) * nPanels / NSlices) * nr);
                if (j0 >= j1) continue;
                int mcur = iend - ic;
                long offset = ic * Rsa + Pc * Csa;
                if (A16 != null) Bf16PairPacking.PackA(A16 + offset, Rsa, mcur, kc, (uint*)ap);
                else if (Gate.IsEmpty) PackA(A + offset, Rsa, Csa, mcur, kc, mr, ap);
                else PackGatedA(A + offset, Gate.Values + offset, Gate.Scale, Rsa, Csa, mcur, kc, mr, ap);
                // The A micro-panel stays in L1 while the B micro-panels of the block stream from L2
                // (measured a little faster here than keeping the wider B panel resident).
                for (int ir = 0; ir < mcur; ir += mr)
                    for (int jr = j0; jr < j1; jr += nr)
                    {
                        if (A16 != null) PairTile((uint*)ap, ic, ir, jr, mcur, tile);
                        else Tile(ap, ic, ir, jr, mcur, tile);
                    }
                if (Last && !Epilogue.IsEmpty)
                    for (int i = 0; i < mcur; i++) Epilogue.Apply(C + (ic + i) * ldc + Jc + j0, ic + i, Jc + j0, j1 - j0);
            }
        }

        /// <summary><see cref="Tile"/> over panels packed in pairs of k, by <see cref="Bf16DotMicroKernel"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void PairTile(uint* ap, int ic, int ir, int jr, int mcur, float* tile)
        {
            int mr = Mr, nr = Nr, pairs = (Kc + 1) / 2;
            int mrows = Math.Min(mr, mcur - ir), ncur = Math.Min(nr, Nc - jr);
            uint* apanel = ap + (long)ir * pairs, bpanel = (uint*)BPack + (long)jr * pairs;
            float* cTile = C + (ic + ir) * Ldc + Jc + jr;
            if (mrows == mr && ncur == nr)
            {
                Bf16DotMicroKernel.Run(pairs, apanel, bpanel, cTile, Ldc, Accumulate);
                return;
            }
            Bf16DotMicroKernel.Run(pairs, apanel, bpanel, tile, nr, false);
            CopyTile(tile, nr, cTile, Ldc, mrows, ncur, Accumulate);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Tile(float* ap, int ic, int ir, int jr, int mcur, float* tile)
        {
            int mr = Mr, nr = Nr, kc = Kc;
            long ldc = Ldc;
            int mrows = Math.Min(mr, mcur - ir), ncur = Math.Min(nr, Nc - jr);
            float* apanel = ap + (long)ir * kc;
            float* bpanel = DirectB ? BBlock + jr : BPack + (long)jr * kc;
            long ldb = DirectB ? Rsb : nr;
            float* cTile = C + (ic + ir) * ldc + Jc + jr;
            if (mrows == mr && ncur == nr)
            {
                Kernel(Wide, kc, apanel, bpanel, ldb, cTile, ldc, Alpha, Accumulate);
                return;
            }
            if (Wide)
            {
                Edge512(kc, apanel, bpanel, ldb, cTile, ldc, mrows, ncur, Alpha, Accumulate, tile);
                return;
            }
            // Edge tile: compute into a scratch tile, then copy the valid part.
            Kernel(Wide, kc, apanel, bpanel, ldb, tile, nr, Alpha, false);
            CopyTile(tile, nr, cTile, ldc, mrows, ncur, Accumulate);
        }
    }

    /// <summary>
    /// An AVX-512 edge tile (<paramref name="rows"/> × <paramref name="cols"/>, less than 12 × 32) by the narrowest generated
    /// kernel that covers it — 4 or 8 rows, or 16 columns — straight into C when it covers it exactly, else into
    /// <paramref name="tile"/> and the valid part copied.
    /// </summary>
    static void Edge512(int kc, float* a, float* b, long ldb, float* c, long ldc, int rows, int cols, float alpha, bool acc, float* tile)
    {
        int kernelRows = rows <= 4 ? 4 : rows <= 8 ? 8 : MicroKernel512.MR;
        int kernelCols = kernelRows == MicroKernel512.MR && cols <= 16 ? 16 : MicroKernel512.NR;
        bool exact = rows == kernelRows && cols == kernelCols;
        float* o = exact ? c : tile;
        long ldo = exact ? ldc : MicroKernel512.NR;
        bool into = exact && acc;
        if (kernelRows == 4) MicroKernel512.Rows4(kc, a, b, ldb, o, ldo, alpha, into);
        else if (kernelRows == 8) MicroKernel512.Rows8(kc, a, b, ldb, o, ldo, alpha, into);
        else if (kernelCols == 16) MicroKernel512.Run16(kc, a, b, ldb, o, ldo, alpha, into);
        else MicroKernel512.Run(kc, a, b, ldb, o, ldo, alpha, into);
        if (!exact) CopyTile(tile, ldo, c, ldc, rows, cols, acc);
    }

    /// <summary>Copies (or adds, with <paramref name="acc"/>) the valid rows × cols of a scratch tile into C.</summary>
    /// <remarks>
    /// Eight columns at a time: element by element the copy cost a sixth of an edge tile's time (a 1000-wide product's
    /// last panel of 8 columns: 1024 × 1024 × 1000 on 1 thread 1.3 % faster, alternating in one process).
    /// </remarks>
    static void CopyTile(float* tile, long ldt, float* c, long ldc, int rows, int cols, bool acc)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + i * ldt, o = c + i * ldc;
            int j = 0;
            for (; j + 8 <= cols; j += 8)
            {
                var v = Vector256.Load(t + j);
                (acc ? Vector256.Load(o + j) + v : v).Store(o + j);
            }
            for (; j < cols; j++) o[j] = acc ? o[j] + t[j] : t[j];
        }
    }

    static void Kernel(bool wide, int kc, float* a, float* b, long ldb, float* c, long ldc, float alpha, bool acc)
    {
        if (wide) MicroKernel512.Run(kc, a, b, ldb, c, ldc, alpha, acc);
        else MicroKernel256.Run(kc, a, b, ldb, c, ldc, alpha, acc);
    }

    /// <summary>Packs micro-panels [s, e) of a kc × nc block of B (B[p, j] at b + p·rsb + j·csb), panel q at dst + q·nr·kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackBPanels<TW>(byte* b, long rsb, long csb, int kc, int nc, int nr, long s, long e, float* dst) where TW : struct, IWeightElements
    {
        long panelStride = (long)nr * kc;
        if (csb == 1)
        {
            // Row-major B: eight rows at a time, each walked left to right across the panels. Panel by panel read NR floats
            // per row a row stride apart (a new page each row, which the hardware prefetcher does not follow): 1024²
            // products spent 6 % of their time packing B that way, 2.3 % this way.
            long full = Math.Min(e, nc / nr);
            for (int p0 = 0; p0 < kc && full > s; p0 += 8)
            {
                int rows = Math.Min(8, kc - p0);
                for (long q = s; q < full; q++)
                {
                    byte* src = b + (p0 * rsb + q * nr) * TW.Size;
                    float* o = dst + q * panelStride + p0 * nr;
                    for (int r = 0; r < rows; r++, src += rsb * TW.Size, o += nr)
                        for (int j = 0; j < nr; j += 8) Vector256.Store(TW.Load<Elementwise.Lanes256>(src, j).V, o + j);
                }
            }
            s = Math.Max(s, full);
        }
        for (long q = s; q < e; q++)
            PackB<TW>(b, rsb, csb, kc, (int)q * nr, Math.Min(nr, nc - (int)q * nr), nr, dst + q * panelStride);
    }

    /// <summary>Packs rows of A into MR-row micro-panels, k-major, zero-padding the last panel.</summary>
    internal static void PackA(float* a, long rsa, long csa, int rows, int kc, int mr, float* dst) =>
        Pack(new PlainA { A = a }, rsa, csa, rows, kc, mr, dst);

    /// <summary>Packs rows of A as <see cref="PackA"/> does, each element passed through the gate <paramref name="g"/> (A's strides).</summary>
    static void PackGatedA(float* a, float* g, float scale, long rsa, long csa, int rows, int kc, int mr, float* dst) =>
        Pack(new GatedA { A = a, G = g, Scale = Vector256.Create(scale), S = scale }, rsa, csa, rows, kc, mr, dst);

    /// <summary>How many k ahead packing a column-major A fetches its runs.</summary>
    const int ColumnPrefetch = 8;

    /// <summary>How packing reads A: eight, four or one consecutive elements at an element offset.</summary>
    interface IReadA
    {
        Vector256<float> Load(long offset);
        /// <summary>Four consecutive elements (MR = 12 is 8 + 4: the rest of a panel's run in one move, not four).</summary>
        Vector128<float> Load4(long offset);
        float Load1(long offset);
        void Prefetch(long offset);
    }

    struct PlainA : IReadA
    {
        public float* A;
        public readonly Vector256<float> Load(long offset) => Vector256.Load(A + offset);
        public readonly Vector128<float> Load4(long offset) => Vector128.Load(A + offset);
        public readonly float Load1(long offset) => A[offset];
        public readonly void Prefetch(long offset) => Sse.Prefetch0(A + offset);
    }

    /// <summary>A through a ReLU gate: A·scale where the gate (same layout) is positive, else 0 — in lanes, without a branch.</summary>
    struct GatedA : IReadA
    {
        public float* A, G;
        public Vector256<float> Scale;
        public float S;
        public readonly Vector256<float> Load(long offset) => GemmGate.Gated(Vector256.Load(A + offset), Vector256.Load(G + offset), Scale);
        public readonly Vector128<float> Load4(long offset) => GemmGate.Gated(Vector128.Load(A + offset), Vector128.Load(G + offset), Scale.GetLower());
        public readonly float Load1(long offset) => G[offset] > 0 ? A[offset] * S : 0f;
        public readonly void Prefetch(long offset) { Sse.Prefetch0(A + offset); Sse.Prefetch0(G + offset); }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Pack<TRead>(TRead a, long rsa, long csa, int rows, int kc, int mr, float* dst) where TRead : struct, IReadA
    {
        if (rsa == 1 && csa != 1)
        {
            // A stored column-major (a transposed view, as in weight gradients dYᵀ·X): each k's values of all the block's
            // rows are one contiguous run, dealt out MR at a time to the panels. Panel by panel instead, every k jumped a
            // whole column (often 4–8 KiB) for MR values: a new page and no prefetch each time (2048 × 1024 × 256 at
            // 144 GFLOP/s against 173 with A row-major).
            if (rows % mr != 0) new Span<float>(dst + (long)(rows - rows % mr) * kc, kc * mr).Clear();
            for (int p = 0; p < kc; p++)
            {
                long at = p * csa;
                // The run ColumnPrefetch k ahead is fetched now: runs lie a column apart (often 1–3 KiB), a new page every few
                // k, which the hardware prefetcher does not follow (weight gradients dYᵀ·X of a Llama MLP, operands cold:
                // 157–166 → 172–190 GFLOP/s on 1 thread, with the four-wide tail below).
                if (p + ColumnPrefetch < kc)
                    for (int j = 0; j < rows; j += 16) a.Prefetch(at + ColumnPrefetch * csa + j);
                for (int ir = 0; ir < rows; ir += mr)
                {
                    int valid = Math.Min(mr, rows - ir);
                    float* o = dst + (long)ir * kc + p * mr;
                    int i = 0;
                    for (; i + 8 <= valid; i += 8) a.Load(at + ir + i).Store(o + i);
                    for (; i + 4 <= valid; i += 4) a.Load4(at + ir + i).Store(o + i);
                    for (; i < valid; i++) o[i] = a.Load1(at + ir + i);
                }
            }
            return;
        }
        for (int ir = 0; ir < rows; ir += mr)
        {
            int valid = Math.Min(mr, rows - ir);
            float* panel = dst + (long)ir * kc;
            if (valid < mr) new Span<float>(panel, kc * mr).Clear();
            int p0 = 0;
            if (csa == 1 && Avx.IsSupported)
            {
                // Row-major A (activations, dY): eight k at a time — rows in blocks of eight transposed in registers,
                // the rest of the panel's rows read as lanes and spread.
                for (; p0 + 8 <= kc; p0 += 8)
                {
                    if ((p0 & 15) == 0)
                    {
                        // Rows are read 32 bytes per step, a whole row stride apart (often a multiple of 4 KiB): fetch each
                        // row's line four lines ahead, which the hardware prefetcher did not do across so many streams.
                        for (int r = 0; r < valid; r++) a.Prefetch((ir + r) * rsa + p0 + 64);
                    }
                    int i = 0;
                    for (; i + 8 <= valid; i += 8)
                    {
                        long at = (ir + i) * rsa + p0;
                        Vector256<float> r0 = a.Load(at), r1 = a.Load(at + rsa), r2 = a.Load(at + 2 * rsa), r3 = a.Load(at + 3 * rsa),
                            r4 = a.Load(at + 4 * rsa), r5 = a.Load(at + 5 * rsa), r6 = a.Load(at + 6 * rsa), r7 = a.Load(at + 7 * rsa);
                        RegisterTranspose.Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
                        float* o = panel + p0 * mr + i;
                        r0.Store(o); r1.Store(o + mr); r2.Store(o + 2 * mr); r3.Store(o + 3 * mr);
                        r4.Store(o + 4 * mr); r5.Store(o + 5 * mr); r6.Store(o + 6 * mr); r7.Store(o + 7 * mr);
                    }
                    if (i + 4 <= valid)
                    {
                        // Four more rows (MR = 12): a 4 × 8 transpose, each k's four values stored as one 128-bit run.
                        long at = (ir + i) * rsa + p0;
                        Vector256<float> r0 = a.Load(at), r1 = a.Load(at + rsa), r2 = a.Load(at + 2 * rsa), r3 = a.Load(at + 3 * rsa);
                        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
                        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
                        float* o = panel + p0 * mr + i;
                        u0.GetLower().Store(o); u1.GetLower().Store(o + mr); u2.GetLower().Store(o + 2 * mr); u3.GetLower().Store(o + 3 * mr);
                        u0.GetUpper().Store(o + 4 * mr); u1.GetUpper().Store(o + 5 * mr); u2.GetUpper().Store(o + 6 * mr); u3.GetUpper().Store(o + 7 * mr);
                        i += 4;
                    }
                    for (; i < valid; i++)
                    {
                        var v = a.Load((ir + i) * rsa + p0);
                        float* o = panel + p0 * mr + i;
                        for (int j = 0; j < 8; j++) o[j * mr] = v.GetElement(j);
                    }
                }
            }
            for (int i = 0; i < valid; i++)
            {
                long at = (ir + i) * rsa;
                for (int p = p0; p < kc; p++) panel[p * mr + i] = a.Load1(at + p * csa);
            }
        }
    }

    /// <summary>Writes the transpose of the 8 × 8 block at <paramref name="src"/> (rows <paramref name="srcStride"/> apart) to <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8<TW>(byte* src, long srcStride, float* dst, long dstStride) where TW : struct, IWeightElements
    {
        Vector256<float> r0 = Row8<TW>(src, 0), r1 = Row8<TW>(src, srcStride), r2 = Row8<TW>(src, 2 * srcStride), r3 = Row8<TW>(src, 3 * srcStride),
            r4 = Row8<TW>(src, 4 * srcStride), r5 = Row8<TW>(src, 5 * srcStride), r6 = Row8<TW>(src, 6 * srcStride), r7 = Row8<TW>(src, 7 * srcStride);
        RegisterTranspose.Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Avx.Store(dst, r0); Avx.Store(dst + dstStride, r1); Avx.Store(dst + 2 * dstStride, r2); Avx.Store(dst + 3 * dstStride, r3);
        Avx.Store(dst + 4 * dstStride, r4); Avx.Store(dst + 5 * dstStride, r5); Avx.Store(dst + 6 * dstStride, r6); Avx.Store(dst + 7 * dstStride, r7);
    }

    /// <summary>Packs columns [col, col+valid) of a B block into one NR-wide micro-panel, k-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackB<TW>(byte* b, long rsb, long csb, int kc, int col, int valid, int nr, float* dst) where TW : struct, IWeightElements
    {
        if (rsb == 1 && csb != 1)
        {
            // B stored column-major (a transposed weight, as in x·Wᵀ): 8 × 8 blocks read down 8 columns' contiguous runs
            // and transposed in registers, instead of gathering across columns one cache line per element.
            int j8 = Avx.IsSupported ? valid / 8 * 8 : 0, p8 = kc / 8 * 8;
            for (int j = 0; j < j8; j += 8)
            {
                byte* src = b + (col + j) * csb * TW.Size, next = src + 8 * csb * TW.Size;
                for (int p = 0; p < p8; p += 8)
                {
                    if ((p * TW.Size & 63) == 0) FetchEightRows(next + p * TW.Size, csb * TW.Size);
                    Transpose8x8<TW>(src + p * TW.Size, csb, dst + p * nr + j, nr);
                }
                for (int p = p8; p < kc; p++)
                    for (int jj = 0; jj < 8; jj++) dst[p * nr + j + jj] = TW.At(src, jj * csb + p);
            }
            for (int j = j8; j < valid; j++)
            {
                byte* src = b + (col + j) * csb * TW.Size;
                for (int p = 0; p < kc; p++) dst[p * nr + j] = TW.At(src, p);
            }
            if (valid < nr)
                for (int p = 0; p < kc; p++)
                    for (int j = valid; j < nr; j++) dst[p * nr + j] = 0;
            return;
        }
        for (int p = 0; p < kc; p++)
        {
            byte* src = b + (p * rsb + col * csb) * TW.Size;
            float* row = dst + p * nr;
            if (csb == 1 && valid == nr)
            {
                // A micro-panel row is 8–32 floats: vector copies inline, not a memmove call per 128 bytes.
                int j = 0;
                for (; j + 8 <= nr; j += 8) Vector256.Store(TW.Load<Elementwise.Lanes256>(src, j).V, row + j);
                for (; j < nr; j++) row[j] = TW.At(src, j);
            }
            else
            {
                for (int j = 0; j < valid; j++) row[j] = TW.At(src, j * csb);
                for (int j = valid; j < nr; j++) row[j] = 0;
            }
        }
    }

    /// <summary>
    /// Fetches the line at <paramref name="at"/> in each of eight rows <paramref name="rowBytes"/> apart: a packer reading
    /// eight weight rows (a column-major B) fetches the next eight as it goes. Each row's run in a block is short (kc
    /// values) and a whole weight row from the next, too short for the hardware prefetcher to follow: with the weights in
    /// memory a batch-8 prompt of the 124M Llama ran 3–5 % faster in bf16 and 0–6 % in fp32 (alternating builds, and
    /// rounds of one process); products with the weight in cache the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FetchEightRows(byte* at, long rowBytes)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < 8; r++) Sse.Prefetch0(at + r * rowBytes);
    }

    /// <summary>Eight elements of B at element offset <paramref name="at"/>, as float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Row8<TW>(byte* b, long at) where TW : struct, IWeightElements => TW.Load<Elementwise.Lanes256>(b, at).V;

    /// <summary>
    /// <paramref name="b"/> advanced by <paramref name="elements"/> of its storage type (a bfloat16 B travels through the
    /// blocked driver as a float pointer; only packing reads its elements).
    /// </summary>
    static float* ElementAt(float* b, long elements, bool bf16) => bf16 ? (float*)((ushort*)b + elements) : b + elements;
}
