using System.Threading;

namespace Kiln;

/// <summary>
/// A seedable random-number generator (<c>torch.Generator</c>). Draws advance an offset into a
/// Philox stream, so results are the same whatever <see cref="Threads.Count"/> is.
/// </summary>
public sealed class Generator
{
    long _offset;

    /// <summary>The process-wide default generator used when none is passed.</summary>
    public static Generator Default { get; } = new(67280421310721UL);

    /// <summary>Seeds the default generator (<c>torch.manual_seed</c>).</summary>
    public static void ManualSeed(ulong seed) => Default.ManualSeed_(seed);

    /// <summary>Creates a generator with a seed.</summary>
    public Generator(ulong seed = 67280421310721UL) { Seed = seed; }

    /// <summary>The current seed.</summary>
    public ulong Seed { get; private set; }

    /// <summary>Words consumed so far; with <see cref="Seed"/> it is the whole state.</summary>
    public long Offset => Interlocked.Read(ref _offset);

    /// <summary>Re-seeds and rewinds.</summary>
    public Generator ManualSeed_(ulong seed)
    {
        Seed = seed;
        Interlocked.Exchange(ref _offset, 0);
        return this;
    }

    /// <summary>Restores a state captured from <see cref="Seed"/> and <see cref="Offset"/>.</summary>
    public void SetState(ulong seed, long offset)
    {
        Seed = seed;
        Interlocked.Exchange(ref _offset, offset);
    }

    /// <summary>Reserves <paramref name="words"/> 32-bit words (rounded to Philox blocks of 4) and returns the first index.</summary>
    internal ulong Reserve(long words)
    {
        long rounded = (words + 3) & ~3L;
        return (ulong)(Interlocked.Add(ref _offset, rounded) - rounded);
    }
}
