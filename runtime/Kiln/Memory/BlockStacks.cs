using System;
using System.Collections.Concurrent;

namespace Kiln.Memory;

/// <summary>
/// Free host blocks by size class, the last freed first (still warm in cache). Lock-free: finalizers free undisposed
/// tensors on their own thread while the program allocates, and one lock for both made every dropped temporary wait on it.
/// </summary>
internal sealed class BlockStacks
{
    readonly ConcurrentDictionary<long, ConcurrentStack<nint>> _stacks = new();

    /// <summary>Puts a free block of size class <paramref name="size"/> on its stack.</summary>
    public void Push(long size, nint block) => _stacks.GetOrAdd(size, static _ => new()).Push(block);

    /// <summary>Takes the last freed block of size class <paramref name="size"/>, if there is one.</summary>
    public bool TryPop(long size, out nint block)
    {
        block = 0;
        return _stacks.TryGetValue(size, out var stack) && stack.TryPop(out block);
    }

    /// <summary>Takes every block out, handing each with its size class to <paramref name="take"/>.</summary>
    public void Drain(Action<long, nint> take)
    {
        foreach (var (size, stack) in _stacks)
            while (stack.TryPop(out var block)) take(size, block);
    }
}
