using System.Numerics;

namespace Kiln.Kernels;

/// <summary>
/// Short contiguous-row loops the host kernels share (an embedding bag's rows, a pooling window's rows): one vector body
/// and one scalar tail each, in the machine's widest <see cref="Vector{T}"/>.
/// </summary>
internal static unsafe class RowVectors<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>dst[i] += src[i].</summary>
    public static void Add(T* dst, T* src, int n)
    {
        int i = 0;
        for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            (Vector.Load(dst + i) + Vector.Load(src + i)).Store(dst + i);
        for (; i < n; i++) dst[i] += src[i];
    }

    /// <summary>dst[i] += src[i] · s.</summary>
    public static void AddScaled(T* dst, T* src, T s, int n)
    {
        int i = 0;
        var sv = new Vector<T>(s);
        for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            (Vector.Load(dst + i) + Vector.Load(src + i) * sv).Store(dst + i);
        for (; i < n; i++) dst[i] += src[i] * s;
    }

    /// <summary>dst[i] /= s (divided, not multiplied by a reciprocal, so the quotients are PyTorch's).</summary>
    public static void Divide(T* dst, T s, int n)
    {
        int i = 0;
        var sv = new Vector<T>(s);
        for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            (Vector.Load(dst + i) / sv).Store(dst + i);
        for (; i < n; i++) dst[i] /= s;
    }

    /// <summary>dst[i] = a[i] / b[i].</summary>
    public static void Divide(T* dst, T* a, T* b, int n)
    {
        int i = 0;
        for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            (Vector.Load(a + i) / Vector.Load(b + i)).Store(dst + i);
        for (; i < n; i++) dst[i] = a[i] / b[i];
    }

    /// <summary>Σ a[i] · b[i].</summary>
    public static T Dot(T* a, T* b, int n)
    {
        int i = 0;
        var acc = Vector<T>.Zero;
        for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            acc += Vector.Load(a + i) * Vector.Load(b + i);
        T sum = Vector.Sum(acc);
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }
}
