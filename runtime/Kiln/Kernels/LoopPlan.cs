using System;

namespace Kiln.Kernels;

/// <summary>
/// Iteration plan for up to four operands over one output shape: size-1 dims dropped, adjacent dims
/// merged wherever every operand allows, so a contiguous or broadcast case becomes a single inner run.
/// </summary>
internal sealed class LoopPlan
{
    public const int MaxOperands = 4;
    public readonly long[] Shape;         // innermost last; merged dims may pass 2^31 elements
    public readonly long[][] Strides;     // [operand][dim], element strides (0 = broadcast)
    public readonly long Numel;
    public readonly int Operands;

    LoopPlan(long[] shape, long[][] strides, long numel)
    {
        Shape = shape; Strides = strides; Numel = numel; Operands = strides.Length;
    }

    /// <summary>
    /// Blocks of <paramref name="tile"/> rows of the last two dims, over every slice of the dims before them: block u is
    /// rows tile·(u mod blocks).. of slice u / blocks.
    /// </summary>
    public long RowBlocks(int tile)
    {
        long rows = Shape[^2], cols = Shape[^1];
        return Numel / (rows * cols) * ((rows + tile - 1) / tile);
    }

    /// <summary>Each operand's element offset of slice <paramref name="slice"/> (an index over all dims but the last two).</summary>
    public unsafe void SliceOffsets(long slice, long* offsets)
    {
        for (int j = 0; j < Operands; j++) offsets[j] = 0;
        for (int d = Shape.Length - 3; d >= 0; d--)
        {
            long i = slice % Shape[d];
            slice /= Shape[d];
            for (int j = 0; j < Operands; j++) offsets[j] += i * Strides[j][d];
        }
    }

    /// <summary>Builds a plan; each operand's strides must already be broadcast to <paramref name="shape"/>.</summary>
    public static LoopPlan Create(int[] shape, params long[][] strides)
    {
        long numel = Compiler.Shapes.ShapeRules.Numel(shape);
        int k = strides.Length;
        // Every operand contiguous in the output's shape (most elementwise ops): one run, built without the merge walk.
        if (numel > 0 && k <= MaxOperands && AllContiguous(shape, strides)) return new LoopPlan([numel], UnitStrides[k], numel);
        var dims = new System.Collections.Generic.List<long>(shape.Length);
        var st = new System.Collections.Generic.List<long[]>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            var s = new long[k];
            for (int j = 0; j < k; j++) s[j] = strides[j][i];
            if (dims.Count > 0)
            {
                var prev = st[st.Count - 1];
                bool merge = true;
                for (int j = 0; j < k && merge; j++) merge = prev[j] == s[j] * shape[i];
                if (merge)
                {
                    dims[dims.Count - 1] *= shape[i];
                    for (int j = 0; j < k; j++) prev[j] = s[j];
                    continue;
                }
            }
            dims.Add(shape[i]);
            st.Add(s);
        }
        if (dims.Count == 0) { dims.Add(1); st.Add(new long[k]); }
        var outStrides = new long[k][];
        for (int j = 0; j < k; j++)
        {
            outStrides[j] = new long[dims.Count];
            for (int i = 0; i < dims.Count; i++) outStrides[j][i] = st[i][j];
        }
        return new LoopPlan(dims.ToArray(), outStrides, numel);
    }

    // Plans only read their strides: one-run plans share these, indexed by operand count.
    static readonly long[][][] UnitStrides = Unit();

    static long[][][] Unit()
    {
        var r = new long[MaxOperands + 1][][];
        for (int k = 0; k <= MaxOperands; k++)
        {
            r[k] = new long[k][];
            for (int j = 0; j < k; j++) r[k][j] = [1];
        }
        return r;
    }

    static bool AllContiguous(int[] shape, long[][] strides)
    {
        foreach (var s in strides)
        {
            long expect = 1;
            for (int i = shape.Length - 1; i >= 0; i--)
            {
                if (shape[i] != 1 && s[i] != expect) return false;
                expect *= shape[i];
            }
        }
        return true;
    }

    /// <summary>Strides of <paramref name="t"/> broadcast to <paramref name="shape"/> (0 where stretched); its own array when nothing is stretched (plans only read them).</summary>
    public static long[] BroadcastStrides(Tensor t, int[] shape)
    {
        if (t.Dim == shape.Length && t.ShapeArray.AsSpan().SequenceEqual(shape)) return t.StrideArray;
        var r = new long[shape.Length];
        int lead = shape.Length - t.Dim;
        for (int i = 0; i < t.Dim; i++)
            r[i + lead] = t.ShapeArray[i] == 1 && shape[i + lead] != 1 ? 0 : t.StrideArray[i];
        return r;
    }
}

/// <summary>A kernel body run once per contiguous-index inner run (never per element).</summary>
internal unsafe interface IInnerLoop
{
    /// <summary>Processes <paramref name="n"/> elements; offsets and strides are per operand, in elements.</summary>
    void Run(long* offsets, long* strides, int n);
}

/// <summary>Drives an <see cref="IInnerLoop"/> over a <see cref="LoopPlan"/>, in parallel chunks when large.</summary>
internal static unsafe class StridedLoop
{
    /// <summary>Elements below which a loop stays on the calling thread.</summary>
    public const long Grain = 32768;

    /// <summary>The longest run handed to one <see cref="IInnerLoop.Run"/> call: its count is an int.</summary>
    const long MaxRun = 1L << 30;

    /// <summary>
    /// Rows and columns of one tile when an operand is walked across its layout (<see cref="Crosses"/>): 16 copied a
    /// transposed 1024² in 1.4 ms (32: 2.1, 64: 2.3; untiled 4.0), and added one to a row-major one in 1.8 ms (untiled 3.7).
    /// </summary>
    const int Tile = 16;

    public static void Run<TLoop>(LoopPlan plan, TLoop loop, long grain = Grain) where TLoop : struct, IInnerLoop
    {
        if (plan.Numel == 0) return;
        if (Crosses(plan))
        {
            RunTiles(plan, loop, grain);
            return;
        }
        if (plan.Numel < grain * 2 || Threads.Count == 1)
        {
            RunRange(plan, ref loop, 0, plan.Numel);
            return;
        }
        RunParallel(plan, loop, grain);
    }

    // Separate from Run so that small, single-threaded loops allocate no closure.
    static void RunParallel<TLoop>(LoopPlan plan, TLoop loop, long grain) where TLoop : struct, IInnerLoop =>
        Threads.For(plan.Numel, grain, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (s, e) =>
        {
            var copy = loop;
            RunRange(plan, ref copy, s, e);
        });

    /// <summary>
    /// Whether an operand steps across memory along the plan's last dim while its next-to-last dim is the nearer one (a
    /// transposed operand against a row-major result): run after run, each of its elements would come from another cache
    /// line, used again only a whole row of runs later (a transposed 1024² copied in 4 ms, a contiguous one in 0.1; 2048²:
    /// 30 ms against 0.7). Tiled, the lines are used while in L1.
    /// </summary>
    static bool Crosses(LoopPlan plan)
    {
        int rank = plan.Shape.Length;
        if (rank < 2 || plan.Shape[rank - 1] < 2 * Tile || plan.Shape[rank - 2] < 2 * Tile) return false;
        for (int j = 0; j < plan.Operands; j++)
        {
            long inner = Math.Abs(plan.Strides[j][rank - 1]), next = Math.Abs(plan.Strides[j][rank - 2]);
            if (inner >= 16 && next < inner) return true;
        }
        return false;
    }

    /// <summary>
    /// The plan's last two dims in square tiles: each of a tile's rows is one run, so the crossing operand's cache lines
    /// are read once for the whole tile and the other operands still write and read runs. Work is split by row blocks.
    /// </summary>
    static void RunTiles<TLoop>(LoopPlan plan, TLoop loop, long grain) where TLoop : struct, IInnerLoop =>
        ForRowBlocks(plan, Tile, grain, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (s, e) =>
        {
            var copy = loop;
            RunRowBlocks(plan, ref copy, s, e);
        });

    /// <summary>Runs <paramref name="blocks"/> over the plan's <see cref="LoopPlan.RowBlocks"/>, split among threads when large.</summary>
    internal static void ForRowBlocks(LoopPlan plan, int tile, long grain, Action<long, long> blocks)
    {
        long units = plan.RowBlocks(tile);
        if (plan.Numel < grain * 2 || Threads.Count == 1) blocks(0, units);
        else Threads.For(units, Math.Max(1, grain / (tile * plan.Shape[^1])), blocks);
    }

    /// <summary>Row blocks [start, end) of <see cref="RunTiles"/> (<see cref="LoopPlan.RowBlocks"/>).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    static void RunRowBlocks<TLoop>(LoopPlan plan, ref TLoop loop, long start, long end) where TLoop : struct, IInnerLoop
    {
        int rank = plan.Shape.Length, k = plan.Operands, tile = Tile;
        long rows = plan.Shape[rank - 2], cols = plan.Shape[rank - 1], blocks = (rows + tile - 1) / tile;
        long* baseOff = stackalloc long[LoopPlan.MaxOperands];
        long* off = stackalloc long[LoopPlan.MaxOperands];
        long* inner = stackalloc long[LoopPlan.MaxOperands];
        for (int j = 0; j < k; j++) inner[j] = plan.Strides[j][rank - 1];
        for (long u = start; u < end; u++)
        {
            long r0 = u % blocks * tile, r1 = Math.Min(rows, r0 + tile);
            plan.SliceOffsets(u / blocks, baseOff);
            for (long c0 = 0; c0 < cols; c0 += tile)
            {
                int n = (int)Math.Min(tile, cols - c0);
                for (long r = r0; r < r1; r++)
                {
                    for (int j = 0; j < k; j++) off[j] = baseOff[j] + r * plan.Strides[j][rank - 2] + c0 * inner[j];
                    loop.Run(off, inner, n);
                }
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void RunRange<TLoop>(LoopPlan plan, ref TLoop loop, long start, long end) where TLoop : struct, IInnerLoop
    {
        int rank = plan.Shape.Length, k = plan.Operands;
        long* idx = stackalloc long[rank];
        long* off = stackalloc long[LoopPlan.MaxOperands];
        long* inner = stackalloc long[LoopPlan.MaxOperands];
        // Decompose the start index into a multi-index and per-operand offsets.
        long rem = start;
        for (int d = rank - 1; d >= 0; d--)
        {
            idx[d] = rem % plan.Shape[d];
            rem /= plan.Shape[d];
        }
        for (int j = 0; j < k; j++)
        {
            long o = 0;
            for (int d = 0; d < rank; d++) o += idx[d] * plan.Strides[j][d];
            off[j] = o;
            inner[j] = plan.Strides[j][rank - 1];
        }
        long innerSize = plan.Shape[rank - 1];
        long cur = start;
        while (cur < end)
        {
            int n = (int)Math.Min(Math.Min(innerSize - idx[rank - 1], end - cur), MaxRun);
            loop.Run(off, inner, n);
            cur += n;
            if (cur >= end) break;
            idx[rank - 1] += n;
            for (int j = 0; j < k; j++) off[j] += n * inner[j];
            // Carry into outer dims.
            for (int d = rank - 1; d > 0 && idx[d] == plan.Shape[d]; d--)
            {
                idx[d] = 0;
                idx[d - 1]++;
                for (int j = 0; j < k; j++) off[j] += plan.Strides[j][d - 1] - plan.Strides[j][d] * plan.Shape[d];
            }
        }
    }
}
