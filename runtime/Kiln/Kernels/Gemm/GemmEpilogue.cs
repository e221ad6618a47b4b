using System.Runtime.Intrinsics;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels.Gemm;

/// <summary>Activation applied by a GEMM epilogue.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public enum GemmActivation : byte
{
    /// <summary>No activation.</summary>
    None,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>Exact (erf) GELU.</summary>
    Gelu,
    /// <summary>Tanh-approximated GELU.</summary>
    GeluTanh,
}

/// <summary>
/// Work done on each finished tile of C while it is still in cache: add a bias per column (Linear) or per row, keep the
/// pre-activation when a backward needs it, apply an activation, then multiply by a per-element factor (a dropout
/// mask). Compiled models fuse Linear + bias + activation + dropout through this hook.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public unsafe struct GemmEpilogue
{
    /// <summary>Bias of length N added to every row, or null.</summary>
    public float* ColumnBias;
    /// <summary>Bias of length M added to every column, or null.</summary>
    public float* RowBias;
    /// <summary>Activation after the bias.</summary>
    public GemmActivation Activation;
    /// <summary>Where the value before the activation is written (m × n, leading dimension <see cref="Ld"/>), or null.</summary>
    public float* PreActivation;
    /// <summary>Factors the activated value is multiplied by (m × n, leading dimension <see cref="Ld"/>), or null.</summary>
    public float* Multiplier;
    /// <summary>Leading dimension of <see cref="PreActivation"/> and <see cref="Multiplier"/>.</summary>
    public long Ld;

    /// <summary>True when there is nothing to do.</summary>
    public readonly bool IsEmpty => ColumnBias == null && RowBias == null && Activation == GemmActivation.None && PreActivation == null && Multiplier == null;

    /// <summary>This epilogue for a product over C's columns from <paramref name="col0"/> on, computed on its own.</summary>
    internal readonly GemmEpilogue Columns(int col0) => this with
    {
        ColumnBias = ColumnBias == null ? null : ColumnBias + col0,
        PreActivation = PreActivation == null ? null : PreActivation + col0,
        Multiplier = Multiplier == null ? null : Multiplier + col0,
    };

    /// <summary>Applies the epilogue to C[row, col0 .. col0+n).</summary>
    internal readonly void Apply(float* c, int row, int col0, int n)
    {
        if (RowBias != null) Add(c, null, RowBias[row], n);
        if (ColumnBias != null) Add(c, ColumnBias + col0, 0, n);
        if (PreActivation != null) new System.ReadOnlySpan<float>(c, n).CopyTo(new System.Span<float>(PreActivation + row * Ld + col0, n));
        switch (Activation)
        {
            case GemmActivation.Relu: Map(c, n, new ReluOp()); break;
            case GemmActivation.Gelu: Map(c, n, new FloatUnary<GeluF>()); break;
            case GemmActivation.GeluTanh: Map(c, n, new FloatUnary<GeluTanhF>()); break;
        }
        if (Multiplier != null) Scale(c, Multiplier + row * Ld + col0, n);
    }

    static void Scale(float* c, float* factor, int n)
    {
        int i = 0, w = Vector256<float>.Count;
        for (; i <= n - w; i += w) (Vector256.Load(c + i) * Vector256.Load(factor + i)).Store(c + i);
        for (; i < n; i++) c[i] *= factor[i];
    }

    static void Add(float* c, float* bias, float scalar, int n)
    {
        int i = 0, w = Vector256<float>.Count;
        var s = Vector256.Create(scalar);
        for (; i <= n - w; i += w)
            (Vector256.Load(c + i) + (bias != null ? Vector256.Load(bias + i) : s)).Store(c + i);
        for (; i < n; i++) c[i] += bias != null ? bias[i] : scalar;
    }

    static void Map<TOp>(float* c, int n, TOp op) where TOp : struct, IUnaryOp
    {
        int i = 0, w = Vector256<float>.Count;
        if (op.Vectorized<float>()) for (; i <= n - w; i += w) op.Invoke(Vector256.Load(c + i)).Store(c + i);
        for (; i < n; i++) c[i] = op.Invoke(c[i]);
    }
}
