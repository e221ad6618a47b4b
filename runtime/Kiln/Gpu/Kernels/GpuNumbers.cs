using System;
using ILGPU;
using Kiln.Kernels.Elementwise;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// The arithmetic one GPU compute type supports. Elementwise kernels are written once over this interface and compiled per
/// type (float, double, int, long — the CPU's compute types); the op is a uniform code, so one kernel serves every op.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public interface IGpuNumber<T> where T : unmanaged
{
    /// <summary>Applies unary op <paramref name="op"/> (<see cref="UnaryCode"/>) with its parameters.</summary>
    T Unary(int op, T x, double p0, double p1);
    /// <summary>Applies binary op <paramref name="op"/> (<see cref="BinaryCode"/>).</summary>
    T Binary(int op, T a, T b, double p);
    /// <summary>Applies comparison <paramref name="op"/> (<see cref="CompareCode"/>).</summary>
    bool Compare(int op, T a, T b);
    /// <summary>The value as double (reductions accumulate floats in double, as the CPU kernels do).</summary>
    double ToDouble(T x);
    /// <summary>The value from double.</summary>
    T FromDouble(double x);
    /// <summary>The value as long (integer reductions accumulate in long).</summary>
    long ToLong(T x);
    /// <summary>The value from long.</summary>
    T FromLong(long x);
    /// <summary>True for the floating types.</summary>
    bool IsFloat { get; }
    /// <summary>view[index] += value, atomically.</summary>
    void AtomicAdd(ArrayView<T> view, long index, T value);
}

/// <summary>Unary op codes shared by the host launcher and the kernels.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class UnaryCode
{
#pragma warning disable CS1591 // names say it
    public const int Neg = 0, Abs = 1, Relu = 2, Clamp = 3, GreaterMask = 4, Softplus = 17, PowScalar = 18, Sign = 25, BitNot = 33;
    // The op table's floating functions (exp, silu, erf, ...) take codes from TableUnary.First on (generated).
#pragma warning restore CS1591
}

/// <summary>Binary op codes.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class BinaryCode
{
#pragma warning disable CS1591
    public const int Add = 0, Sub = 1, Mul = 2, Div = 3, Maximum = 4, Minimum = 5, Pow = 6, KeepWhereGreater = 7, Atan2 = 8, Remainder = 9,
        BitAnd = 10, BitOr = 11, BitXor = 12, SwiGlu = 13, ShiftLeft = 14, ShiftRight = 15;
#pragma warning restore CS1591
}

/// <summary>Comparison codes.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class CompareCode
{
#pragma warning disable CS1591
    public const int Eq = 0, Ne = 1, Lt = 2, Le = 3, Gt = 4, Ge = 5;
#pragma warning restore CS1591

    /// <summary>Whether comparison <paramref name="op"/> holds for an order of -1 (less), 0 (equal), 1 (greater) or 2 (unordered: NaN).</summary>
    public static bool Holds(int op, int order) => op switch
    {
        Eq => order == 0,
        Ne => order != 0,
        Lt => order == -1,
        Le => order == -1 || order == 0,
        Gt => order == 1,
        _ => order == 1 || order == 0,
    };
}

/// <summary>
/// The floating functions in double, as the CPU's scalar bodies compute them (results round to the storage type), so a GPU
/// result equals the CPU's: the hand-written parametrised ops here, the op table's functions in the generated
/// <see cref="TableUnary"/> (both printed from the same formulas as the CPU's kernel structs).
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class GpuFloat
{
    /// <summary>Applies a floating unary op in double.</summary>
    public static double Unary(int op, double x, double p0, double p1)
    {
        switch (op)
        {
            case UnaryCode.Neg: return -x;
            case UnaryCode.Abs: return Math.Abs(x);
            case UnaryCode.Relu: return x > 0 || double.IsNaN(x) ? x : 0;
            case UnaryCode.Clamp:
                if (double.IsNaN(x)) return x;
                if (!double.IsNaN(p0) && x < p0) x = p0;
                if (!double.IsNaN(p1) && x > p1) x = p1;
                return x;
            case UnaryCode.GreaterMask: return x > p0 ? 1 : 0;
            case UnaryCode.Softplus: return x * p0 > p1 ? x : GpuMath.Log1p(GpuMath.Exp(x * p0)) / p0;
            case UnaryCode.PowScalar: return p0 == 2.0 ? x * x : p0 == 0.5 ? Math.Sqrt(x) : GpuMath.Pow(x, p0);
            case UnaryCode.Sign: return x > 0 ? 1 : x < 0 ? -1 : 0;
            default: return TableUnary.Apply(op, x);
        }
    }

    /// <summary>Applies a floating binary op in double.</summary>
    public static double Binary(int op, double a, double b, double p)
    {
        switch (op)
        {
            case BinaryCode.Add: return a + b;
            case BinaryCode.Sub: return a - b;
            case BinaryCode.Mul: return a * b;
            case BinaryCode.Div: return a / b;
            case BinaryCode.Maximum: return double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);
            case BinaryCode.Minimum: return double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b);
            case BinaryCode.Pow: return GpuMath.Pow(a, b);
            case BinaryCode.Atan2: return Math.Atan2(a, b);
            case BinaryCode.Remainder: return a - Math.Floor(a / b) * b;
            case BinaryCode.SwiGlu: return a * GpuMath.Sigmoid(a) * b;
            default: return b > p ? a : 0; // KeepWhereGreater
        }
    }

    /// <summary>A comparison of two doubles (NaN is unordered: only Ne holds).</summary>
    public static bool Compare(int op, double a, double b) => CompareCode.Holds(op, a < b ? -1 : a > b ? 1 : a == b ? 0 : 2);
}

/// <summary>float32: computes in double like the CPU's scalar bodies and rounds once.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct F32 : IGpuNumber<float>
{
    /// <inheritdoc/>
    public void AtomicAdd(ArrayView<float> view, long index, float value) => Atomic.Add(ref view[index], value);
    /// <inheritdoc/>
    public float Unary(int op, float x, double p0, double p1) => (float)GpuFloat.Unary(op, x, p0, p1);
    /// <inheritdoc/>
    public float Binary(int op, float a, float b, double p) => op switch
    {
        // The CPU's float lanes add, multiply and divide in float: the same single rounding.
        BinaryCode.Add => a + b,
        BinaryCode.Sub => a - b,
        BinaryCode.Mul => a * b,
        BinaryCode.Div => a / b,
        BinaryCode.Pow => MathF.Pow(a, b),
        _ => (float)GpuFloat.Binary(op, a, b, p),
    };
    /// <inheritdoc/>
    public bool Compare(int op, float a, float b) => GpuFloat.Compare(op, a, b);
    /// <inheritdoc/>
    public double ToDouble(float x) => x;
    /// <inheritdoc/>
    public float FromDouble(double x) => (float)x;
    /// <inheritdoc/>
    public long ToLong(float x) => (long)x;
    /// <inheritdoc/>
    public float FromLong(long x) => x;
    /// <inheritdoc/>
    public bool IsFloat => true;
}

/// <summary>float64.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct F64 : IGpuNumber<double>
{
    /// <inheritdoc/>
    public void AtomicAdd(ArrayView<double> view, long index, double value) => Atomic.Add(ref view[index], value);
    /// <inheritdoc/>
    public double Unary(int op, double x, double p0, double p1) => GpuFloat.Unary(op, x, p0, p1);
    /// <inheritdoc/>
    public double Binary(int op, double a, double b, double p) => GpuFloat.Binary(op, a, b, p);
    /// <inheritdoc/>
    public bool Compare(int op, double a, double b) => GpuFloat.Compare(op, a, b);
    /// <inheritdoc/>
    public double ToDouble(double x) => x;
    /// <inheritdoc/>
    public double FromDouble(double x) => x;
    /// <inheritdoc/>
    public long ToLong(double x) => (long)x;
    /// <inheritdoc/>
    public double FromLong(long x) => x;
    /// <inheritdoc/>
    public bool IsFloat => true;
}

/// <summary>Integer arithmetic in long (int64, and the int32 compute type of small ints and bool).</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class GpuInteger
{
    /// <summary>An integer unary op (only the ops that accept integers reach a kernel).</summary>
    public static long Unary(int op, long x, double p0, double p1)
    {
        switch (op)
        {
            case UnaryCode.Neg: return -x;
            case UnaryCode.Abs: return x < 0 ? -x : x;
            case UnaryCode.Relu: return x > 0 ? x : 0;
            case UnaryCode.Clamp:
                if (!double.IsNaN(p0) && x < (long)p0) x = (long)p0;
                if (!double.IsNaN(p1) && x > (long)p1) x = (long)p1;
                return x;
            case UnaryCode.Sign: return x > 0 ? 1 : x < 0 ? -1 : 0;
            case UnaryCode.BitNot: return ~x;
            default: return x > p0 ? 1 : 0; // GreaterMask
        }
    }

    /// <summary>An integer binary op.</summary>
    public static long Binary(int op, long a, long b, double p)
    {
        switch (op)
        {
            case BinaryCode.Add: return a + b;
            case BinaryCode.Sub: return a - b;
            case BinaryCode.Mul: return a * b;
            case BinaryCode.Div: return b == 0 ? 0 : a / b;
            case BinaryCode.Maximum: return a > b ? a : b;
            case BinaryCode.Minimum: return a < b ? a : b;
            case BinaryCode.Pow:
                long result = 1, x = a;
                for (long e = b; e > 0; e >>= 1)
                {
                    if ((e & 1) != 0) result *= x;
                    x *= x;
                }
                return result;
            case BinaryCode.Remainder:
            {
                if (b == 0) return 0; // refused on the host before a kernel runs
                long m = a % b;
                return m != 0 && (m < 0) != (b < 0) ? m + b : m;
            }
            case BinaryCode.BitAnd: return a & b;
            case BinaryCode.BitOr: return a | b;
            case BinaryCode.BitXor: return a ^ b;
            // p is the width the host kernels shift in (64 for int64, 32 otherwise: C's promotion of narrow types).
            case BinaryCode.ShiftLeft: return p == 64 ? a << (int)b : (int)a << (int)b;
            case BinaryCode.ShiftRight: return p == 64 ? a >> (int)b : (int)a >> (int)b;
            default: return b > p ? a : 0;
        }
    }

    /// <summary>An integer comparison.</summary>
    public static bool Compare(int op, long a, long b) => CompareCode.Holds(op, a < b ? -1 : a > b ? 1 : 0);
}

/// <summary>int64.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct I64 : IGpuNumber<long>
{
    /// <inheritdoc/>
    public void AtomicAdd(ArrayView<long> view, long index, long value) => Atomic.Add(ref view[index], value);
    /// <inheritdoc/>
    public long Unary(int op, long x, double p0, double p1) => GpuInteger.Unary(op, x, p0, p1);
    /// <inheritdoc/>
    public long Binary(int op, long a, long b, double p) => GpuInteger.Binary(op, a, b, p);
    /// <inheritdoc/>
    public bool Compare(int op, long a, long b) => GpuInteger.Compare(op, a, b);
    /// <inheritdoc/>
    public double ToDouble(long x) => x;
    /// <inheritdoc/>
    public long FromDouble(double x) => (long)x;
    /// <inheritdoc/>
    public long ToLong(long x) => x;
    /// <inheritdoc/>
    public long FromLong(long x) => x;
    /// <inheritdoc/>
    public bool IsFloat => false;
}

/// <summary>int32: the compute type of int32, int8, uint8 and bool.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct I32 : IGpuNumber<int>
{
    /// <inheritdoc/>
    public void AtomicAdd(ArrayView<int> view, long index, int value) => Atomic.Add(ref view[index], value);
    /// <inheritdoc/>
    public int Unary(int op, int x, double p0, double p1) => (int)GpuInteger.Unary(op, x, p0, p1);
    /// <inheritdoc/>
    public int Binary(int op, int a, int b, double p) => (int)GpuInteger.Binary(op, a, b, p);
    /// <inheritdoc/>
    public bool Compare(int op, int a, int b) => GpuInteger.Compare(op, a, b);
    /// <inheritdoc/>
    public double ToDouble(int x) => x;
    /// <inheritdoc/>
    public int FromDouble(double x) => (int)x;
    /// <inheritdoc/>
    public long ToLong(int x) => x;
    /// <inheritdoc/>
    public int FromLong(long x) => (int)x;
    /// <inheritdoc/>
    public bool IsFloat => false;
}
