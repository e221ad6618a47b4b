using System.Collections.Generic;

namespace Kiln.Distributed;

/// <summary>Which rank owns (keeps optimizer state, gradients and, in stage 3, the data of) each parameter.</summary>
internal static class ShardPlan
{
    /// <summary>In order, each parameter to the rank holding the fewest elements so far (ties to the lower rank).</summary>
    public static int[] Assign(IReadOnlyList<Tensor> parameters, int worldSize)
    {
        var owner = new int[parameters.Count];
        var load = new long[worldSize];
        for (int i = 0; i < parameters.Count; i++)
        {
            int least = 0;
            for (int r = 1; r < load.Length; r++) if (load[r] < load[least]) least = r;
            owner[i] = least;
            load[least] += parameters[i].Numel;
        }
        return owner;
    }
}
