namespace Kiln.Backends;

/// <summary>The floating-point row statistics a backend may compute in one pass (<see cref="IBackend.RowStatistic"/>).</summary>
internal enum RowStatistic
{
    /// <summary>The mean.</summary>
    Mean,
    /// <summary>The variance with a correction (the parameter; 1 = unbiased).</summary>
    Var,
    /// <summary>The standard deviation with a correction (the parameter).</summary>
    Std,
    /// <summary>The p-norm (p the parameter).</summary>
    Norm,
    /// <summary>log(sum(exp(x))), computed stably.</summary>
    LogSumExp,
}
