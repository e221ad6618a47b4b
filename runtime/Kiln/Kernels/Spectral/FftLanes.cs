using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Spectral;

/// <summary>
/// What a transform does with its values, written once for <see cref="FftPlan"/>: one complex number
/// (<see cref="ComplexLane"/>), or several rows' numbers side by side in vector registers (four float64 rows:
/// <see cref="ComplexLanes4"/>; eight float32 rows: <see cref="ComplexLanes8"/>), so the same recursion transforms a
/// block of rows at once and the rest one at a time. Twiddles are the same for every lane.
/// </summary>
internal interface IFftLane<T> where T : struct, IFftLane<T>
{
    static abstract T Add(T a, T b);
    static abstract T Sub(T a, T b);
    /// <summary>a·w for a twiddle w.</summary>
    static abstract T Mul(T a, Complex w);
    /// <summary>a·s for a real s.</summary>
    static abstract T Scale(T a, double s);
    /// <summary>+i·a, or −i·a when <paramref name="negative"/>.</summary>
    static abstract T TimesI(T a, bool negative);
    static abstract T Conj(T a);
}

/// <summary>One complex number.</summary>
internal struct ComplexLane(Complex value) : IFftLane<ComplexLane>
{
    public Complex Value = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLane Add(ComplexLane a, ComplexLane b) => new(a.Value + b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLane Sub(ComplexLane a, ComplexLane b) => new(a.Value - b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLane Mul(ComplexLane a, Complex w) => new(a.Value * w);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLane Scale(ComplexLane a, double s) => new(a.Value * s);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ComplexLane TimesI(ComplexLane a, bool negative) =>
        new(negative ? new Complex(a.Value.Imaginary, -a.Value.Real) : new Complex(-a.Value.Imaginary, a.Value.Real));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLane Conj(ComplexLane a) => new(Complex.Conjugate(a.Value));
}

/// <summary>Four complex numbers (four rows' values at one position), real and imaginary parts in two vectors.</summary>
internal struct ComplexLanes4(Vector256<double> re, Vector256<double> im) : IFftLane<ComplexLanes4>
{
    public Vector256<double> Re = re, Im = im;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLanes4 Add(ComplexLanes4 a, ComplexLanes4 b) => new(a.Re + b.Re, a.Im + b.Im);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLanes4 Sub(ComplexLanes4 a, ComplexLanes4 b) => new(a.Re - b.Re, a.Im - b.Im);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ComplexLanes4 Mul(ComplexLanes4 a, Complex w)
    {
        var wr = Vector256.Create(w.Real);
        var wi = Vector256.Create(w.Imaginary);
        return new(a.Re * wr - a.Im * wi, a.Re * wi + a.Im * wr);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ComplexLanes4 Scale(ComplexLanes4 a, double s)
    {
        var v = Vector256.Create(s);
        return new(a.Re * v, a.Im * v);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ComplexLanes4 TimesI(ComplexLanes4 a, bool negative) => negative ? new(a.Im, -a.Re) : new(-a.Im, a.Re);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLanes4 Conj(ComplexLanes4 a) => new(a.Re, -a.Im);
}

/// <summary>
/// Eight complex numbers in float32 (eight float32 rows' values at one position): float32 signals transform eight rows
/// per instruction, as PyTorch's pocketfft does in float32; twiddles are rounded from the float64 table.
/// </summary>
internal struct ComplexLanes8(Vector256<float> re, Vector256<float> im) : IFftLane<ComplexLanes8>
{
    public Vector256<float> Re = re, Im = im;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLanes8 Add(ComplexLanes8 a, ComplexLanes8 b) => new(a.Re + b.Re, a.Im + b.Im);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLanes8 Sub(ComplexLanes8 a, ComplexLanes8 b) => new(a.Re - b.Re, a.Im - b.Im);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ComplexLanes8 Mul(ComplexLanes8 a, Complex w)
    {
        var wr = Vector256.Create((float)w.Real);
        var wi = Vector256.Create((float)w.Imaginary);
        return new(a.Re * wr - a.Im * wi, a.Re * wi + a.Im * wr);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ComplexLanes8 Scale(ComplexLanes8 a, double s)
    {
        var v = Vector256.Create((float)s);
        return new(a.Re * v, a.Im * v);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ComplexLanes8 TimesI(ComplexLanes8 a, bool negative) => negative ? new(a.Im, -a.Re) : new(-a.Im, a.Re);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ComplexLanes8 Conj(ComplexLanes8 a) => new(a.Re, -a.Im);
}
