using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Gemm;

/// <summary>
/// A gate on the left operand of a GEMM, applied while A is packed: A[i,p] enters the product as
/// <c>Values[i,p] &gt; 0 ? A[i,p]·Scale : 0</c>, with <see cref="Values"/> in A's strides. The backward of a compiled
/// Linear+ReLU (+dropout) passes the layer's output here, so the pre-activation gradient is never written out.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public unsafe struct GemmGate
{
    /// <summary>The gating values (A's layout), or null for no gate.</summary>
    public float* Values;
    /// <summary>The factor kept elements are multiplied by (1, or a dropout's 1/(1-p)).</summary>
    public float Scale;

    /// <summary>True when there is no gate.</summary>
    public readonly bool IsEmpty => Values == null;

    /// <summary>a·scale where the gate value is positive, else 0 — in lanes, without a branch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Gated(Vector256<float> a, Vector256<float> gate, Vector256<float> scale) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(gate, Vector256<float>.Zero), a * scale, Vector256<float>.Zero);

    /// <summary>The same gate over four lanes (the rest of a 12-row panel's run).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Gated(Vector128<float> a, Vector128<float> gate, Vector128<float> scale) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(gate, Vector128<float>.Zero), a * scale, Vector128<float>.Zero);

    /// <summary>
    /// dst[i] = the gated a[i] over <paramref name="count"/> elements laid out as <see cref="Values"/>: for operands read by
    /// several products (a low-rank term's backward), where gating each packing again would cost more than one pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal readonly void Apply(float* a, float* dst, long count)
    {
        var s = Vector256.Create(Scale);
        long i = 0;
        for (; i + 8 <= count; i += 8) Gated(Vector256.Load(a + i), Vector256.Load(Values + i), s).Store(dst + i);
        for (; i < count; i++) dst[i] = Values[i] > 0 ? a[i] * Scale : 0f;
    }
}
