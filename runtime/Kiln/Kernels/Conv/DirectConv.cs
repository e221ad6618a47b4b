using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Conv;

/// <summary>
/// Direct float convolution for stride 1, dilation 1 and few output channels (LeNet-sized layers), where GEMM tiles
/// would mostly multiply padding. Each image is copied into a zero-padded buffer; outputs are computed on the padded
/// width (output q = oy·Wp + ox reads the input at q + ki·Wp + kj for every tap, one contiguous run per tap), four
/// output channels by 24 positions per register block; the columns past the real width are dropped when the rows are
/// copied out. The input gradient is the same forward run on the zero-padded output gradient with the kernel flipped
/// and its channel axes swapped; the weight gradient is a blocked dot product over the same padded layout.
/// </summary>
internal static unsafe class DirectConv
{
    /// <summary>Output channels per register block.</summary>
    const int Ob = 4;
    /// <summary>Vectors of positions per register block (8 lanes each).</summary>
    const int Pv = 3;
    const int Block = 8 * Pv;

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

    /// <summary>dx = the stride-1 correlation of dy, padded by k-1-p, with the flipped kernel and in/out channels swapped.</summary>
    public static void InputGrad(ConvKernel.Shape s, float* w, float* dy, float* dx)
    {
        var plan = new Plan(s.O, s.OH, s.OW, s.G.KH - 1 - s.G.PH, s.G.KW - 1 - s.G.PW, s.C, s.G.KH, s.G.KW);
        var packed = PackWeights(plan, (c, o, ki, kj) => w[((long)o * s.C + c) * s.Kk + (s.G.KH - 1 - ki) * s.G.KW + (s.G.KW - 1 - kj)]);
        try { Run(plan, s.N, dy, packed, null, dx); }
        finally { NativeMemory.AlignedFree(packed); }
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
                                    MicroKernel(xpad + q, off, p.Taps, packed + (long)b * p.Taps * Ob, tile + (long)b * Ob * p.Q + q, p.Q);
                            CopyRows(p, tile, bias, y + n * p.Cout * p.OH * p.OW);
                        }
            }
            finally { NativeMemory.Free(xpad); NativeMemory.AlignedFree(tile); }
        });
    }

    /// <summary>
    /// out[i, 0..24) = Σ over taps r of w[r, i] · x[off[r] + 0..24) for four channels i: twelve accumulators, three
    /// input loads and four broadcasts per tap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MicroKernel(float* x, long* off, int taps, float* w, float* output, int stride)
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        for (int r = 0; r < taps; r++, w += Ob)
        {
            float* src = x + off[r];
            var x0 = Vector256.Load(src);
            var x1 = Vector256.Load(src + 8);
            var x2 = Vector256.Load(src + 16);
            var w0 = Vector256.Create(w[0]);
            a00 = Vector256.FusedMultiplyAdd(x0, w0, a00); a01 = Vector256.FusedMultiplyAdd(x1, w0, a01); a02 = Vector256.FusedMultiplyAdd(x2, w0, a02);
            var w1 = Vector256.Create(w[1]);
            a10 = Vector256.FusedMultiplyAdd(x0, w1, a10); a11 = Vector256.FusedMultiplyAdd(x1, w1, a11); a12 = Vector256.FusedMultiplyAdd(x2, w1, a12);
            var w2 = Vector256.Create(w[2]);
            a20 = Vector256.FusedMultiplyAdd(x0, w2, a20); a21 = Vector256.FusedMultiplyAdd(x1, w2, a21); a22 = Vector256.FusedMultiplyAdd(x2, w2, a22);
            var w3 = Vector256.Create(w[3]);
            a30 = Vector256.FusedMultiplyAdd(x0, w3, a30); a31 = Vector256.FusedMultiplyAdd(x1, w3, a31); a32 = Vector256.FusedMultiplyAdd(x2, w3, a32);
        }
        a00.Store(output); a01.Store(output + 8); a02.Store(output + 16);
        output += stride; a10.Store(output); a11.Store(output + 8); a12.Store(output + 16);
        output += stride; a20.Store(output); a21.Store(output + 8); a22.Store(output + 16);
        output += stride; a30.Store(output); a31.Store(output + 8); a32.Store(output + 16);
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
        long wSize = (long)couts * tapBlocks * 3;
        float* partial = (float*)NativeMemory.AllocZeroed((nuint)(slots * wSize), sizeof(float));
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
                            float* acc = partial + slot * wSize;   // [cout, tap], taps padded to whole blocks
                            for (long n = s.N * slot / slots; n < s.N * (slot + 1) / slots; n++)
                            {
                                Padded.Fill(x + n * s.C * s.H * s.W, s.C, s.H, s.W, s.G.PH, s.G.PW, xpad);
                                float* dyn = dy + n * s.O * s.L;
                                for (int o = 0; o < s.O; o++)
                                    for (int r = 0; r < s.OH; r++)
                                        new ReadOnlySpan<float>(dyn + ((long)o * s.OH + r) * s.OW, s.OW)
                                            .CopyTo(new Span<float>(dyp + (long)o * p.Q + (long)r * p.Wp, s.OW));
                                for (int b = 0; b < p.CoutBlocks; b++)
                                    for (int t = 0; t < tapBlocks; t++)
                                        DotKernel(dyp + (long)b * Ob * p.Q, p.Q, xpad, off + t * 3, acc + (long)b * Ob * tapBlocks * 3 + t * 3, tapBlocks * 3);
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
                    for (int sl = 0; sl < slots; sl++) a += partial[sl * wSize + (long)o * stride + r];
                    dw[(long)o * taps + r] = a;
                }
        }
        finally { NativeMemory.Free(partial); }
    }

    /// <summary>acc[i, j] += Σ_q dy[i·q + q'] · x[off[j] + q'] for four channels i and three taps j over q' &lt; length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotKernel(float* dy, int length, float* x, long* off, float* acc, int accStride)
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        float* x0p = x + off[0], x1p = x + off[1], x2p = x + off[2];
        float* d0p = dy, d1p = dy + length, d2p = dy + 2 * length, d3p = dy + 3 * length;
        for (int q = 0; q < length; q += 8)
        {
            var x0 = Vector256.Load(x0p + q);
            var x1 = Vector256.Load(x1p + q);
            var x2 = Vector256.Load(x2p + q);
            var d = Vector256.Load(d0p + q);
            a00 = Vector256.FusedMultiplyAdd(d, x0, a00); a01 = Vector256.FusedMultiplyAdd(d, x1, a01); a02 = Vector256.FusedMultiplyAdd(d, x2, a02);
            d = Vector256.Load(d1p + q);
            a10 = Vector256.FusedMultiplyAdd(d, x0, a10); a11 = Vector256.FusedMultiplyAdd(d, x1, a11); a12 = Vector256.FusedMultiplyAdd(d, x2, a12);
            d = Vector256.Load(d2p + q);
            a20 = Vector256.FusedMultiplyAdd(d, x0, a20); a21 = Vector256.FusedMultiplyAdd(d, x1, a21); a22 = Vector256.FusedMultiplyAdd(d, x2, a22);
            d = Vector256.Load(d3p + q);
            a30 = Vector256.FusedMultiplyAdd(d, x0, a30); a31 = Vector256.FusedMultiplyAdd(d, x1, a31); a32 = Vector256.FusedMultiplyAdd(d, x2, a32);
        }
        acc[0] += Vector256.Sum(a00); acc[1] += Vector256.Sum(a01); acc[2] += Vector256.Sum(a02);
        acc += accStride; acc[0] += Vector256.Sum(a10); acc[1] += Vector256.Sum(a11); acc[2] += Vector256.Sum(a12);
        acc += accStride; acc[0] += Vector256.Sum(a20); acc[1] += Vector256.Sum(a21); acc[2] += Vector256.Sum(a22);
        acc += accStride; acc[0] += Vector256.Sum(a30); acc[1] += Vector256.Sum(a31); acc[2] += Vector256.Sum(a32);
    }
}
