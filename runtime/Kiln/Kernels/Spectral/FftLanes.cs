using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Spectral;

/// <summary>
/// What a transform does with its values, written once for <see cref="FftPlan"/>: one complex number
/// (<see cref="ComplexLane"/>), or several rows' numbers side by side in vector registers (<see cref="VectorLanes{T}"/>),
/// so the same recursion transforms a block of rows at once and the rest one at a time. Twiddles are the same for every
/// lane.
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

/// <summary>
/// A vector of complex numbers — several rows' values at one position, real and imaginary parts in two vectors: four
/// float64 rows (<c>VectorLanes&lt;double&gt;</c>) or eight float32 rows (<c>VectorLanes&lt;float&gt;</c>, PyTorch's
/// precision for float32 signals). Twiddles are rounded from the float64 table to the lanes' type.
/// </summary>
internal struct VectorLanes<T>(Vector256<T> re, Vector256<T> im) : IFftLane<VectorLanes<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Vector256<T> Re = re, Im = im;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VectorLanes<T> Add(VectorLanes<T> a, VectorLanes<T> b) => new(a.Re + b.Re, a.Im + b.Im);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VectorLanes<T> Sub(VectorLanes<T> a, VectorLanes<T> b) => new(a.Re - b.Re, a.Im - b.Im);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VectorLanes<T> Mul(VectorLanes<T> a, Complex w)
    {
        var wr = Vector256.Create(T.CreateTruncating(w.Real));
        var wi = Vector256.Create(T.CreateTruncating(w.Imaginary));
        return new(a.Re * wr - a.Im * wi, a.Re * wi + a.Im * wr);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VectorLanes<T> Scale(VectorLanes<T> a, double s)
    {
        var v = Vector256.Create(T.CreateTruncating(s));
        return new(a.Re * v, a.Im * v);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VectorLanes<T> TimesI(VectorLanes<T> a, bool negative) => negative ? new(a.Im, -a.Re) : new(-a.Im, a.Re);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VectorLanes<T> Conj(VectorLanes<T> a) => new(a.Re, -a.Im);
}
