using System;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

// Hand-written kernels of the first-hour surface that the op table does not generate: sign in every type, the two-input
// functions (swiglu included), and the bitwise ops (the floating one-input functions are generated from Kiln.Compiler's UnaryOps).

/// <summary>sign(x): -1, 0 or 1 in x's type (NaN gives 0, as torch.sign does).</summary>
internal struct SignOp : IUnaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => false;
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> => x > T.Zero ? T.One : x < T.Zero ? -T.One : T.Zero;
    public Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, INumber<T> => x;
    public bool Vectorized512<T>() where T : unmanaged, INumber<T> => false;
    public Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, INumber<T> => x;
}

/// <summary>atan2(a, b) in double (float results rounded from it).</summary>
internal struct Atan2Op : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => false;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => T.CreateTruncating(Math.Atan2(double.CreateTruncating(a), double.CreateTruncating(b)));
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a;
}

/// <summary>
/// swiglu(a, b) = silu(a)·b: silu through the silu op's own table kernel, then one rounded product, so the result equals
/// <c>F.Silu(a) * b</c> while the activation is never stored.
/// </summary>
internal struct SwiGluOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => typeof(T) == typeof(float);
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => new FloatUnary<SiluF>().Invoke(a) * b;
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => new FloatUnary<SiluF>().Invoke(a) * b;
}

/// <summary>
/// Python's modulo (<c>torch.remainder</c>, the <c>%</c> operator): the result takes the divisor's sign. Integer division
/// by zero is refused before the kernel runs.
/// </summary>
internal struct RemainderOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => false;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            double x = double.CreateTruncating(a), y = double.CreateTruncating(b);
            double r = x - Math.Floor(x / y) * y;
            return T.CreateTruncating(r);
        }
        T m = a % b;
        return m != T.Zero && (m < T.Zero) != (b < T.Zero) ? m + b : m;
    }
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a;
}

/// <summary>Bitwise and (logical and on bool).</summary>
internal struct BitAndOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => typeof(T) == typeof(int) || typeof(T) == typeof(long);
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(long) ? T.CreateTruncating(long.CreateTruncating(a) & long.CreateTruncating(b)) : T.CreateTruncating(int.CreateTruncating(a) & int.CreateTruncating(b));
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a & b;
}

/// <summary>Bitwise or (logical or on bool).</summary>
internal struct BitOrOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => typeof(T) == typeof(int) || typeof(T) == typeof(long);
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(long) ? T.CreateTruncating(long.CreateTruncating(a) | long.CreateTruncating(b)) : T.CreateTruncating(int.CreateTruncating(a) | int.CreateTruncating(b));
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a | b;
}

/// <summary>Bitwise exclusive or (logical xor on bool).</summary>
internal struct BitXorOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => typeof(T) == typeof(int) || typeof(T) == typeof(long);
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(long) ? T.CreateTruncating(long.CreateTruncating(a) ^ long.CreateTruncating(b)) : T.CreateTruncating(int.CreateTruncating(a) ^ int.CreateTruncating(b));
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a ^ b;
}

/// <summary>
/// a shifted left by b bits (<c>bitwise_left_shift</c>): 8-bit values widen to int as C does, and the count is taken
/// modulo the width of int or long as C# (and x86) do — PyTorch 1.13's CPU results, counts past the width included.
/// </summary>
internal struct ShiftLeftOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => false;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(long) ? T.CreateTruncating(long.CreateTruncating(a) << int.CreateTruncating(b)) : T.CreateTruncating(int.CreateTruncating(a) << int.CreateTruncating(b));
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => throw new NotSupportedException("scalar only");
}

/// <summary>a shifted right by b bits (<c>bitwise_right_shift</c>): arithmetic for signed values, with <see cref="ShiftLeftOp"/>'s widening and count.</summary>
internal struct ShiftRightOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => false;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(long) ? T.CreateTruncating(long.CreateTruncating(a) >> int.CreateTruncating(b)) : T.CreateTruncating(int.CreateTruncating(a) >> int.CreateTruncating(b));
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => throw new NotSupportedException("scalar only");
}

/// <summary>Greatest common divisor of integers (Euclid on magnitudes).</summary>
internal struct GcdOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => false;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => T.CreateTruncating(Gcd(long.CreateTruncating(a), long.CreateTruncating(b)));
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => throw new NotSupportedException("scalar only");

    internal static long Gcd(long a, long b)
    {
        a = Math.Abs(a); b = Math.Abs(b);
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}

/// <summary>Least common multiple of integers: |a / gcd · b|, 0 when either is 0.</summary>
internal struct LcmOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => false;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T>
    {
        long x = long.CreateTruncating(a), y = long.CreateTruncating(b), g = GcdOp.Gcd(x, y);
        return T.CreateTruncating(g == 0 ? 0 : Math.Abs(x / g * y));
    }
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => throw new NotSupportedException("scalar only");
}

/// <summary>The next representable float after a towards b (C's nextafter).</summary>
internal struct NextafterOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => false;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
        {
            float x = float.CreateTruncating(a), y = float.CreateTruncating(b);
            return T.CreateTruncating(float.IsNaN(x) || float.IsNaN(y) ? float.NaN : x == y ? y : y > x ? MathF.BitIncrement(x) : MathF.BitDecrement(x));
        }
        double u = double.CreateTruncating(a), v = double.CreateTruncating(b);
        return T.CreateTruncating(double.IsNaN(u) || double.IsNaN(v) ? double.NaN : u == v ? v : v > u ? Math.BitIncrement(u) : Math.BitDecrement(u));
    }
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => throw new NotSupportedException("scalar only");
}

/// <summary>Bitwise not of an integer.</summary>
internal struct BitNotOp : IUnaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => typeof(T) == typeof(int) || typeof(T) == typeof(long);
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(long) ? T.CreateTruncating(~long.CreateTruncating(x)) : T.CreateTruncating(~int.CreateTruncating(x));
    public Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, INumber<T> => ~x;
    public bool Vectorized512<T>() where T : unmanaged, INumber<T> => Vectorized<T>();
    public Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, INumber<T> => ~x;
}
