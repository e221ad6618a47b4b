using System;

namespace Kiln.Distributed;

/// <summary>How <see cref="ProcessGroup.AllReduce"/> combines the ranks' values.</summary>
public enum ReduceOp
{
    /// <summary>The sum over ranks.</summary>
    Sum,
    /// <summary>The mean over ranks (the sum divided by the world size).</summary>
    Average,
    /// <summary>The elementwise maximum.</summary>
    Max,
    /// <summary>The elementwise minimum.</summary>
    Min,
}

/// <summary>
/// The processes of one job (<c>torch.distributed</c>'s default group) over MPI: every process runs the same program,
/// launched with <c>mpiexec -n N dotnet app.dll</c>; <see cref="Rank"/> tells them apart. Collectives work on CPU
/// tensors of float32, float64 or int64, in place. A rank that fails ends the whole job (MPI_Abort) with its error.
/// </summary>
public sealed unsafe class ProcessGroup
{
    static ProcessGroup? _default;
    static readonly object Gate = new();

    ProcessGroup(int rank, int size) { Rank = rank; WorldSize = size; }

    /// <summary>This process's index, 0 to <see cref="WorldSize"/> - 1.</summary>
    public int Rank { get; }
    /// <summary>How many processes run the job.</summary>
    public int WorldSize { get; }
    /// <summary>Whether this is rank 0 (where logging and checkpoints usually happen).</summary>
    public bool IsMain => Rank == 0;

    /// <summary>The group <see cref="Init"/> made, or null.</summary>
    public static ProcessGroup? Default => _default;

    /// <summary>
    /// Joins the job (<c>init_process_group(backend="mpi")</c>): initialises MPI once per process (a process started
    /// without mpiexec is a job of one). From here an unhandled exception on any rank prints it and aborts every rank,
    /// so a failure never leaves the others waiting in a collective.
    /// </summary>
    public static ProcessGroup Init()
    {
        lock (Gate)
        {
            if (_default is not null) return _default;
            int flag;
            MpiNative.Check(MpiNative.Initialized(&flag), "MPI_Initialized");
            if (flag == 0)
            {
                int provided;
                // Multiple: DistributedDataParallel all-reduces on its own thread while the backward runs.
                MpiNative.Check(MpiNative.InitThread(null, null, MpiNative.ThreadMultiple, &provided), "MPI_Init_thread");
            }
            int rank, size;
            MpiNative.Check(MpiNative.CommRank(MpiNative.CommWorld, &rank), "MPI_Comm_rank");
            MpiNative.Check(MpiNative.CommSize(MpiNative.CommWorld, &size), "MPI_Comm_size");
            _default = new ProcessGroup(rank, size);
            int me = rank;
            AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            {
                Console.Error.WriteLine($"[rank {me}] {e.ExceptionObject}");
                Console.Error.Flush();
                // Let mpiexec forward the message before the abort tears the job down.
                System.Threading.Thread.Sleep(300);
                MpiNative.Abort(MpiNative.CommWorld, 1);
            };
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Shutdown();
            return _default;
        }
    }

    /// <summary>Ends this process's part of the job (<c>destroy_process_group</c>); also done at exit.</summary>
    public static void Shutdown()
    {
        lock (Gate)
        {
            if (_default is null) return;
            int finalized;
            MpiNative.Finalized(&finalized);
            if (finalized == 0) MpiNative.Finalize();
            _default = null;
        }
    }

    /// <summary>Ends every rank of the job now with <paramref name="code"/> (after printing <paramref name="reason"/>).</summary>
    public void Abort(string reason, int code = 1)
    {
        Console.Error.WriteLine($"[rank {Rank}] {reason}");
        Console.Error.Flush();
        System.Threading.Thread.Sleep(300);
        MpiNative.Abort(MpiNative.CommWorld, code);
    }

    /// <summary>Waits until every rank reaches this call.</summary>
    public void Barrier() => MpiNative.Check(MpiNative.Barrier(MpiNative.CommWorld), "MPI_Barrier");

    /// <summary>Combines <paramref name="tensor"/> over all ranks, in place (every rank ends with the result).</summary>
    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum)
    {
        var (type, count) = Describe(tensor, "all_reduce");
        MpiNative.Check(MpiNative.Allreduce(MpiNative.InPlace, tensor.DataPointer, count, type, MpiOp(op), MpiNative.CommWorld), "MPI_Allreduce");
        if (op == ReduceOp.Average) Scale(tensor, 1.0 / WorldSize);
    }

    /// <summary>
    /// Combines <paramref name="tensor"/> over all ranks into rank <paramref name="root"/>'s, in place there (<c>reduce</c>);
    /// the other ranks' tensors are left as they were.
    /// </summary>
    public void Reduce(Tensor tensor, int root, ReduceOp op = ReduceOp.Sum)
    {
        CheckRoot(root, "reduce");
        var (type, count) = Describe(tensor, "reduce");
        if (Rank == root)
        {
            // Not MPI_IN_PLACE: MPICH 4.0's large-message reduce dereferences it at the root (a crash above ~1 M floats).
            using var send = tensor.Clone();
            MpiNative.Check(MpiNative.Reduce(send.DataPointer, tensor.DataPointer, count, type, MpiOp(op), root, MpiNative.CommWorld), "MPI_Reduce");
        }
        else MpiNative.Check(MpiNative.Reduce(tensor.DataPointer, null, count, type, MpiOp(op), root, MpiNative.CommWorld), "MPI_Reduce");
        if (op == ReduceOp.Average && Rank == root) Scale(tensor, 1.0 / WorldSize);
    }

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="tensor"/> into every rank's, in place.</summary>
    public void Broadcast(Tensor tensor, int root = 0)
    {
        CheckRoot(root, "broadcast");
        var (type, count) = Describe(tensor, "broadcast");
        MpiNative.Check(MpiNative.Bcast(tensor.DataPointer, count, type, root, MpiNative.CommWorld), "MPI_Bcast");
    }

    /// <summary>
    /// Makes every rank's <paramref name="module"/> rank 0's: its parameters and its float/int64 buffers (BatchNorm's running
    /// statistics and step count) broadcast in place — what the data-parallel wrappers do when they wrap a model.
    /// </summary>
    public void BroadcastModule(NN.Module module)
    {
        using var _ = Autograd.NoGrad();
        foreach (var (_, p) in module.NamedParameters()) Broadcast(p);
        foreach (var (_, b) in module.NamedBuffers()) if (b.DType is DType.Float32 or DType.Float64 or DType.Int64) Broadcast(b);
    }

    /// <summary>Every rank's <paramref name="tensor"/> stacked along a new first dim (<c>all_gather</c>), in rank order.</summary>
    public Tensor AllGather(Tensor tensor)
    {
        var (type, count) = Describe(tensor, "all_gather");
        var shape = new int[tensor.Dim + 1];
        shape[0] = WorldSize;
        for (int i = 0; i < tensor.Dim; i++) shape[i + 1] = tensor.Size(i);
        var result = Tensor.Zeros(shape, tensor.DType);
        MpiNative.Check(MpiNative.Allgather(tensor.DataPointer, count, type, result.DataPointer, count, type, MpiNative.CommWorld), "MPI_Allgather");
        return result;
    }

    void CheckRoot(int root, string op)
    {
        if (root < 0 || root >= WorldSize) throw new KilnException(op, $"{op}: root {root} is not a rank of a job of {WorldSize}", KilnErrorKind.Argument);
    }

    static int MpiOp(ReduceOp op) => op switch { ReduceOp.Max => MpiNative.Max, ReduceOp.Min => MpiNative.Min, _ => MpiNative.Sum };

    static (int Type, int Count) Describe(Tensor t, string op)
    {
        if (t.IsCuda) throw new KilnException(op, $"{op}: the MPI backend works on CPU tensors (this one is on {t.Device})", KilnErrorKind.Unsupported);
        if (!t.IsContiguous) throw new KilnException(op, $"{op}: the tensor must be contiguous (collectives work in place)", KilnErrorKind.Argument);
        if (t.Numel > int.MaxValue) throw new KilnException(op, $"{op}: {t.Numel} elements is more than one MPI call takes", KilnErrorKind.Argument);
        int type = t.DType switch
        {
            DType.Float32 => MpiNative.Float,
            DType.Float64 => MpiNative.Double,
            DType.Int64 => MpiNative.Int64,
            _ => throw new KilnException(op, $"{op}: dtype {t.DType} is not supported (float32, float64, int64)", KilnErrorKind.DType),
        };
        return (type, (int)t.Numel);
    }

    static void Scale(Tensor t, double factor)
    {
        using var _ = Autograd.NoGrad();
        t.Mul_(factor);
    }
}
