using System;
using System.Collections.Generic;

namespace Kiln.Optim.Schedulers;

/// <summary>
/// Cosine annealing with warm restarts (<c>CosineAnnealingWarmRestarts</c>, SGDR): the rate follows a half cosine from the
/// base rate to <c>etaMin</c> over <c>t0</c> epochs, restarts, and each period is <c>tMult</c> times the last.
/// <see cref="Step(double)"/> takes fractional epochs, as PyTorch's <c>step(epoch + i / iters)</c>.
/// </summary>
public sealed class CosineAnnealingWarmRestarts : LRScheduler
{
    readonly int _t0, _tMult;
    readonly double _etaMin;
    double _tCur = -1, _ti;

    /// <summary>Restarts every <paramref name="t0"/> epochs, periods growing by <paramref name="tMult"/>.</summary>
    public CosineAnnealingWarmRestarts(Optimizer optimizer, int t0, int tMult = 1, double etaMin = 0) : base(optimizer, initialStep: false)
    {
        if (t0 <= 0) throw new KilnException("CosineAnnealingWarmRestarts", $"CosineAnnealingWarmRestarts: expected positive integer T_0, but got {t0}");
        if (tMult < 1) throw new KilnException("CosineAnnealingWarmRestarts", $"CosineAnnealingWarmRestarts: expected integer T_mult >= 1, but got {tMult}");
        _t0 = t0; _ti = t0; _tMult = tMult; _etaMin = etaMin;
        InitialStep();
    }

    private protected override double[] ComputeLr()
    {
        var lr = new double[BaseLrs.Length];
        for (int i = 0; i < lr.Length; i++) lr[i] = _etaMin + (BaseLrs[i] - _etaMin) * (1 + Math.Cos(Math.PI * _tCur / _ti)) / 2;
        return lr;
    }

    /// <summary>Advances one epoch; a finished period restarts the cosine.</summary>
    public override void Step()
    {
        if (LastEpoch < 0) { SetEpoch(0); return; }
        _tCur += 1;
        if (_tCur >= _ti) { _tCur -= _ti; _ti *= _tMult; }
        base.Step();
    }

    /// <summary>Moves to a (possibly fractional) epoch, e.g. <c>epoch + batch / batches</c>.</summary>
    public void Step(double epoch)
    {
        if (epoch < 0) throw new KilnException("CosineAnnealingWarmRestarts", $"CosineAnnealingWarmRestarts: expected non-negative epoch, but got {epoch}");
        SetEpoch(epoch);
    }

    void SetEpoch(double epoch)
    {
        if (epoch >= _t0)
        {
            if (_tMult == 1) _tCur = epoch % _t0;
            else
            {
                int n = (int)Math.Log(epoch / _t0 * (_tMult - 1) + 1, _tMult);
                _tCur = epoch - _t0 * (Math.Pow(_tMult, n) - 1) / (_tMult - 1);
                _ti = _t0 * Math.Pow(_tMult, n);
            }
        }
        else { _ti = _t0; _tCur = epoch; }
        LastEpoch = (int)Math.Floor(epoch) - 1;
        base.Step();
    }

    /// <inheritdoc/>
    public override Dictionary<string, double[]> StateDict()
    {
        var d = base.StateDict();
        d["T_cur"] = [_tCur];
        d["T_i"] = [_ti];
        return d;
    }

    /// <inheritdoc/>
    public override void LoadStateDict(Dictionary<string, double[]> state)
    {
        double tCur = Get(state, "T_cur")[0], ti = Get(state, "T_i")[0];
        base.LoadStateDict(state);
        _tCur = tCur; _ti = ti;
    }
}

/// <summary>
/// Cyclical learning rates (<c>CyclicLR</c>): the rate climbs from <c>baseLr</c> to <c>maxLr</c> over
/// <c>stepSizeUp</c> steps and back over <c>stepSizeDown</c>, scaled per cycle ("triangular", "triangular2") or per
/// step ("exp_range"); momentum cycles the opposite way when <c>cycleMomentum</c>. Step it after every batch.
/// </summary>
public sealed class CyclicLR : LRScheduler
{
    readonly double[] _maxLrs, _baseMomentum, _maxMomentum;
    readonly double _total, _ratio, _gamma;
    readonly string _mode, _momentumKey;
    readonly bool _cycleMomentum;

    /// <summary>A cycle between <paramref name="baseLr"/> and <paramref name="maxLr"/> for every group.</summary>
    public CyclicLR(Optimizer optimizer, double baseLr, double maxLr, int stepSizeUp = 2000, int? stepSizeDown = null, string mode = "triangular",
        double gamma = 1.0, bool cycleMomentum = true, double baseMomentum = 0.8, double maxMomentum = 0.9)
        : base(Prepare(optimizer, baseLr, cycleMomentum, maxMomentum, out string key), initialStep: false)
    {
        if (mode is not ("triangular" or "triangular2" or "exp_range"))
            throw new KilnException("CyclicLR", $"CyclicLR: mode is invalid and scale_fn is None (got '{mode}'; expected triangular, triangular2 or exp_range)");
        if (stepSizeUp <= 0 || stepSizeDown is <= 0) throw new KilnException("CyclicLR", "CyclicLR: step sizes must be positive", KilnErrorKind.Shape);
        int groups = optimizer.ParamGroups.Count;
        _maxLrs = Fill(groups, maxLr);
        _baseMomentum = Fill(groups, baseMomentum);
        _maxMomentum = Fill(groups, maxMomentum);
        double up = stepSizeUp, down = stepSizeDown ?? stepSizeUp;
        _total = up + down;
        _ratio = up / _total;
        _mode = mode; _gamma = gamma; _cycleMomentum = cycleMomentum; _momentumKey = key;
        BaseLrs = Fill(groups, baseLr);
        InitialStep();
    }

    static double[] Fill(int n, double v)
    {
        var r = new double[n];
        Array.Fill(r, v);
        return r;
    }

    /// <summary>Before the base records each group's initial rate: the groups start at the base rate and the top momentum.</summary>
    static Optimizer Prepare(Optimizer optimizer, double baseLr, bool cycleMomentum, double maxMomentum, out string key)
    {
        key = optimizer.ParamGroups.Count > 0 && optimizer.ParamGroups[0].Has("momentum") ? "momentum" : "beta1";
        if (cycleMomentum && !optimizer.ParamGroups[0].Has(key))
            throw new KilnException("CyclicLR", "CyclicLR: optimizer must support momentum or beta1 with `cycle_momentum` option enabled");
        foreach (var g in optimizer.ParamGroups)
        {
            g.Lr = baseLr;
            if (cycleMomentum) g[key] = maxMomentum;
        }
        return optimizer;
    }

    double Scale(double cycle) => _mode switch
    {
        "triangular" => 1.0,
        "triangular2" => 1 / Math.Pow(2, cycle - 1),
        _ => Math.Pow(_gamma, LastEpoch),
    };

    private protected override double[] ComputeLr()
    {
        double cycle = Math.Floor(1 + LastEpoch / _total);
        double x = 1.0 + LastEpoch / _total - cycle;
        double factor = x <= _ratio ? x / _ratio : (x - 1) / (_ratio - 1);
        double scale = Scale(cycle);
        var lr = new double[BaseLrs.Length];
        for (int i = 0; i < lr.Length; i++)
        {
            lr[i] = BaseLrs[i] + (_maxLrs[i] - BaseLrs[i]) * factor * scale;
            if (_cycleMomentum)
                Optimizer.ParamGroups[i][_momentumKey] = _maxMomentum[i] - (_maxMomentum[i] - _baseMomentum[i]) * factor * scale;
        }
        return lr;
    }
}
