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
}
