namespace Kiln.Kernels.Gemm;

/// <summary>
/// Block sizes of the blocked SGEMM: <see cref="Kc"/> deep panels, <see cref="Nc"/> wide blocks of B, and rows of A per
/// block as a count of micro-kernel panels (<see cref="McPanels"/> on one thread, <see cref="ParallelPanels"/> when
/// blocks are shared out among threads).
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public readonly record struct GemmTiles(int Kc, int Nc, int McPanels, int ParallelPanels)
{
    /// <summary>The sizes used unless a compiled model in <c>MaxAutotune</c> mode measured better ones: a 256 × 1024 block of B (1 MiB) fits in L2.</summary>
    public static GemmTiles Default { get; } = new(256, 1024, 20, 8);

    /// <summary>
    /// The sizes for a product with <paramref name="m"/> rows when nothing measured better ones: <see cref="Default"/>, with
    /// blocks of B twice as wide from 1024 rows on. A is packed again for every block of B's columns, and with that many
    /// rows packing it twice cost more than a block of B that fits in L2 saves (2048² on one thread: 2.5 % faster).
    /// </summary>
    public static GemmTiles ForRows(int m) => m >= 1024 ? Default with { Nc = 2048 } : Default;

    /// <summary>
    /// The sizes for an m × n × k product when nothing measured better ones: <see cref="ForRows"/>, with blocks of k twice
    /// as deep when k is 1000 or more and B is narrow (at most 256 columns; then half as many rows a block, so A's block
    /// stays in L2) or wide (768 and more). Every k-block reads and writes all of C and packs A again. Measured in one
    /// process against <see cref="ForRows"/>: 2048 × 256 × 2048 with A transposed 179 → 187 GFLOP/s and 688 × 256 × 1024
    /// 181 → 189 on one thread; 1000³ 188 → 191, 2048³ 195 → 198 on one thread and 282 → 305, 332 → 342 on two;
    /// 4096 × 512 × 1024 lost 9 % (189 → 172), so B 512 wide keeps the shallow blocks.
    /// </summary>
    public static GemmTiles For(int m, int n, int k) =>
        k < 1000 ? ForRows(m)
        : n <= 256 ? ForRows(m) with { Kc = 512, McPanels = 10 }
        : n >= 768 ? ForRows(m) with { Kc = 512 }
        : ForRows(m);

    /// <summary>Whether every size lies in the range the kernel's buffers allow.</summary>
    public bool IsValid => Kc is >= 16 and <= 1024 && Nc is >= 64 and <= 4096 && McPanels is >= 1 and <= 64 && ParallelPanels is >= 1 and <= 64;
}

/// <summary>One GEMM problem as the tile choice sees it: sizes, operand layouts and thread count.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public readonly record struct GemmKey(int M, int N, int K, bool TransposedA, bool TransposedB, int Threads);

/// <summary>Chooses block sizes per problem (an autotuning table); set for a thread by <see cref="Sgemm.TileSource"/>.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public interface IGemmTileSource
{
    /// <summary>The block sizes for <paramref name="key"/>.</summary>
    GemmTiles Tiles(in GemmKey key);
}
