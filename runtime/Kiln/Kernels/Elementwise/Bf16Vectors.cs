using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

/// <summary>bfloat16 ↔ float32 on vectors of sixteen: exact widening, and rounding as <see cref="BFloat16.FromSingle"/> rounds.</summary>
internal static unsafe class Bf16Vectors
{
    /// <summary>Sixteen bfloat16 values at <paramref name="p"/> as two vectors of eight floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Low, Vector256<float> High) Load(ushort* p)
    {
        var (lo, hi) = Vector256.Widen(Vector256.Load(p));
        return ((lo << 16).AsSingle(), (hi << 16).AsSingle());
    }

    /// <summary>Sixteen floats rounded to bfloat16 and stored at <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> low, Vector256<float> high, ushort* p) => Vector256.Narrow(Bits(low), Bits(high)).Store(p);

    /// <summary>Eight floats rounded to the nearest bfloat16 (ties to even), still as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Round(Vector256<float> v) => (Bits(v) << 16).AsSingle();

    /// <summary>Eight floats rounded to nearest-even bfloat16, each in the low half of its lane; NaN stays a quiet NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<uint> Bits(Vector256<float> v)
    {
        var u = v.AsUInt32();
        var rounded = (u + Vector256.Create(0x7FFFu) + ((u >> 16) & Vector256<uint>.One)) >> 16;
        return Vector256.ConditionalSelect(Vector256.Equals(v, v).AsUInt32(), rounded, (u >> 16) | Vector256.Create(0x40u));
    }
}
