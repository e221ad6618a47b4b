namespace Kiln.Compiler.Ops
{
    /// <summary>pow with a number exponent.</summary>
    public sealed record PowScalarArgs(double Exponent) : OpArgs;

    /// <summary>softplus: log(1 + exp(βx))/β, linear above <paramref name="Threshold"/> (in βx).</summary>
    public sealed record SoftplusArgs(double Beta, double Threshold) : OpArgs;

    /// <summary>clamp: either bound may be absent.</summary>
    public sealed record ClampArgs(double? Min, double? Max) : OpArgs;

    /// <summary>gelu: PyTorch's <c>approximate</c> ("none" or "tanh").</summary>
    public sealed record GeluArgs(string Approximate) : OpArgs;

    /// <summary>addmm: β·input + α·(mat1 @ mat2).</summary>
    public sealed record AddmmArgs(double Beta, double Alpha) : OpArgs;
}
