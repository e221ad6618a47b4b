using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels.Conv;

/// <summary>
/// Direct float convolution for stride 1, dilation 1 and few output channels (LeNet-sized layers), where GEMM tiles
/// would mostly multiply padding. Each image is copied into a zero-padded buffer; outputs are computed on the padded
/// width (output q = oy·Wp + ox reads the input at q + ki·Wp + kj for every tap, one contiguous run per tap), four
/// output channels by 24 positions per register block; the columns past the real width are dropped when the rows are
/// copied out. The input gradient runs the same register block with the output channels as its taps and adds each
/// tap's result into the padded input gradient; the weight gradient is a blocked dot product over the same layout.
/// </summary>
internal static unsafe class DirectConv
{
    /// <summary>Output channels per register block.</summary>
    const int Ob = 4;
    /// <summary>Vectors of positions per register block.</summary>
    const int Pv = 3;
    /// <summary>
    /// Positions per register block: three 256-bit vectors. (512-bit lanes measured no faster here: the taps' unaligned
    /// loads, not the FMAs, bound the loop, and wider blocks round the output up further.)
    /// </summary>
    const int Block = Pv * 8;

    /// <summary>Whether the direct kernels handle this layer (and are likely to beat the GEMM route).</summary>
    public static bool Handles(ConvKernel.Shape s) =>
        Vector256.IsHardwareAccelerated && s.Groups == 1 && s.G.SH == 1 && s.G.SW == 1 && s.G.DH == 1 && s.G.DW == 1
        && s.O <= 16 && s.ColRows <= 1024 && s.G.PH < s.G.KH && s.G.PW < s.G.KW;

    /// <summary>Whether the input gradient can run as a direct forward (few input channels).</summary>
    public static bool HandlesInputGrad(ConvKernel.Shape s) => Handles(s) && s.C <= 16;

    /// <summary>One stride-1 correlation: geometry of the (already padded) input and the output it yields.</summary>
    readonly struct Plan(int cin, int h, int w, int ph, int pw, int cout, int kh, int kw)
    {
        public readonly int Cin = cin, H = h, W = w, PH = ph, PW = pw, Cout = cout, KH = kh, KW = kw;
        public int Wp => W + 2 * PW;
        public int Hp => H + 2 * PH;
        public long PlaneP => (long)Hp * Wp;
        public int OH => Hp - KH + 1;
        public int OW => Wp - KW + 1;
        /// <summary>Outputs on the padded width, rounded up to whole register blocks.</summary>
        public int Q => (OH * Wp + Block - 1) / Block * Block;
        public int Taps => Cin * KH * KW;
        public int CoutBlocks => (Cout + Ob - 1) / Ob;
        /// <summary>Padded image plus the slack the last block's taps read past it.</summary>
        public long PaddedSize => Cin * PlaneP + Q - OH * Wp + KW + Block;

        public long[] TapOffsets()
        {
            var off = new long[Taps];
            for (int c = 0, r = 0; c < Cin; c++)
                for (int ki = 0; ki < KH; ki++)
                    for (int kj = 0; kj < KW; kj++, r++) off[r] = c * PlaneP + (long)ki * Wp + kj;
            return off;
        }
    }

    public static void Forward(ConvKernel.Shape s, float* x, float* w, float* bias, float* y)
    {
        var plan = new Plan(s.C, s.H, s.W, s.G.PH, s.G.PW, s.O, s.G.KH, s.G.KW);
        var packed = PackWeights(plan, (o, c, ki, kj) => w[((long)o * s.C + c) * s.Kk + ki * s.G.KW + kj]);
        try { Run(plan, s.N, x, packed, bias, y); }
        finally { NativeMemory.AlignedFree(packed); }
    }

    /// <summary>
    /// dx as the adjoint of the forward: for each tap, Σ over output channels of w[o, c, tap] · dy[o, q] (the forward's
    /// register block with the channels as its taps) added into the padded input gradient at the tap's offset. Only
    /// real outputs are multiplied (dy sits on the padded width with zeros in the dropped columns), unlike a full
    /// correlation over a zero-padded dy.
    /// </summary>
    public static void InputGrad(ConvKernel.Shape s, float* w, float* dy, float* dx)
    {
        var p = new Plan(s.C, s.H, s.W, s.G.PH, s.G.PW, s.O, s.G.KH, s.G.KW);
        int kk = s.Kk, cBlocks = (s.C + Ob - 1) / Ob;
        // packed[cBlock][tap][o][4 input channels]
        var packed = (float*)NativeMemory.AlignedAlloc((nuint)((long)cBlocks * kk * s.O * Ob * sizeof(float)), 64);
        for (int b = 0; b < cBlocks; b++)
            for (int t = 0; t < kk; t++)
                for (int o = 0; o < s.O; o++)
                    for (int i = 0; i < Ob; i++)
                    {
                        int c = b * Ob + i;
                        packed[(((long)b * kk + t) * s.O + o) * Ob + i] = c < s.C ? w[((long)o * s.C + c) * kk + t] : 0f;
                    }
        var channelOffsets = new long[s.O];
        for (int o = 0; o < s.O; o++) channelOffsets[o] = (long)o * p.Q;
        int slots = Math.Max(1, Math.Min(Threads.Count, s.N));
        try
        {
            Threads.For(slots, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
            {
                float* dxpad = (float*)NativeMemory.AlignedAlloc((nuint)(p.PaddedSize * sizeof(float)), 64);
                float* dyp = (float*)NativeMemory.AlignedAlloc((nuint)((long)s.O * p.Q * sizeof(float)), 64);
                float* tile = (float*)NativeMemory.AlignedAlloc((nuint)(Ob * Block * sizeof(float)), 64);
                new Span<float>(dyp, s.O * p.Q).Clear();
                try
                {
                    fixed (long* off = channelOffsets)
                        for (long slot = s0; slot < s1; slot++)
                            for (long n = s.N * slot / slots; n < s.N * (slot + 1) / slots; n++)
                            {
                                new Span<float>(dxpad, checked((int)p.PaddedSize)).Clear();
                                OnPaddedWidth(dy + n * s.O * s.L, s.O, s.OH, s.OW, p, dyp);
                                for (int b = 0; b < cBlocks; b++)
                                    for (int ki = 0, t = 0; ki < s.G.KH; ki++)
                                        for (int kj = 0; kj < s.G.KW; kj++, t++)
                                        {
                                            float* wt = packed + ((long)b * kk + t) * s.O * Ob;
                                            long tapOffset = (long)ki * p.Wp + kj;
                                            for (int q = 0; q < p.Q; q += Block)
                                            {
                                                MicroKernel<Lanes256>(dyp + q, off, s.O, wt, tile, Block);
                                                for (int i = 0; i < Ob && b * Ob + i < s.C; i++)
                                                    AddRun(dxpad + (b * Ob + i) * p.PlaneP + tapOffset + q, tile + i * Block);
                                            }
                                        }
                                Padded.Extract(dxpad, s.C, s.H, s.W, s.G.PH, s.G.PW, dx + n * s.C * s.H * s.W);
                            }
                }
                finally { NativeMemory.AlignedFree(dxpad); NativeMemory.AlignedFree(dyp); NativeMemory.AlignedFree(tile); }
            });
        }
        finally { NativeMemory.AlignedFree(packed); }
    }

    /// <summary>dst[0..Block) += src[0..Block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddRun(float* dst, float* src)
    {
        for (int j = 0; j < Block; j += 8) (Vector256.Load(dst + j) + Vector256.Load(src + j)).Store(dst + j);
    }

    /// <summary>An output-shaped [c, oh, ow] image laid out on the plan's padded width [c, Q]; the other columns stay as they are (zero).</summary>
    static void OnPaddedWidth(float* src, int c, int oh, int ow, Plan p, float* dst)
    {
        for (int ch = 0; ch < c; ch++)
            for (int r = 0; r < oh; r++)
                new ReadOnlySpan<float>(src + ((long)ch * oh + r) * ow, ow).CopyTo(new Span<float>(dst + (long)ch * p.Q + (long)r * p.Wp, ow));
    }

    delegate float WeightAt(int cout, int cin, int ki, int kj);

    /// <summary>Weights as [cout block][tap][4 channels] (zeros past the last channel) so each tap broadcasts four in a row.</summary>
    static float* PackWeights(Plan p, WeightAt at)
    {
        int taps = p.Taps;
        var packed = (float*)NativeMemory.AlignedAlloc((nuint)((long)p.CoutBlocks * taps * Ob * sizeof(float)), 64);
        for (int b = 0; b < p.CoutBlocks; b++)
            for (int c = 0, r = 0; c < p.Cin; c++)
                for (int ki = 0; ki < p.KH; ki++)
                    for (int kj = 0; kj < p.KW; kj++, r++)
                        for (int i = 0; i < Ob; i++)
                        {
                            int o = b * Ob + i;
                            packed[((long)b * taps + r) * Ob + i] = o < p.Cout ? at(o, c, ki, kj) : 0f;
                        }
        return packed;
    }

    /// <summary>The forward correlation over a batch, images spread over threads.</summary>
    static void Run(Plan p, int images, float* x, float* packed, float* bias, float* y)
    {
        var offsets = p.TapOffsets();
        int slots = Math.Max(1, Math.Min(Threads.Count, images));
        Threads.For(slots, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
        {
            float* xpad = (float*)NativeMemory.AllocZeroed((nuint)p.PaddedSize, sizeof(float));
            float* tile = (float*)NativeMemory.AlignedAlloc((nuint)((long)p.CoutBlocks * Ob * p.Q * sizeof(float)), 64);
            try
            {
                fixed (long* off = offsets)
                    for (long slot = s0; slot < s1; slot++)
                        for (long n = images * slot / slots; n < images * (slot + 1) / slots; n++)
                        {
                            Padded.Fill(x + n * p.Cin * p.H * p.W, p.Cin, p.H, p.W, p.PH, p.PW, xpad);
                            for (int b = 0; b < p.CoutBlocks; b++)
                                for (int q = 0; q < p.Q; q += Block)
                                    MicroKernel<Lanes256>(xpad + q, off, p.Taps, packed + (long)b * p.Taps * Ob, tile + (long)b * Ob * p.Q + q, p.Q);
                            CopyRows(p, tile, bias, y + n * p.Cout * p.OH * p.OW);
                        }
            }
            finally { NativeMemory.Free(xpad); NativeMemory.AlignedFree(tile); }
        });
    }

    /// <summary>
    /// out[i, 0..3w) = Σ over taps r of w[r, i] · x[off[r] + 0..3w) for four channels i and w-lane vectors: twelve
    /// accumulators, three input loads and four broadcasts per tap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MicroKernel<TV>(float* x, long* off, int taps, float* w, float* output, int stride) where TV : struct, IFloatLanes<TV>
    {
        int n = TV.Count;
        TV a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        TV a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        for (int r = 0; r < taps; r++, w += Ob)
        {
            float* src = x + off[r];
            var x0 = TV.Load(src);
            var x1 = TV.Load(src + n);
            var x2 = TV.Load(src + 2 * n);
            var w0 = TV.Splat(w[0]);
            a00 = TV.Fma(x0, w0, a00); a01 = TV.Fma(x1, w0, a01); a02 = TV.Fma(x2, w0, a02);
            var w1 = TV.Splat(w[1]);
            a10 = TV.Fma(x0, w1, a10); a11 = TV.Fma(x1, w1, a11); a12 = TV.Fma(x2, w1, a12);
            var w2 = TV.Splat(w[2]);
            a20 = TV.Fma(x0, w2, a20); a21 = TV.Fma(x1, w2, a21); a22 = TV.Fma(x2, w2, a22);
            var w3 = TV.Splat(w[3]);
            a30 = TV.Fma(x0, w3, a30); a31 = TV.Fma(x1, w3, a31); a32 = TV.Fma(x2, w3, a32);
        }
        TV.Store(a00, output); TV.Store(a01, output + n); TV.Store(a02, output + 2 * n);
        output += stride; TV.Store(a10, output); TV.Store(a11, output + n); TV.Store(a12, output + 2 * n);
        output += stride; TV.Store(a20, output); TV.Store(a21, output + n); TV.Store(a22, output + 2 * n);
        output += stride; TV.Store(a30, output); TV.Store(a31, output + n); TV.Store(a32, output + 2 * n);
    }

    /// <summary>Drops the padded-width columns (and channels past the last) and adds the bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void CopyRows(Plan p, float* tile, float* bias, float* y)
    {
        int oh = p.OH, ow = p.OW, wp = p.Wp, q = p.Q;
        for (int o = 0; o < p.Cout; o++)
        {
            float b = bias != null ? bias[o] : 0f;
            var bv = Vector256.Create(b);
            for (int r = 0; r < oh; r++)
            {
                float* src = tile + (long)o * q + (long)r * wp;
                float* dst = y + ((long)o * oh + r) * ow;
                int c = 0;
                for (; c + 8 <= ow; c += 8) (Vector256.Load(src + c) + bv).Store(dst + c);
                for (; c < ow; c++) dst[c] = src[c] + b;
            }
        }
    }

    /// <summary>
    /// dW[o, tap] = Σ over images and outputs of dy[o, q] · xpad[off[tap] + q], with dy laid out on the padded width
    /// (zeros in the dropped columns) so every tap is one dot product over a contiguous run. Four channels by three taps
    /// per register block; each thread sums its images, and the threads' sums are added at the end.
    /// </summary>
    public static void WeightGrad(ConvKernel.Shape s, float* x, float* dy, float* dw)
    {
        var p = new Plan(s.C, s.H, s.W, s.G.PH, s.G.PW, s.O, s.G.KH, s.G.KW);
        var offsets = p.TapOffsets();
        int taps = p.Taps, tapBlocks = (taps + 2) / 3, couts = p.CoutBlocks * Ob;
        // Pad the tap list to whole blocks by repeating the last tap; the extra sums are dropped.
        var blockOffsets = new long[tapBlocks * 3];
        for (int r = 0; r < blockOffsets.Length; r++) blockOffsets[r] = offsets[Math.Min(r, taps - 1)];
        int slots = Math.Max(1, Math.Min(Threads.Count, s.N));
        // Each (channel, tap) keeps a whole vector of partial sums (reduced once at the end, not after every image).
        const int lanes = 8;
        long wSize = (long)couts * tapBlocks * 3 * lanes;
        float* partial = (float*)NativeMemory.AlignedAlloc((nuint)(slots * wSize * sizeof(float)), 64);
        new Span<float>(partial, checked((int)(slots * wSize))).Clear();
        try
        {
            Threads.For(slots, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
            {
                float* xpad = (float*)NativeMemory.AllocZeroed((nuint)p.PaddedSize, sizeof(float));
                float* dyp = (float*)NativeMemory.AlignedAlloc((nuint)((long)couts * p.Q * sizeof(float)), 64);
                new Span<float>(dyp, couts * p.Q).Clear();
                try
                {
                    fixed (long* off = blockOffsets)
                        for (long slot = s0; slot < s1; slot++)
                        {
                            float* acc = partial + slot * wSize;   // [cout, tap, lane], taps padded to whole blocks
                            for (long n = s.N * slot / slots; n < s.N * (slot + 1) / slots; n++)
                            {
                                Padded.Fill(x + n * s.C * s.H * s.W, s.C, s.H, s.W, s.G.PH, s.G.PW, xpad);
                                OnPaddedWidth(dy + n * s.O * s.L, s.O, s.OH, s.OW, p, dyp);
                                for (int b = 0; b < p.CoutBlocks; b++)
                                    for (int t = 0; t < tapBlocks; t++)
                                        DotKernel<Lanes256>(dyp + (long)b * Ob * p.Q, p.Q, xpad, off + t * 3, acc + ((long)b * Ob * tapBlocks * 3 + t * 3) * lanes, tapBlocks * 3 * lanes);
                            }
                        }
                }
                finally { NativeMemory.Free(xpad); NativeMemory.AlignedFree(dyp); }
            });
            int stride = tapBlocks * 3;
            for (int o = 0; o < s.O; o++)
                for (int r = 0; r < taps; r++)
                {
                    float a = 0;
                    for (int sl = 0; sl < slots; sl++)
                    {
                        float* v = partial + sl * wSize + ((long)o * stride + r) * lanes;
                        for (int l = 0; l < lanes; l++) a += v[l];
                    }
                    dw[(long)o * taps + r] = a;
                }
        }
        finally { NativeMemory.AlignedFree(partial); }
    }

    /// <summary>
    /// acc[i, j, lanes] += the lane-wise partial sums of dy[i·length + q] · x[off[j] + q] over q &lt; length, for four
    /// channels i and three taps j (each acc entry a vector, accStride floats between channels).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotKernel<TV>(float* dy, int length, float* x, long* off, float* acc, int accStride) where TV : struct, IFloatLanes<TV>
    {
        TV a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        TV a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        float* x0p = x + off[0], x1p = x + off[1], x2p = x + off[2];
        float* d0p = dy, d1p = dy + length, d2p = dy + 2 * length, d3p = dy + 3 * length;
        for (int q = 0; q < length; q += TV.Count)
        {
            var x0 = TV.Load(x0p + q);
            var x1 = TV.Load(x1p + q);
            var x2 = TV.Load(x2p + q);
            var d = TV.Load(d0p + q);
            a00 = TV.Fma(d, x0, a00); a01 = TV.Fma(d, x1, a01); a02 = TV.Fma(d, x2, a02);
            d = TV.Load(d1p + q);
            a10 = TV.Fma(d, x0, a10); a11 = TV.Fma(d, x1, a11); a12 = TV.Fma(d, x2, a12);
            d = TV.Load(d2p + q);
            a20 = TV.Fma(d, x0, a20); a21 = TV.Fma(d, x1, a21); a22 = TV.Fma(d, x2, a22);
            d = TV.Load(d3p + q);
            a30 = TV.Fma(d, x0, a30); a31 = TV.Fma(d, x1, a31); a32 = TV.Fma(d, x2, a32);
        }
        int n = TV.Count;
        Add(acc, a00); Add(acc + n, a01); Add(acc + 2 * n, a02);
        acc += accStride; Add(acc, a10); Add(acc + n, a11); Add(acc + 2 * n, a12);
        acc += accStride; Add(acc, a20); Add(acc + n, a21); Add(acc + 2 * n, a22);
        acc += accStride; Add(acc, a30); Add(acc + n, a31); Add(acc + 2 * n, a32);

        static void Add(float* at, TV v) => TV.Store(TV.Add(TV.Load(at), v), at);
    }
}
