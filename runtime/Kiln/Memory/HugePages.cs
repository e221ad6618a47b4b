using System;
using System.Runtime.InteropServices;

namespace Kiln.Memory;

/// <summary>
/// Asks Linux to back big host blocks with 2 MiB pages (<c>madvise(MADV_HUGEPAGE)</c>, honoured where transparent huge
/// pages are "always" or "madvise"). A fresh block is otherwise faulted in 4 KiB at a time on first touch; on virtual
/// machines each fault costs microseconds, so an 8 MiB activation cost ~20 ms to touch before any math ran. With huge
/// pages the same block takes four faults (measured here: touching a fresh 8 MiB block 24 ms → 14 ms, and 64 MiB
/// 175-200 ms → 9-107 ms). Advice only: nothing changes where the kernel declines it. <c>KILN_HUGE_PAGES=0</c> turns it
/// off (as PyTorch's opt-in <c>THP_MEM_ALLOC_ENABLE</c> does the same for its CPU allocator).
/// </summary>
internal static unsafe class HugePages
{
    const int MadvHugePage = 14;
    const long Page = 4096;

    /// <summary>Blocks at least this large get the advice (smaller ones would mostly waste a 2 MiB page).</summary>
    public const long MinBytes = 4L << 20;

    /// <summary>The huge page size: big blocks are aligned to it so that every 2 MiB of them can be one page.</summary>
    public const int Alignment = 2 << 20;

    /// <summary>Whether big blocks are worth aligning to <see cref="Alignment"/> (the advice can be given).</summary>
    public static bool Available => Madvise != null;

    static readonly delegate* unmanaged<void*, nuint, int, int> Madvise = Resolve();

    static delegate* unmanaged<void*, nuint, int, int> Resolve()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("KILN_HUGE_PAGES") == "0") return null;
        if (!NativeLibrary.TryLoad("libc.so.6", out var libc)) return null;
        return NativeLibrary.TryGetExport(libc, "madvise", out var f) ? (delegate* unmanaged<void*, nuint, int, int>)f : null;
    }

    /// <summary>Advises the whole pages inside [<paramref name="p"/>, p + <paramref name="bytes"/>) to use huge pages.</summary>
    public static void Advise(nint p, long bytes)
    {
        if (Madvise == null || bytes < MinBytes) return;
        long start = (p + Page - 1) & ~(Page - 1), end = (p + bytes) & ~(Page - 1);
        if (end > start) Madvise((void*)start, (nuint)(end - start), MadvHugePage);
    }
}
