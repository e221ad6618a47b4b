using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Elementwise;

/// <summary>
/// The handful of float-lane operations the vector math needs, so one implementation (e.g. exp) serves
/// both 256- and 512-bit vectors. The BCL's generic vector interface is not public, hence these wrappers;
/// the JIT inlines them away.
/// </summary>
internal interface IFloatLanes<TSelf> where TSelf : struct, IFloatLanes<TSelf>
{
    static abstract TSelf Splat(float v);
    static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);
    static abstract TSelf Mul(TSelf a, TSelf b);
    static abstract TSelf Clamp(TSelf x, float lo, float hi);
    static abstract TSelf Round(TSelf x);
    /// <summary>p · 2^n for integral n in [-126, 128]: AVX-512's scale instruction, or n written into the exponent field.</summary>
    static abstract TSelf ScaleByPowerOfTwo(TSelf p, TSelf n);
    /// <summary>Zero where x &lt; limit; x itself where x is NaN; else r.</summary>
    static abstract TSelf FixUp(TSelf x, TSelf r, float limit);
    static abstract int Count { get; }
    static abstract unsafe TSelf Load(float* p);
    /// <summary>Count bfloat16 values widened to float32 (each the high half of a float's bits).</summary>
    static abstract unsafe TSelf LoadBf16(ushort* p);
    static abstract unsafe void Store(TSelf v, float* p);
    static abstract TSelf Add(TSelf a, TSelf b);
    static abstract TSelf Sub(TSelf a, TSelf b);
    /// <summary>Lane-wise max without NaN ordering (the hardware instruction).</summary>
    static abstract TSelf MaxNative(TSelf a, TSelf b);
    static abstract float ReduceMax(TSelf v);
    static abstract float ReduceSum(TSelf v);
    /// <summary>The sums of four vectors' lanes, in one 128-bit vector (folded together: far fewer shuffles than four <see cref="ReduceSum"/>).</summary>
    static abstract Vector128<float> ReduceSum4(TSelf a, TSelf b, TSelf c, TSelf d);
    static abstract TSelf Div(TSelf a, TSelf b);
    static abstract TSelf Abs(TSelf x);
    static abstract TSelf Neg(TSelf x);
    static abstract TSelf Min(TSelf a, TSelf b);
    /// <summary>Lane-wise x &lt; y ? whenLess : otherwise.</summary>
    static abstract TSelf SelectLess(TSelf x, TSelf y, TSelf whenLess, TSelf otherwise);
    /// <summary>Lane-wise x == y ? whenEqual : otherwise.</summary>
    static abstract TSelf SelectEqual(TSelf x, TSelf y, TSelf whenEqual, TSelf otherwise);
    /// <summary>Natural logarithm per lane (the BCL's vector log).</summary>
    static abstract TSelf Log(TSelf x);
}

internal readonly struct Lanes256(Vector256<float> v) : IFloatLanes<Lanes256>
{
    public readonly Vector256<float> V = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Splat(float v) => new(Vector256.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Fma(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Mul(Lanes256 a, Lanes256 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Clamp(Lanes256 x, float lo, float hi) => new(Vector256.Min(Vector256.Max(x.V, Vector256.Create(lo)), Vector256.Create(hi)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Round(Lanes256 x) => new(Vector256.Round(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 ScaleByPowerOfTwo(Lanes256 p, Lanes256 n) =>
        // vscalefps where AVX-512 has it (one instruction); else the raw truncating convert: n is integral already, and the
        // portable ConvertToInt32's saturation fix-ups cost three more instructions on the exp path.
        Avx512F.VL.IsSupported ? new(Avx512F.VL.Scale(p.V, n.V))
        : Avx.IsSupported ? new(p.V * ((Avx.ConvertToVector256Int32WithTruncation(n.V) + Vector256.Create(127)).AsUInt32() << 23).AsSingle())
        : new(p.V * ((Vector256.ConvertToInt32(n.V) + Vector256.Create(127)).AsUInt32() << 23).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 FixUp(Lanes256 x, Lanes256 r, float limit) =>
        new(Vector256.ConditionalSelect(Vector256.Equals(x.V, x.V),
            Vector256.ConditionalSelect(Vector256.LessThan(x.V, Vector256.Create(limit)), Vector256<float>.Zero, r.V), x.V));
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Lanes256 Load(float* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Lanes256 LoadBf16(ushort* p) => new(((Avx2.IsSupported
        ? Avx2.ConvertToVector256Int32(p).AsUInt32()
        : Vector256.Create(Vector128.WidenLower(Vector128.Load(p)), Vector128.WidenUpper(Vector128.Load(p)))) << 16).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void Store(Lanes256 v, float* p) => v.V.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Add(Lanes256 a, Lanes256 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Sub(Lanes256 a, Lanes256 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 MaxNative(Lanes256 a, Lanes256 b) => new(Vector256.MaxNative(a.V, b.V));
    public static float ReduceMax(Lanes256 v)
    {
        float m = float.NegativeInfinity;
        for (int i = 0; i < Vector256<float>.Count; i++) m = System.MathF.Max(m, v.V[i]);
        return m;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ReduceSum(Lanes256 v) => Vector256.Sum(v.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ReduceSum4(Lanes256 a, Lanes256 b, Lanes256 c, Lanes256 d) =>
        LaneSums.Of4(a.V.GetLower() + a.V.GetUpper(), b.V.GetLower() + b.V.GetUpper(), c.V.GetLower() + c.V.GetUpper(), d.V.GetLower() + d.V.GetUpper());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Div(Lanes256 a, Lanes256 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Abs(Lanes256 x) => new(Vector256.Abs(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Neg(Lanes256 x) => new(-x.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Min(Lanes256 a, Lanes256 b) => new(Vector256.Min(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 SelectLess(Lanes256 x, Lanes256 y, Lanes256 whenLess, Lanes256 otherwise) =>
        new(Vector256.ConditionalSelect(Vector256.LessThan(x.V, y.V), whenLess.V, otherwise.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 SelectEqual(Lanes256 x, Lanes256 y, Lanes256 whenEqual, Lanes256 otherwise) =>
        new(Vector256.ConditionalSelect(Vector256.Equals(x.V, y.V), whenEqual.V, otherwise.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Log(Lanes256 x) => new(Vector256.Log(x.V));
}

internal readonly struct Lanes512(Vector512<float> v) : IFloatLanes<Lanes512>
{
    public readonly Vector512<float> V = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Splat(float v) => new(Vector512.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Fma(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Mul(Lanes512 a, Lanes512 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Clamp(Lanes512 x, float lo, float hi) => new(Vector512.Min(Vector512.Max(x.V, Vector512.Create(lo)), Vector512.Create(hi)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Round(Lanes512 x) => new(Vector512.Round(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 ScaleByPowerOfTwo(Lanes512 p, Lanes512 n) =>
        // vscalefps: p · 2^n in one instruction (it also keeps p · 2^128 finite where that is below float's max).
        Avx512F.IsSupported ? new(Avx512F.Scale(p.V, n.V))
        : new(p.V * ((Vector512.ConvertToInt32(n.V) + Vector512.Create(127)).AsUInt32() << 23).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 FixUp(Lanes512 x, Lanes512 r, float limit) =>
        new(Vector512.ConditionalSelect(Vector512.Equals(x.V, x.V),
            Vector512.ConditionalSelect(Vector512.LessThan(x.V, Vector512.Create(limit)), Vector512<float>.Zero, r.V), x.V));
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Lanes512 Load(float* p) => new(Vector512.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Lanes512 LoadBf16(ushort* p) => new(((Avx512F.IsSupported
        ? Avx512F.ConvertToVector512Int32(Vector256.Load(p)).AsUInt32()
        : Vector512.Create(Vector256.WidenLower(Vector256.Load(p)), Vector256.WidenUpper(Vector256.Load(p)))) << 16).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void Store(Lanes512 v, float* p) => v.V.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Add(Lanes512 a, Lanes512 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Sub(Lanes512 a, Lanes512 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 MaxNative(Lanes512 a, Lanes512 b) => new(Vector512.MaxNative(a.V, b.V));
    public static float ReduceMax(Lanes512 v)
    {
        float m = float.NegativeInfinity;
        for (int i = 0; i < Vector512<float>.Count; i++) m = System.MathF.Max(m, v.V[i]);
        return m;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ReduceSum(Lanes512 v) => Vector512.Sum(v.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ReduceSum4(Lanes512 a, Lanes512 b, Lanes512 c, Lanes512 d)
    {
        Vector256<float> a2 = a.V.GetLower() + a.V.GetUpper(), b2 = b.V.GetLower() + b.V.GetUpper(), c2 = c.V.GetLower() + c.V.GetUpper(), d2 = d.V.GetLower() + d.V.GetUpper();
        return LaneSums.Of4(a2.GetLower() + a2.GetUpper(), b2.GetLower() + b2.GetUpper(), c2.GetLower() + c2.GetUpper(), d2.GetLower() + d2.GetUpper());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Div(Lanes512 a, Lanes512 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Abs(Lanes512 x) => new(Vector512.Abs(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Neg(Lanes512 x) => new(-x.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Min(Lanes512 a, Lanes512 b) => new(Vector512.Min(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 SelectLess(Lanes512 x, Lanes512 y, Lanes512 whenLess, Lanes512 otherwise) =>
        new(Vector512.ConditionalSelect(Vector512.LessThan(x.V, y.V), whenLess.V, otherwise.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 SelectEqual(Lanes512 x, Lanes512 y, Lanes512 whenEqual, Lanes512 otherwise) =>
        new(Vector512.ConditionalSelect(Vector512.Equals(x.V, y.V), whenEqual.V, otherwise.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Log(Lanes512 x) => new(Vector512.Log(x.V));
}

/// <summary>Four 4-lane vectors' sums in one vector.</summary>
internal static class LaneSums
{
    /// <summary>[Σa, Σb, Σc, Σd]: two levels of pairwise horizontal adds where SSE3 has them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Of4(Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d)
    {
        if (Sse3.IsSupported) return Sse3.HorizontalAdd(Sse3.HorizontalAdd(a, b), Sse3.HorizontalAdd(c, d));
        return Vector128.Create(Vector128.Sum(a), Vector128.Sum(b), Vector128.Sum(c), Vector128.Sum(d));
    }
}
