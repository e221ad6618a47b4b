using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

/// <summary>
/// y = op(x) over one inner run: a vector body for contiguous runs; ends and strided runs go through the same vector body
/// a vector's worth at a time (gathered into a register and scattered back), so every element of a float run gets the
/// same function — the scalar form is only for ops or types without a vector body.
/// </summary>
internal unsafe struct UnaryLoop<T, TOp> : IInnerLoop where T : unmanaged, INumber<T> where TOp : struct, IUnaryOp
{
    public T* Y, X;
    public TOp Op;
    /// <summary>Write contiguous runs with non-temporal stores (<see cref="StreamingStores"/>).</summary>
    public bool Stream;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(long* off, long* st, int n)
    {
        T* y = Y + off[0], x = X + off[1];
        long sy = st[0], sx = st[1];
        if (sy == 1 && sx == 1)
        {
            if (Stream) Contiguous<NonTemporalStore>(y, x, n);
            else Contiguous<CachedStore>(y, x, n);
            return;
        }
        if (Wide && typeof(T) == typeof(float) && sy == 1 && System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Math.Abs(sx) <= int.MaxValue / 16)
        {
            // A strided input into a contiguous run (a transposed input): sixteen lanes gathered by two instructions.
            var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * (int)sx;
            int i = 0;
            for (; i + 16 <= n; i += 16)
            {
                float* at = (float*)(x + i * sx);
                var v = Vector512.Create(System.Runtime.Intrinsics.X86.Avx2.GatherVector256(at, index, 4), System.Runtime.Intrinsics.X86.Avx2.GatherVector256(at + 8 * sx, index, 4));
                Op.Invoke(v.As<float, T>()).Store(y + i);
            }
            if (i < n) Lanes(y + i, 1, x + i * sx, sx, n - i);
            return;
        }
        if (Wide || Narrow)
        {
            // A strided run (a transposed or sliced input). Element by element, a special function cost 20–100x its vector body.
            for (int i = 0; i < n; i += Width) Lanes(y + i * sy, sy, x + i * sx, sx, System.Math.Min(Width, n - i));
            return;
        }
        for (int i = 0; i < n; i++) y[i * sy] = Op.Invoke(x[i * sx]);
    }

    /// <summary>Sixteen float lanes where the CPU has AVX-512 and the op a 16-lane body.</summary>
    readonly bool Wide => Op.Vectorized512<T>() && Vector512.IsHardwareAccelerated;
    /// <summary>Otherwise eight lanes, where the op has a vector body.</summary>
    readonly bool Narrow => Op.Vectorized<T>() && Vector256.IsHardwareAccelerated;
    readonly int Width => Wide ? Vector512<T>.Count : Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    readonly void Contiguous<TStore>(T* y, T* x, int n) where TStore : IVectorStore
    {
        if (!Wide && !Narrow)
        {
            for (int h = 0; h < n; h++) y[h] = Op.Invoke(x[h]);
            return;
        }
        int i = TStore.Head(y, n);
        for (int h = 0; h < i; h += Width) Lanes(y + h, 1, x + h, 1, System.Math.Min(Width, i - h));
        if (Wide)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TStore.Store(Op.Invoke(Vector512.Load(x + i)), y + i);
        else
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TStore.Store(Op.Invoke(Vector256.Load(x + i)), y + i);
        TStore.Finish();
        if (i < n) Lanes(y + i, 1, x + i, 1, n - i);
    }

    /// <summary>y[j·sy] = op(x[j·sx]) for j &lt; c (at most one vector) through the vector body; the unused lanes compute on zeros.</summary>
    // Not inlined: a third and fourth copy of a long body (erf, gelu) in Contiguous used up the JIT's inlining budget and
    // left the main loop calling the op (sigmoid over 1M floats 0.23 → 3 ms).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    readonly void Lanes(T* y, long sy, T* x, long sx, int c)
    {
        if (Wide)
        {
            Vector512<T> v = default;
            T* b = (T*)&v;
            for (int j = 0; j < c; j++) b[j] = x[j * sx];
            v = Op.Invoke(v);
            for (int j = 0; j < c; j++) y[j * sy] = b[j];
        }
        else
        {
            Vector256<T> v = default;
            T* b = (T*)&v;
            for (int j = 0; j < c; j++) b[j] = x[j * sx];
            v = Op.Invoke(v);
            for (int j = 0; j < c; j++) y[j * sy] = b[j];
        }
    }
}

/// <summary>y = op(a, b) over one inner run, with vector bodies for contiguous and scalar-broadcast operands.</summary>
internal unsafe struct BinaryLoop<T, TOp> : IInnerLoop where T : unmanaged, INumber<T> where TOp : struct, IBinaryOp
{
    public T* Y, A, B;
    public TOp Op;
    /// <summary>Write contiguous runs with non-temporal stores (<see cref="StreamingStores"/>).</summary>
    public bool Stream;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(long* off, long* st, int n)
    {
        T* y = Y + off[0], a = A + off[1], b = B + off[2];
        long sy = st[0], sa = st[1], sb = st[2];
        if (sy == 1 && sa is 0 or 1 && sb is 0 or 1 && sa + sb > 0)
        {
            if (Stream) Contiguous<NonTemporalStore>(y, a, b, sa, sb, n);
            else Contiguous<CachedStore>(y, a, b, sa, sb, n);
            return;
        }
        for (int i = 0; i < n; i++) y[i * sy] = Op.Invoke(a[i * sa], b[i * sb]);
    }

    /// <summary>Contiguous y with a and b each contiguous (stride 1) or one repeated value (stride 0), not both repeated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    readonly void Contiguous<TStore>(T* y, T* a, T* b, long sa, long sb, int n) where TStore : IVectorStore
    {
        int i = TStore.Head(y, n), w = Vector256<T>.Count;
        for (int h = 0; h < i; h++) y[h] = Op.Invoke(a[h * sa], b[h * sb]);
        if (Op.Vectorized<T>() && Vector256.IsHardwareAccelerated)
        {
            if (sa == 1 && sb == 1)
                for (; i <= n - w; i += w) TStore.Store(Op.Invoke(Vector256.Load(a + i), Vector256.Load(b + i)), y + i);
            else if (sa == 1)
            {
                var vb = Vector256.Create(*b);
                for (; i <= n - w; i += w) TStore.Store(Op.Invoke(Vector256.Load(a + i), vb), y + i);
            }
            else
            {
                var va = Vector256.Create(*a);
                for (; i <= n - w; i += w) TStore.Store(Op.Invoke(va, Vector256.Load(b + i)), y + i);
            }
        }
        for (; i < n; i++) y[i] = Op.Invoke(a[i * sa], b[i * sb]);
        TStore.Finish();
    }
}

/// <summary>bool result of comparing a and b.</summary>
internal unsafe struct CompareLoop<T, TOp> : IInnerLoop where T : unmanaged, INumber<T> where TOp : struct, ICompareOp
{
    public byte* Y;
    public T* A, B;
    public TOp Op;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(long* off, long* st, int n)
    {
        byte* y = Y + off[0];
        T* a = A + off[1], b = B + off[2];
        long sy = st[0], sa = st[1], sb = st[2];
        for (int i = 0; i < n; i++) y[i * sy] = Op.Invoke(a[i * sa], b[i * sb]) ? (byte)1 : (byte)0;
    }
}

/// <summary>y = cond ? a : b, on raw elements of any type of one size.</summary>
internal unsafe struct WhereLoop<T> : IInnerLoop where T : unmanaged
{
    public T* Y, A, B;
    public byte* C;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(long* off, long* st, int n)
    {
        T* y = Y + off[0], a = A + off[2], b = B + off[3];
        byte* c = C + off[1];
        long sy = st[0], sc = st[1], sa = st[2], sb = st[3];
        for (int i = 0; i < n; i++) y[i * sy] = c[i * sc] != 0 ? a[i * sa] : b[i * sb];
    }
}

/// <summary>Copies raw elements (same dtype), memcpy-speed when both runs are contiguous.</summary>
internal unsafe struct CopyLoop<T> : IInnerLoop where T : unmanaged
{
    public T* Y, X;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(long* off, long* st, int n)
    {
        T* y = Y + off[0], x = X + off[1];
        long sy = st[0], sx = st[1];
        if (sy == 1 && sx == 1) { System.Buffer.MemoryCopy(x, y, (long)n * sizeof(T), (long)n * sizeof(T)); return; }
        if (sy == 1 && sx == 0) { new System.Span<T>(y, n).Fill(*x); return; }
        for (int i = 0; i < n; i++) y[i * sy] = x[i * sx];
    }
}

/// <summary>Converts numbers between two numeric storage types (C-style truncation for float to int).</summary>
internal unsafe struct ConvertLoop<TFrom, TTo> : IInnerLoop where TFrom : unmanaged, INumberBase<TFrom> where TTo : unmanaged, INumberBase<TTo>
{
    public TTo* Y;
    public TFrom* X;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(long* off, long* st, int n)
    {
        TTo* y = Y + off[0];
        TFrom* x = X + off[1];
        long sy = st[0], sx = st[1];
        for (int i = 0; i < n; i++) y[i * sy] = Convert(x[i * sx]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TTo Convert(TFrom v)
    {
        // Integer targets from floats wrap like a C cast through int64; everything else converts directly.
        if (typeof(TTo) == typeof(sbyte) || typeof(TTo) == typeof(byte))
            return TTo.CreateTruncating(long.CreateSaturating(v));
        return TTo.CreateTruncating(v);
    }
}

/// <summary>Number to bool (nonzero is true).</summary>
internal unsafe struct ToBoolLoop<TFrom> : IInnerLoop where TFrom : unmanaged, INumberBase<TFrom>
{
    public byte* Y;
    public TFrom* X;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(long* off, long* st, int n)
    {
        byte* y = Y + off[0];
        TFrom* x = X + off[1];
        long sy = st[0], sx = st[1];
        for (int i = 0; i < n; i++) y[i * sy] = TFrom.IsZero(x[i * sx]) ? (byte)0 : (byte)1;
    }
}

/// <summary>float to bfloat16 with round-to-nearest-even.</summary>
internal unsafe struct ToBFloat16Loop : IInnerLoop
{
    public BFloat16* Y;
    public float* X;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(long* off, long* st, int n)
    {
        BFloat16* y = Y + off[0];
        float* x = X + off[1];
        long sy = st[0], sx = st[1];
        int i = 0;
        if (sy == 1 && sx == 1 && Vector256.IsHardwareAccelerated)
        {
            // Sixteen at a time, rounded as FromSingle rounds (a bf16 model's every op ends here: scalar, this pass cost
            // more than the op it follows).
            for (; i + 16 <= n; i += 16) Bf16Vectors.Store(Vector256.Load(x + i), Vector256.Load(x + i + 8), (ushort*)y + i);
            if (i == n) return;
        }
        for (; i < n; i++) y[i * sy] = BFloat16.FromSingle(x[i * sx]);
    }
}

/// <summary>bfloat16 to float (exact).</summary>
internal unsafe struct FromBFloat16Loop : IInnerLoop
{
    public float* Y;
    public BFloat16* X;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(long* off, long* st, int n)
    {
        float* y = Y + off[0];
        BFloat16* x = X + off[1];
        long sy = st[0], sx = st[1];
        int i = 0;
        if (sy == 1 && sx == 1 && Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Bf16Vectors.Load((ushort*)x + i);
                lo.Store(y + i);
                hi.Store(y + i + 8);
            }
        }
        for (; i < n; i++) y[i * sy] = x[i * sx].ToSingle();
    }
}
