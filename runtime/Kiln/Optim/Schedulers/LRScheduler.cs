using System.Collections.Generic;

namespace Kiln.Optim.Schedulers;

/// <summary>A scheduler whose position can be saved and restored (every scheduler in Kiln).</summary>
public interface ISchedulerState
{
    /// <summary>The scheduler's position as named number arrays.</summary>
    Dictionary<string, double[]> StateDict();

    /// <summary>Restores a position saved by <see cref="StateDict"/>.</summary>
    void LoadStateDict(Dictionary<string, double[]> state);
}

/// <summary>
/// The base of the epoch/step learning-rate schedulers (<c>torch.optim.lr_scheduler.LRScheduler</c>). Construction
/// records each group's <c>initial_lr</c> and takes the initial step (epoch 0); every <see cref="Step"/> advances one
/// epoch and writes the new rates into the optimizer's groups.
/// </summary>
public abstract class LRScheduler : ISchedulerState
{
    private protected LRScheduler(Optimizer optimizer, bool initialStep = true)
    {
        Optimizer = optimizer;
        foreach (var g in optimizer.ParamGroups)
            if (!g.Has("initial_lr")) g["initial_lr"] = g.Lr;
        BaseLrs = new double[optimizer.ParamGroups.Count];
        for (int i = 0; i < BaseLrs.Length; i++) BaseLrs[i] = optimizer.ParamGroups[i]["initial_lr"];
        LastEpoch = -1;
        if (initialStep) InitialStep();
    }

    /// <summary>The optimizer whose rates this schedules.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Each group's starting learning rate.</summary>
    public double[] BaseLrs { get; private protected set; }

    /// <summary>The epoch (or step) count; -1 before the initial step.</summary>
    public int LastEpoch { get; internal set; }

    /// <summary>How many times <see cref="Step"/> ran, the initial step included.</summary>
    public int StepCount { get; private set; }

    double[] _lastLr = [];

    internal void InitialStep()
    {
        StepCount = 0;
        Step();
    }

    /// <summary>The rates set by the last step (<c>get_last_lr</c>).</summary>
    public IReadOnlyList<double> GetLastLr() => _lastLr;

    /// <summary>The rates for <see cref="LastEpoch"/>, from the groups' current rates (PyTorch's chainable <c>get_lr</c>).</summary>
    private protected abstract double[] ComputeLr();

    /// <summary>Advances one epoch and sets the new learning rates.</summary>
    public virtual void Step()
    {
        StepCount++;
        LastEpoch++;
        Apply(ComputeLr());
    }

    private protected void Apply(double[] lrs)
    {
        for (int i = 0; i < lrs.Length; i++) Optimizer.ParamGroups[i].Lr = lrs[i];
        _lastLr = lrs;
    }

    private protected double[] CurrentLrs()
    {
        var r = new double[Optimizer.ParamGroups.Count];
        for (int i = 0; i < r.Length; i++) r[i] = Optimizer.ParamGroups[i].Lr;
        return r;
    }

    /// <summary>The scheduler's position (<c>state_dict</c>).</summary>
    public virtual Dictionary<string, double[]> StateDict() => new()
    {
        ["last_epoch"] = [LastEpoch],
        ["_step_count"] = [StepCount],
        ["base_lrs"] = (double[])BaseLrs.Clone(),
        ["_last_lr"] = (double[])_lastLr.Clone(),
    };

    /// <summary>Restores a position saved by <see cref="StateDict"/>.</summary>
    public virtual void LoadStateDict(Dictionary<string, double[]> state)
    {
        LastEpoch = (int)Get(state, "last_epoch")[0];
        StepCount = (int)Get(state, "_step_count")[0];
        BaseLrs = (double[])Get(state, "base_lrs").Clone();
        _lastLr = (double[])Get(state, "_last_lr").Clone();
    }

    private protected static double[] Get(Dictionary<string, double[]> state, string key) =>
        state.TryGetValue(key, out var v) ? v : throw new KilnException("lr_scheduler", $"lr_scheduler: state dict has no '{key}'");
}
