using System.Collections.Generic;

namespace Kiln.Optim.Schedulers;

/// <summary>
/// A scheduler made of others (<see cref="SequentialLR"/>, <see cref="ChainedScheduler"/>): its state dict holds each
/// part's under <c>_schedulers.{i}.</c>, as PyTorch's keeps a <c>_schedulers</c> list, so a resumed run continues every part
/// where it stood.
/// </summary>
public abstract class ComposedScheduler : LRScheduler
{
    const string Prefix = "_schedulers.";

    private protected ComposedScheduler(Optimizer optimizer, LRScheduler[] schedulers, string name) : base(optimizer, initialStep: false)
    {
        if (schedulers is not { Length: > 0 }) throw new KilnException(name, $"{name}: expects at least one scheduler");
        foreach (var s in schedulers)
            if (!ReferenceEquals(s.Optimizer, optimizer))
                throw new KilnException(name, $"{name}: expects all schedulers to belong to the same optimizer");
        Schedulers = schedulers;
    }

    /// <summary>The parts, in order.</summary>
    private protected LRScheduler[] Schedulers { get; }

    /// <inheritdoc/>
    public override Dictionary<string, double[]> StateDict()
    {
        var state = base.StateDict();
        for (int i = 0; i < Schedulers.Length; i++)
            foreach (var (key, value) in Schedulers[i].StateDict())
                state[$"{Prefix}{i}.{key}"] = value;
        return state;
    }

    /// <inheritdoc/>
    public override void LoadStateDict(Dictionary<string, double[]> state)
    {
        base.LoadStateDict(state);
        for (int i = 0; i < Schedulers.Length; i++)
        {
            string prefix = $"{Prefix}{i}.";
            var part = new Dictionary<string, double[]>();
            foreach (var (key, value) in state)
                if (key.StartsWith(prefix, System.StringComparison.Ordinal)) part[key.Substring(prefix.Length)] = value;
            if (part.Count == 0) throw new KilnException("lr_scheduler", $"lr_scheduler: state dict has no '{prefix}*' entries for scheduler {i} of {Schedulers.Length}");
            Schedulers[i].LoadStateDict(part);
        }
    }
}
