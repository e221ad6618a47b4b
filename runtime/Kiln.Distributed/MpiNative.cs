using System;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Kiln.Distributed;

/// <summary>
/// The MPI calls Kiln uses, bound to MPICH's C library (the MPICH ABI: handles are ints, the constants below are
/// MPICH's own). Loaded as libmpich.so.12 (Debian's mpich), or from KILN_MPI_LIBRARY.
/// </summary>
internal static unsafe partial class MpiNative
{
    const string Library = "kiln-mpi";

    public const int CommWorld = 0x44000000;
    public const int Float = 0x4c00040a, Double = 0x4c00080b, Int64 = 0x4c00083a;
    public const int Sum = 0x58000003, Max = 0x58000001, Min = 0x58000002;
    public const int ThreadMultiple = 3;
    public const int Success = 0;

    static MpiNative() => NativeLibrary.SetDllImportResolver(typeof(MpiNative).Assembly, Resolve);

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library) return IntPtr.Zero;
        string? custom = Environment.GetEnvironmentVariable("KILN_MPI_LIBRARY");
        foreach (var candidate in custom is null ? new[] { "libmpich.so.12", "libmpich.so", "libmpi.so.12", "libmpi.so" } : [custom])
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        throw new DllNotFoundException("Kiln.Distributed needs MPICH's library (libmpich.so.12: apt-get install mpich), or KILN_MPI_LIBRARY naming an MPICH-ABI library");
    }

    [LibraryImport(Library, EntryPoint = "MPI_Initialized")] public static partial int Initialized(int* flag);
    [LibraryImport(Library, EntryPoint = "MPI_Finalized")] public static partial int Finalized(int* flag);
    [LibraryImport(Library, EntryPoint = "MPI_Init_thread")] public static partial int InitThread(int* argc, IntPtr* argv, int required, int* provided);
    [LibraryImport(Library, EntryPoint = "MPI_Finalize")] public static partial int Finalize();
    [LibraryImport(Library, EntryPoint = "MPI_Abort")] public static partial int Abort(int comm, int code);
    [LibraryImport(Library, EntryPoint = "MPI_Comm_rank")] public static partial int CommRank(int comm, int* rank);
    [LibraryImport(Library, EntryPoint = "MPI_Comm_size")] public static partial int CommSize(int comm, int* size);
    [LibraryImport(Library, EntryPoint = "MPI_Barrier")] public static partial int Barrier(int comm);
    [LibraryImport(Library, EntryPoint = "MPI_Bcast")] public static partial int Bcast(void* buffer, int count, int datatype, int root, int comm);
    [LibraryImport(Library, EntryPoint = "MPI_Allreduce")] public static partial int Allreduce(void* send, void* recv, int count, int datatype, int op, int comm);
    [LibraryImport(Library, EntryPoint = "MPI_Reduce")] public static partial int Reduce(void* send, void* recv, int count, int datatype, int op, int root, int comm);
    [LibraryImport(Library, EntryPoint = "MPI_Allgather")] public static partial int Allgather(void* send, int sendCount, int sendType, void* recv, int recvCount, int recvType, int comm);

    /// <summary>MPI_IN_PLACE: MPICH's sentinel address -1.</summary>
    public static readonly void* InPlace = (void*)-1;

    public static void Check(int code, string call)
    {
        if (code != Success) throw new KilnException("distributed", $"distributed: {call} failed with MPI error {code}", KilnErrorKind.State);
    }
}
