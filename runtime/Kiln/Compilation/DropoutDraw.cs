namespace Kiln.Compilation;

/// <summary>
/// Where one dropout mask sits in its generator's counter-based stream: the compiled backward regenerates the mask
/// from it instead of keeping it, and it is the same mask eager dropout draws from the same generator state.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public readonly struct DropoutDraw
{
    readonly ulong _key, _start;
    readonly long _count;

    DropoutDraw(ulong key, ulong start, long count, double p) { _key = key; _start = start; _count = count; P = p; }

    /// <summary>The drop probability.</summary>
    public double P { get; }

    /// <summary>Reserves <paramref name="count"/> draws from <paramref name="generator"/> (the default one when null), as eager dropout does.</summary>
    internal static DropoutDraw Reserve(long count, double p, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        return new DropoutDraw(g.Seed, g.Reserve(count), count, p);
    }

    /// <summary>Writes the scaled keep-mask (1/(1-p) or 0 per element) into <paramref name="mask"/>.</summary>
    public unsafe void Fill(System.Span<float> mask)
    {
        if (mask.Length != _count) throw new KilnException("dropout", $"dropout: the mask needs {_count} elements, got a buffer of {mask.Length}");
        fixed (float* p = mask) Tensor.FillDropoutMask(_key, _start, _count, P, DType.Float32, (byte*)p);
    }
}
