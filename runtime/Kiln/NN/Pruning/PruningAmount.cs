using System;

namespace Kiln.NN.Pruning;

/// <summary>
/// How much to prune: a fraction of the candidates in [0, 1] (a <see cref="double"/>) or a count of them (an
/// <see cref="int"/>), as PyTorch's <c>amount</c>. Converts implicitly from either, so <c>0.3</c> prunes 30 % and
/// <c>3</c> prunes three.
/// </summary>
public readonly struct PruningAmount
{
    readonly double _fraction;
    readonly int _count;

    PruningAmount(double fraction, int count, bool isCount) { _fraction = fraction; _count = count; IsCount = isCount; }

    /// <summary>Whether the amount is a count (an int) rather than a fraction.</summary>
    public bool IsCount { get; }

    /// <summary>A fraction of the candidates.</summary>
    /// <exception cref="KilnException">When it is not in [0, 1].</exception>
    public static implicit operator PruningAmount(double fraction) =>
        fraction is >= 0 and <= 1
            ? new PruningAmount(fraction, 0, false)
            : throw new KilnException("prune", $"prune: amount={PyFormat.Float(fraction)} should either be a float in the range [0, 1] or a non-negative integer", KilnErrorKind.Argument);

    /// <summary>A count of candidates.</summary>
    /// <exception cref="KilnException">When it is negative.</exception>
    public static implicit operator PruningAmount(int count) =>
        count >= 0
            ? new PruningAmount(0, count, true)
            : throw new KilnException("prune", $"prune: amount={count} should either be a float in the range [0, 1] or a non-negative integer", KilnErrorKind.Argument);

    /// <summary>
    /// How many of <paramref name="candidates"/> to prune: the count, or the fraction times the candidates rounded half to
    /// even (Python's <c>round</c>, so 2.5 gives 2).
    /// </summary>
    /// <exception cref="KilnException">When a count exceeds the candidates.</exception>
    public int Of(long candidates, string op)
    {
        if (!IsCount) return (int)Math.Round(_fraction * candidates, MidpointRounding.ToEven);
        if (_count > candidates)
            throw new KilnException(op, $"{op}: amount={_count} should be smaller than the number of parameters to prune={candidates}", KilnErrorKind.Argument);
        return _count;
    }

    /// <inheritdoc/>
    public override string ToString() => IsCount ? _count.ToString(System.Globalization.CultureInfo.InvariantCulture) : PyFormat.Float(_fraction);
}
