using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

/// <summary>
/// A unary elementwise operator written once for every compute type (float, double, int, long): a
/// scalar body and a <see cref="Vector256{T}"/> body. Kernels take it as a struct type parameter, so the
/// JIT specialises and inlines it; there is no call per element.
/// </summary>
internal interface IUnaryOp
{
    /// <summary>Whether the vector body exists for <typeparamref name="T"/>.</summary>
    bool Vectorized<T>() where T : unmanaged, INumber<T>;
    T Invoke<T>(T x) where T : unmanaged, INumber<T>;
    Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, INumber<T>;
    /// <summary>Whether a <see cref="Vector512{T}"/> body exists for <typeparamref name="T"/> (used where the CPU has AVX-512).</summary>
    bool Vectorized512<T>() where T : unmanaged, INumber<T>;
    Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, INumber<T>;
}

/// <summary>A binary elementwise operator; see <see cref="IUnaryOp"/>.</summary>
internal interface IBinaryOp
{
    bool Vectorized<T>() where T : unmanaged, INumber<T>;
    T Invoke<T>(T a, T b) where T : unmanaged, INumber<T>;
    Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T>;
}

/// <summary>A comparison producing a bool.</summary>
internal interface ICompareOp
{
    bool Invoke<T>(T a, T b) where T : unmanaged, INumber<T>;
}
