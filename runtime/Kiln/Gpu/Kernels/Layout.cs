using System;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// An output shape of up to six dims for a GPU kernel, right-aligned (D5 innermost, unused leading dims 1), passed by value
/// as a kernel parameter — no per-launch upload. The host merges dims first (<c>LoopPlan</c>), so six is rarely tight.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct Dims6
{
#pragma warning disable CS1591
    public long D0, D1, D2, D3, D4, D5;
#pragma warning restore CS1591
    /// <summary>Dims in use (1 to 6), so a contiguous or merged layout skips the divisions (a uniform branch).</summary>
    public int Rank;

    /// <summary>The largest rank a GPU elementwise kernel takes after dims were merged.</summary>
    public const int MaxRank = 6;
}

/// <summary>One operand's element strides over a <see cref="Dims6"/> (0 where broadcast).</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct Strides6
{
#pragma warning disable CS1591
    public long S0, S1, S2, S3, S4, S5;
#pragma warning restore CS1591

    /// <summary>The element offset of linear output index <paramref name="i"/>.</summary>
    public readonly long Offset(long i, Dims6 d)
    {
        if (d.Rank <= 1) return i * S5;
        long q = i / d.D5, o = (i - q * d.D5) * S5;
        if (d.Rank == 2) return o + q * S4;
        i = q; q = i / d.D4; o += (i - q * d.D4) * S4;
        i = q; q = i / d.D3; o += (i - q * d.D3) * S3;
        i = q; q = i / d.D2; o += (i - q * d.D2) * S2;
        i = q; q = i / d.D1; o += (i - q * d.D1) * S1;
        return o + q * S0;
    }
}
