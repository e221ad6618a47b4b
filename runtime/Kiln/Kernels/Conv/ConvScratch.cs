using System.Runtime.InteropServices;
using Kiln.Memory;

namespace Kiln.Kernels.Conv;

/// <summary>
/// Per-thread buffers of the convolution kernels (padded image, column panels, tiles and outputs), kept from call to
/// call: a fresh block faults its pages in on first touch, which on virtual machines costs about 3 ms per MiB — more
/// than the arithmetic of a small convolution.
/// </summary>
internal static unsafe class ConvScratch
{
    /// <summary>The zero-padded input image.</summary>
    public const int Padded = 0;
    /// <summary>Packed column panels.</summary>
    public const int Panel = 1;
    /// <summary>Outputs on the padded width.</summary>
    public const int Output = 2;
    /// <summary>The calling thread's packed weights, read by every worker of one call.</summary>
    public const int Weights = 3;
    /// <summary>The calling thread's flipped weights of an input gradient run as a forward (which then packs its own).</summary>
    public const int Flipped = 4;
    /// <summary>The calling thread's per-worker partial weight gradients.</summary>
    public const int Partial = 5;
    /// <summary>Micro-kernel edge tiles.</summary>
    public const int Tile = 6;
    /// <summary>The Winograd weight gradient's transformed input tiles of one position, transposed to rows of channels.</summary>
    public const int WinogradB = 7;
    const int Count = 8;

    [System.ThreadStatic] static ThreadScratch?[]? _slots;

    /// <summary><paramref name="floats"/> floats of this thread's buffer <paramref name="slot"/> (contents left from earlier use).</summary>
    public static float* Get(int slot, long floats)
    {
        var slots = _slots ??= new ThreadScratch?[Count];
        return (float*)(slots[slot] ??= new ThreadScratch()).Get(System.Math.Max(1, floats) * sizeof(float));
    }

    /// <summary>As <see cref="Get"/>, cleared to zero.</summary>
    public static float* Zeroed(int slot, long floats)
    {
        float* p = Get(slot, floats);
        NativeMemory.Clear(p, (nuint)(floats * sizeof(float)));
        return p;
    }
}
