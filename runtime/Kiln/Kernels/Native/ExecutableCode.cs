using System;
using System.Runtime.InteropServices;

namespace Kiln.Kernels.Native;

/// <summary>
/// Machine code placed in memory the CPU may execute: written while the pages are read-write, then switched to
/// read-execute (never both). Kiln generates such code only for instructions .NET does not expose (AVX512_BF16's
/// <c>vdpbf16ps</c>); the pages live as long as the process.
/// </summary>
internal static unsafe class ExecutableCode
{
    /// <summary>
    /// Whether this platform runs generated code: x64 Linux (the generated kernels follow the System V calling convention;
    /// elsewhere the managed kernels run).
    /// </summary>
    public static bool IsSupported => RuntimeInformation.ProcessArchitecture == Architecture.X64 && OperatingSystem.IsLinux();

    /// <summary>Copies <paramref name="code"/> into fresh executable pages and returns its first byte's address, or null where the OS refuses.</summary>
    public static void* Place(ReadOnlySpan<byte> code)
    {
        if (!IsSupported || code.IsEmpty) return null;
        nuint size = (nuint)code.Length;
        void* pages = Linux.Allocate(size);
        if (pages == null) return null;
        code.CopyTo(new Span<byte>(pages, code.Length));
        return Linux.MakeExecutable(pages, size) ? pages : null;
    }

    static class Linux
    {
        const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;

        [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
        static extern void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

        [DllImport("libc", EntryPoint = "mprotect", SetLastError = true)]
        static extern int Mprotect(void* addr, nuint length, int prot);

        public static void* Allocate(nuint size)
        {
            void* p = Mmap(null, size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            return p == (void*)-1 ? null : p;
        }

        public static bool MakeExecutable(void* p, nuint size) => Mprotect(p, size, ProtRead | ProtExec) == 0;
    }
}
