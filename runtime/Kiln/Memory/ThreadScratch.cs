using System.Runtime.InteropServices;

namespace Kiln.Memory;

/// <summary>
/// A growable, 64-byte aligned native buffer meant to be held in a <c>[ThreadStatic]</c> field. A raw pointer there
/// leaks when its thread exits; this object becomes unreachable with the thread and its finalizer frees the memory.
/// </summary>
internal sealed unsafe class ThreadScratch
{
    void* _p;
    long _bytes;

    /// <summary>At least <paramref name="bytes"/> bytes, valid until the next larger request on this object.</summary>
    public void* Get(long bytes)
    {
        if (_bytes < bytes)
        {
            if (_p != null) NativeMemory.AlignedFree(_p);
            _p = null; _bytes = 0;
            _p = NativeMemory.AlignedAlloc((nuint)bytes, 64);
            _bytes = bytes;
        }
        return _p;
    }

    ~ThreadScratch()
    {
        if (_p != null) NativeMemory.AlignedFree(_p);
    }
}
