using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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

    /// <summary>dx (may be null), dw (may be null) and db (may be null) from dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(Shape s, T* x, T* w, T* dy, T* dx, T* dw, T* db) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long colSize = (long)s.ColRows * s.L;
        int kg = s.Cg * s.Kk;
        long wSize = (long)s.O * kg;
        int slots = Math.Max(1, Math.Min(Threads.Count, s.N));
        // Each thread sums its images' weight gradients into its own slot; the slots are added at the end.
        var partial = dw != null ? (T*)NativeMemory.AllocZeroed((nuint)(slots * wSize), (nuint)sizeof(T)) : null;
        try
        {
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
                    double a = 0;
                    for (int n = 0; n < s.N; n++)
                    {
                        T* row = dy + ((long)n * s.O + o) * s.L;
                        for (int l = 0; l < s.L; l++) a += double.CreateTruncating(row[l]);
                    }
                    db[o] = T.CreateTruncating(a);
                }
        }
        finally { if (partial != null) NativeMemory.Free(partial); }
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
