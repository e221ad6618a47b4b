using System;

namespace Kiln.Optim.Schedulers;

/// <summary>
/// The learning rate of stochastic weight averaging (<c>torch.optim.swa_utils.SWALR</c>): each group's rate is annealed
/// from where it is to its SWA rate over <c>annealEpochs</c> steps (cosine or linear), then held there.
/// </summary>
public sealed class SWALR : LRScheduler
{
    readonly double[] _swaLrs;
    readonly int _annealEpochs;
    readonly bool _cosine;

    /// <summary>Anneals every group to <paramref name="swaLr"/>.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="swaLr">The rate to reach.</param>
    /// <param name="annealEpochs">Steps the annealing takes (0: the SWA rate at once).</param>
    /// <param name="annealStrategy">"cos" or "linear".</param>
    public SWALR(Optimizer optimizer, double swaLr, int annealEpochs = 10, string annealStrategy = "cos")
        : this(optimizer, Same(optimizer, swaLr), annealEpochs, annealStrategy) { }

    /// <summary>Anneals each group to its own rate in <paramref name="swaLrs"/>.</summary>
    public SWALR(Optimizer optimizer, double[] swaLrs, int annealEpochs = 10, string annealStrategy = "cos") : base(optimizer, initialStep: false)
    {
        ArgumentNullException.ThrowIfNull(swaLrs);
        if (swaLrs.Length != optimizer.ParamGroups.Count)
            throw new KilnException("SWALR", $"SWALR: swa_lr must have the same length as optimizer.param_groups: swa_lr has {swaLrs.Length}, optimizer.param_groups has {optimizer.ParamGroups.Count}", KilnErrorKind.Argument);
        if (annealStrategy is not ("cos" or "linear"))
            throw new KilnException("SWALR", $"SWALR: anneal_strategy must by one of 'cos' or 'linear', instead got {annealStrategy}", KilnErrorKind.Argument);
        if (annealEpochs < 0)
            throw new KilnException("SWALR", $"SWALR: anneal_epochs must be equal or greater than 0, got {annealEpochs}", KilnErrorKind.Argument);
        _swaLrs = (double[])swaLrs.Clone();
        for (int i = 0; i < _swaLrs.Length; i++) optimizer.ParamGroups[i]["swa_lr"] = _swaLrs[i];
        _annealEpochs = annealEpochs;
        _cosine = annealStrategy == "cos";
        InitialStep();
    }

    static double[] Same(Optimizer optimizer, double swaLr)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        var lrs = new double[optimizer.ParamGroups.Count];
        Array.Fill(lrs, swaLr);
        return lrs;
    }

    double Anneal(double t) => _cosine ? (1 - Math.Cos(Math.PI * t)) / 2 : t;

    // PyTorch's chainable form: the rate the previous step started from is recovered from the group's current rate, then
    // moved to this step's point of the annealing.
    private protected override double[] ComputeLr()
    {
        int step = StepCount - 1;
        if (_annealEpochs == 0) step = Math.Max(1, step);
        double prevT = Math.Max(0, Math.Min(1, (step - 1) / (double)Math.Max(1, _annealEpochs)));
        double prevAlpha = Anneal(prevT);
        double t = Math.Max(0, Math.Min(1, step / (double)Math.Max(1, _annealEpochs)));
        double alpha = Anneal(t);
        var lrs = CurrentLrs();
        for (int i = 0; i < lrs.Length; i++)
        {
            double swa = _swaLrs[i];
            double start = prevAlpha == 1 ? swa : (lrs[i] - prevAlpha * swa) / (1 - prevAlpha);
            lrs[i] = swa * alpha + start * (1 - alpha);
        }
        return lrs;
    }
}
