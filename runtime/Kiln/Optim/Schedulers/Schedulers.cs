using System;
using System.Collections.Generic;

namespace Kiln.Optim.Schedulers;

/// <summary>Multiplies the rate by <c>gamma</c> every <c>stepSize</c> epochs (<c>StepLR</c>).</summary>
public sealed class StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : LRScheduler(optimizer)
{
    private protected override double[] ComputeLr()
    {
        var lr = CurrentLrs();
        if (LastEpoch == 0 || LastEpoch % stepSize != 0) return lr;
        for (int i = 0; i < lr.Length; i++) lr[i] *= gamma;
        return lr;
    }
}

/// <summary>Multiplies the rate by <c>gamma</c> at each milestone epoch (<c>MultiStepLR</c>).</summary>
public sealed class MultiStepLR(Optimizer optimizer, int[] milestones, double gamma = 0.1) : LRScheduler(optimizer)
{
    private protected override double[] ComputeLr()
    {
        var lr = CurrentLrs();
        int hits = 0;
        foreach (int m in milestones) if (m == LastEpoch) hits++;
        if (hits == 0) return lr;
        for (int i = 0; i < lr.Length; i++) lr[i] *= Math.Pow(gamma, hits);
        return lr;
    }
}

/// <summary>Multiplies the rate by <c>gamma</c> every epoch (<c>ExponentialLR</c>).</summary>
public sealed class ExponentialLR(Optimizer optimizer, double gamma) : LRScheduler(optimizer)
{
    private protected override double[] ComputeLr()
    {
        var lr = CurrentLrs();
        if (LastEpoch == 0) return lr;
        for (int i = 0; i < lr.Length; i++) lr[i] *= gamma;
        return lr;
    }
}

/// <summary>Cosine annealing from the base rate to <c>etaMin</c> over <c>tMax</c> epochs (<c>CosineAnnealingLR</c>, PyTorch's recursive form).</summary>
public sealed class CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : LRScheduler(optimizer)
{
    private protected override double[] ComputeLr()
    {
        var lr = CurrentLrs();
        if (LastEpoch == 0) return lr;
        for (int i = 0; i < lr.Length; i++)
        {
            if (StepCount == 1 && LastEpoch > 0)
                lr[i] = etaMin + (BaseLrs[i] - etaMin) * (1 + Math.Cos(LastEpoch * Math.PI / tMax)) / 2;
            else if ((LastEpoch - 1 - tMax) % (2 * tMax) == 0)
                lr[i] = lr[i] + (BaseLrs[i] - etaMin) * (1 - Math.Cos(Math.PI / tMax)) / 2;
            else
                lr[i] = (1 + Math.Cos(Math.PI * LastEpoch / tMax)) / (1 + Math.Cos(Math.PI * (LastEpoch - 1) / tMax)) * (lr[i] - etaMin) + etaMin;
        }
        return lr;
    }

    /// <summary>The closed form at <see cref="LRScheduler.LastEpoch"/> (used when a sequence hands over at a milestone).</summary>
    internal double[] ClosedForm()
    {
        var lr = new double[BaseLrs.Length];
        for (int i = 0; i < lr.Length; i++) lr[i] = etaMin + (BaseLrs[i] - etaMin) * (1 + Math.Cos(Math.PI * LastEpoch / tMax)) / 2;
        return lr;
    }

    internal void StepTo(int epoch)
    {
        LastEpoch = epoch;
        Apply(ClosedForm());
    }
}

/// <summary>Scales the rate linearly from <c>startFactor</c> to <c>endFactor</c> over <c>totalIters</c> epochs (<c>LinearLR</c>, warm-up).</summary>
public sealed class LinearLR : LRScheduler
{
    readonly double _start, _end;
    readonly int _total;

    /// <summary>A linear ramp of the rate factor.</summary>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5) : base(optimizer, initialStep: false)
    {
        if (startFactor > 1 || startFactor <= 0) throw new KilnException("LinearLR", "LinearLR: Starting multiplicative factor expected to be greater than 0 and less or equal to 1.");
        if (endFactor > 1 || endFactor < 0) throw new KilnException("LinearLR", "LinearLR: Ending multiplicative factor expected to be between 0 and 1.");
        _start = startFactor; _end = endFactor; _total = totalIters;
        InitialStep();
    }

    private protected override double[] ComputeLr()
    {
        var lr = CurrentLrs();
        if (LastEpoch == 0) { for (int i = 0; i < lr.Length; i++) lr[i] *= _start; return lr; }
        if (LastEpoch > _total) return lr;
        double f = 1 + (_end - _start) / (_total * _start + (LastEpoch - 1) * (_end - _start));
        for (int i = 0; i < lr.Length; i++) lr[i] *= f;
        return lr;
    }
}

/// <summary>Sets each rate to base rate · <c>lrLambda(epoch)</c> (<c>LambdaLR</c>).</summary>
public sealed class LambdaLR : LRScheduler
{
    readonly Func<int, double> _lambda;

    /// <summary>A rate given by a function of the epoch.</summary>
    public LambdaLR(Optimizer optimizer, Func<int, double> lrLambda) : base(optimizer, initialStep: false)
    {
        _lambda = lrLambda;
        InitialStep();
    }

    private protected override double[] ComputeLr()
    {
        var lr = new double[BaseLrs.Length];
        for (int i = 0; i < lr.Length; i++) lr[i] = BaseLrs[i] * _lambda(LastEpoch);
        return lr;
    }
}

/// <summary>
/// The 1cycle policy (<c>OneCycleLR</c>): the rate rises from max_lr/divFactor to max_lr over <c>pctStart</c> of the steps,
/// then anneals to initial/finalDivFactor; momentum (or Adam's beta1) cycles the opposite way. Step after every batch.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    readonly int _total;
    readonly (double End, string StartLr, string EndLr, string StartM, string EndM)[] _phases;
    readonly bool _cos, _cycleMomentum, _useBeta1;

    /// <summary>A one-cycle schedule of <paramref name="totalSteps"/> steps peaking at <paramref name="maxLr"/>.</summary>
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, string annealStrategy = "cos", bool cycleMomentum = true,
        double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false)
        : base(Prepare(optimizer, maxLr, divFactor, finalDivFactor), initialStep: false)
    {
        if (totalSteps <= 0) throw new KilnException("OneCycleLR", $"OneCycleLR: Expected positive integer total_steps, but got {totalSteps}");
        if (pctStart < 0 || pctStart > 1) throw new KilnException("OneCycleLR", $"OneCycleLR: Expected float between 0 and 1 pct_start, but got {pctStart}");
        if (annealStrategy != "cos" && annealStrategy != "linear") throw new KilnException("OneCycleLR", $"OneCycleLR: anneal_strategy must by one of 'cos' or 'linear', instead got {annealStrategy}");
        _total = totalSteps; _cos = annealStrategy == "cos"; _cycleMomentum = cycleMomentum;
        _phases = threePhase
            ? [(pctStart * totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
               (2 * pctStart * totalSteps - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
               (totalSteps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
            : [(pctStart * totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
               (totalSteps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")];
        if (cycleMomentum)
        {
            var g0 = optimizer.ParamGroups[0];
            _useBeta1 = g0.Has("beta1");
            if (!_useBeta1 && !g0.Has("momentum"))
                throw new KilnException("OneCycleLR", "OneCycleLR: optimizer must support momentum or beta1 with `cycle_momentum` option enabled");
            foreach (var g in optimizer.ParamGroups)
            {
                g[_useBeta1 ? "beta1" : "momentum"] = maxMomentum;
                g["max_momentum"] = maxMomentum;
                g["base_momentum"] = baseMomentum;
            }
        }
        InitialStep();
    }

    static Optimizer Prepare(Optimizer optimizer, double maxLr, double divFactor, double finalDivFactor)
    {
        foreach (var g in optimizer.ParamGroups)
        {
            double initial = maxLr / divFactor;
            g["initial_lr"] = initial;
            g.Lr = initial;
            g["max_lr"] = maxLr;
            g["min_lr"] = initial / finalDivFactor;
        }
        return optimizer;
    }

    double Anneal(double start, double end, double pct) =>
        _cos ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;

    private protected override double[] ComputeLr()
    {
        int step = LastEpoch;
        if (step > _total)
            throw new KilnException("OneCycleLR", $"OneCycleLR: Tried to step {step} times. The specified number of total steps is {_total}");
        var lr = new double[Optimizer.ParamGroups.Count];
        for (int gi = 0; gi < lr.Length; gi++)
        {
            var g = Optimizer.ParamGroups[gi];
            double start = 0;
            for (int i = 0; i < _phases.Length; i++)
            {
                var ph = _phases[i];
                if (step <= ph.End || i == _phases.Length - 1)
                {
                    double pct = (step - start) / (ph.End - start);
                    lr[gi] = Anneal(g[ph.StartLr], g[ph.EndLr], pct);
                    if (_cycleMomentum) g[_useBeta1 ? "beta1" : "momentum"] = Anneal(g[ph.StartM], g[ph.EndM], pct);
                    break;
                }
                start = ph.End;
            }
        }
        return lr;
    }
}

/// <summary>Runs schedulers one after another, switching at the milestone epochs (<c>SequentialLR</c>, e.g. warm-up then cosine).</summary>
public sealed class SequentialLR : ComposedScheduler
{
    readonly int[] _milestones;

    /// <summary>Chains <paramref name="schedulers"/>; scheduler i+1 takes over at <paramref name="milestones"/>[i].</summary>
    public SequentialLR(Optimizer optimizer, LRScheduler[] schedulers, int[] milestones) : base(optimizer, schedulers, "SequentialLR")
    {
        if (milestones.Length != schedulers.Length - 1)
            throw new KilnException("SequentialLR", $"SequentialLR: Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers {schedulers.Length} and the number of milestones to be equal to {milestones.Length}");
        _milestones = milestones;
        LastEpoch = 0;
        // Undo the initial steps the schedulers took when they were built, then let the first one take it again.
        foreach (var g in optimizer.ParamGroups) g.Lr = g["initial_lr"];
        foreach (var s in schedulers) s.LastEpoch -= 1;
        schedulers[0].InitialStep();
        Apply(CurrentLrs());
    }

    private protected override double[] ComputeLr() => CurrentLrs();

    /// <inheritdoc/>
    public override void Step()
    {
        LastEpoch++;
        int idx = 0;
        while (idx < _milestones.Length && _milestones[idx] <= LastEpoch) idx++;
        var s = Schedulers[idx];
        if (idx > 0 && _milestones[idx - 1] == LastEpoch)
        {
            // PyTorch calls scheduler.step(0): the closed form at epoch 0 where one exists, else get_lr at epoch 0.
            if (s is CosineAnnealingLR cos) cos.StepTo(0);
            else { s.LastEpoch = -1; s.Step(); }
        }
        else s.Step();
        Apply(CurrentLrs());
    }
}

/// <summary>
/// Lowers the rate by <c>factor</c> when a metric stops improving for <c>patience</c> epochs (<c>ReduceLROnPlateau</c>);
/// call <see cref="Step(double)"/> with the metric.
/// </summary>
public sealed class ReduceLROnPlateau : ISchedulerState
{
    readonly Optimizer _opt;
    readonly bool _min, _rel;
    readonly double _factor, _threshold, _eps;
    readonly double[] _minLrs;
    readonly int _patience, _cooldown;
    int _cooldownCounter, _badEpochs, _lastEpoch;
    double _best;

    /// <summary>A plateau scheduler; <paramref name="mode"/> "min" or "max", <paramref name="thresholdMode"/> "rel" or "abs".</summary>
    public ReduceLROnPlateau(Optimizer optimizer, string mode = "min", double factor = 0.1, int patience = 10, double threshold = 1e-4,
        string thresholdMode = "rel", int cooldown = 0, double minLr = 0, double eps = 1e-8)
    {
        if (factor >= 1) throw new KilnException("ReduceLROnPlateau", "ReduceLROnPlateau: Factor should be < 1.0.");
        if (mode != "min" && mode != "max") throw new KilnException("ReduceLROnPlateau", $"ReduceLROnPlateau: mode {mode} is unknown!");
        if (thresholdMode != "rel" && thresholdMode != "abs") throw new KilnException("ReduceLROnPlateau", $"ReduceLROnPlateau: threshold mode {thresholdMode} is unknown!");
        _opt = optimizer; _min = mode == "min"; _rel = thresholdMode == "rel"; _factor = factor; _threshold = threshold; _eps = eps;
        _patience = patience; _cooldown = cooldown;
        _minLrs = new double[optimizer.ParamGroups.Count];
        Array.Fill(_minLrs, minLr);
        _best = _min ? double.PositiveInfinity : double.NegativeInfinity;
    }

    /// <summary>The current rates.</summary>
    public IReadOnlyList<double> GetLastLr()
    {
        var r = new double[_opt.ParamGroups.Count];
        for (int i = 0; i < r.Length; i++) r[i] = _opt.ParamGroups[i].Lr;
        return r;
    }

    bool Better(double a, double best) => (_min, _rel) switch
    {
        (true, true) => a < best * (1 - _threshold),
        (true, false) => a < best - _threshold,
        (false, true) => a > best * (_threshold + 1),
        _ => a > best + _threshold,
    };

    /// <summary>Reports this epoch's metric; lowers the rates after <c>patience</c> epochs without improvement.</summary>
    public void Step(double metric)
    {
        _lastEpoch++;
        if (Better(metric, _best)) { _best = metric; _badEpochs = 0; }
        else _badEpochs++;
        if (_cooldownCounter > 0) { _cooldownCounter--; _badEpochs = 0; }
        if (_badEpochs > _patience)
        {
            for (int i = 0; i < _opt.ParamGroups.Count; i++)
            {
                var g = _opt.ParamGroups[i];
                double newLr = Math.Max(g.Lr * _factor, _minLrs[i]);
                if (g.Lr - newLr > _eps) g.Lr = newLr;
            }
            _cooldownCounter = _cooldown;
            _badEpochs = 0;
        }
    }

    /// <summary>The scheduler's position.</summary>
    public Dictionary<string, double[]> StateDict() => new()
    {
        ["best"] = [_best],
        ["num_bad_epochs"] = [_badEpochs],
        ["cooldown_counter"] = [_cooldownCounter],
        ["last_epoch"] = [_lastEpoch],
    };

    /// <summary>Restores a position saved by <see cref="StateDict"/>.</summary>
    public void LoadStateDict(Dictionary<string, double[]> state)
    {
        _best = state["best"][0]; _badEpochs = (int)state["num_bad_epochs"][0]; _cooldownCounter = (int)state["cooldown_counter"][0]; _lastEpoch = (int)state["last_epoch"][0];
    }
}
