using System;

namespace Kiln.Optim.Schedulers;

/// <summary>
/// Multiplies the rate by <c>factor</c> for the first <c>totalIters</c> epochs, then restores it (<c>ConstantLR</c>, a
/// constant warm-up).
/// </summary>
public sealed class ConstantLR : LRScheduler
{
    readonly double _factor;
    readonly int _total;

    /// <summary>The rate times <paramref name="factor"/> until epoch <paramref name="totalIters"/>.</summary>
    public ConstantLR(Optimizer optimizer, double factor = 1.0 / 3, int totalIters = 5) : base(optimizer, initialStep: false)
    {
        if (factor > 1 || factor < 0) throw new KilnException("ConstantLR", "ConstantLR: Constant multiplicative factor expected to be between 0 and 1.");
        _factor = factor; _total = totalIters;
        InitialStep();
    }

    private protected override double[] ComputeLr()
    {
        var lr = CurrentLrs();
        double f = LastEpoch == 0 ? _factor : LastEpoch == _total ? 1 / _factor : 1;
        for (int i = 0; i < lr.Length; i++) lr[i] *= f;
        return lr;
    }
}

/// <summary>
/// Decays the rate to 0 over <c>totalIters</c> epochs as (1 - epoch/total)^power (<c>PolynomialLR</c>; power 1 is a
/// linear decay).
/// </summary>
public sealed class PolynomialLR : LRScheduler
{
    readonly int _total;
    readonly double _power;

    /// <summary>A polynomial decay of <paramref name="power"/> over <paramref name="totalIters"/> epochs.</summary>
    public PolynomialLR(Optimizer optimizer, int totalIters = 5, double power = 1) : base(optimizer, initialStep: false)
    {
        if (totalIters <= 0) throw new KilnException("PolynomialLR", $"PolynomialLR: total_iters must be positive, got {totalIters}");
        _total = totalIters; _power = power;
        InitialStep();
    }

    private protected override double[] ComputeLr()
    {
        var lr = CurrentLrs();
        if (LastEpoch == 0 || LastEpoch > _total) return lr;
        // PyTorch's chainable form: this epoch's factor over the last one's.
        double f = Math.Pow((1.0 - (double)LastEpoch / _total) / (1.0 - (double)(LastEpoch - 1) / _total), _power);
        for (int i = 0; i < lr.Length; i++) lr[i] *= f;
        return lr;
    }
}

/// <summary>Multiplies each rate by <c>lrLambda(epoch)</c> every epoch after the first (<c>MultiplicativeLR</c>).</summary>
public sealed class MultiplicativeLR : LRScheduler
{
    readonly Func<int, double> _lambda;

    /// <summary>A rate multiplied by a function of the epoch at every step.</summary>
    public MultiplicativeLR(Optimizer optimizer, Func<int, double> lrLambda) : base(optimizer, initialStep: false)
    {
        _lambda = lrLambda ?? throw new ArgumentNullException(nameof(lrLambda));
        InitialStep();
    }

    private protected override double[] ComputeLr()
    {
        var lr = CurrentLrs();
        if (LastEpoch == 0) return lr;
        double f = _lambda(LastEpoch);
        for (int i = 0; i < lr.Length; i++) lr[i] *= f;
        return lr;
    }
}

/// <summary>
/// Steps several schedulers of one optimizer together, each multiplying in its factor (<c>ChainedScheduler</c>, e.g.
/// a constant warm-up chained with an exponential decay).
/// </summary>
public sealed class ChainedScheduler : ComposedScheduler
{
    /// <summary>Chains <paramref name="schedulers"/>, which have each taken their initial step.</summary>
    public ChainedScheduler(LRScheduler[] schedulers) : base(First(schedulers).Optimizer, schedulers, "ChainedScheduler")
    {
        LastEpoch = 0;
        Apply(CurrentLrs());
    }

    static LRScheduler First(LRScheduler[] schedulers) =>
        schedulers is { Length: > 0 } ? schedulers[0] : throw new KilnException("ChainedScheduler", "ChainedScheduler: expects at least one scheduler");

    private protected override double[] ComputeLr() => CurrentLrs();

    /// <inheritdoc/>
    public override void Step()
    {
        LastEpoch++;
        foreach (var s in Schedulers) s.Step();
        Apply(CurrentLrs());
    }
}
