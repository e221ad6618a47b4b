using System.Collections.Generic;

namespace Kiln.Optim;

/// <summary>
/// An optimizer's saved state (<c>optimizer.state_dict()</c>): per-parameter state keyed by the parameter's position
/// across all groups, and each group's options with the positions of its parameters.
/// </summary>
public sealed class OptimizerStateDict
{
    /// <summary>Per-parameter buffers (<c>step</c>, <c>exp_avg</c>, <c>momentum_buffer</c>, ...) by parameter index.</summary>
    public Dictionary<int, Dictionary<string, Tensor>> State { get; } = new();

    /// <summary>Each group's options and parameter indices.</summary>
    public List<(Dictionary<string, double> Options, int[] Params)> ParamGroups { get; } = new();
}
