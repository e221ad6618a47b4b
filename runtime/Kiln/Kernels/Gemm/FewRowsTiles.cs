using System.Runtime.InteropServices;
using Iced.Intel;
using Kiln.Kernels.Native;
using static Iced.Intel.AssemblerRegisters;

namespace Kiln.Kernels.Gemm;

/// <summary>What one call of <see cref="FewRowsTiles"/> reads and writes (the generated code reads it by these offsets).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FewRowsTilesArgs
{
    /// <summary>Row 0 of the x rows (the weight's element type), at the first element of the k range.</summary>
    public byte* X;
    /// <summary>Bytes from one x row to the next.</summary>
    public long XStride;
    /// <summary>The first tile's weight row 0, at the first element of the k range.</summary>
    public byte* W;
    /// <summary>Bytes from one of a tile's four weight rows to the next.</summary>
    public long WStride;
    /// <summary>64-byte chunks of the k range (32 bfloat16 or 16 float32 elements; at least one).</summary>
    public long Chunks;
    /// <summary>C at the first tile's output for x row 0: x row i against the tile's weight row c goes to
    /// C + i·<see cref="CRowBytes"/> + c·<see cref="CColumnBytes"/> (advanced by the kernel, tile by tile).</summary>
    public float* C;
    /// <summary>Bytes ahead of each weight row that the first row groups prefetch (one line per row and chunk in all).</summary>
    public long Ahead;
    /// <summary>Tiles to run.</summary>
    public long Tiles;
    /// <summary>Groups of four x rows, each against every tile.</summary>
    public long Groups;
    /// <summary>Bytes from one tile's weight row 0 to the next tile's.</summary>
    public long TileStep;
    /// <summary>Bytes from one row of C to the next.</summary>
    public long CRowBytes;
    /// <summary>Bytes between the outputs of a tile's four weight rows in a row of C.</summary>
    public long CColumnBytes;
    /// <summary>Bytes from one tile's outputs to the next tile's in a row of C.</summary>
    public long CStep;
}

/// <summary>
/// The few-rows product's 4 × 4 tiles (x·Wᵀ for a handful of rows: decode steps) as generated code: bfloat16 rows
/// against bfloat16 weight rows by dot-product instructions (<see cref="Bf16DotInstructions"/>), float32 by FMAs. Each
/// tile's four weight rows are read once, from memory, for every group of four x rows (the later groups find them in
/// L1), and each group's sixteen sums are folded in registers and written (or added) to C.
/// </summary>
/// <remarks>
/// A call runs many tiles: a decode step's products are short (K = 768 is 24 chunks), and a call, sixteen stored
/// accumulators and their reduction and scatter in C# per tile cost as much as the dot products. Eight bf16 rows against
/// 64 weights of 768 × 2048, 1 thread: 7.2 ms with the weights in cache and 17 GB/s streamed that way; 4.5 ms and
/// 21–24 GB/s so (four rows stream at 30–37 GB/s). Float32: eight rows 10–17 % faster than the managed tiles in cache,
/// 3 % streamed (a batch-8 fp32 decode step 2–5 % faster, alternating in one process). Tried and left out: an 8 × 3 tile
/// (one pass over the weight for eight rows: the same 21 GB/s, 4.8 ms in cache), prefetching further ahead, or into L2
/// as well.
/// </remarks>
internal static unsafe class FewRowsTiles
{
    /// <summary>Bytes per chunk: one 512-bit register, one cache line of each weight row.</summary>
    public const int ChunkBytes = 64;

    // The accumulators' registers: declared before the kernels, which are assembled from them as the type initialises.
    static readonly AssemblerRegisterZMM[] Acc =
    [
        zmm0, zmm1, zmm2, zmm3, zmm4, zmm5, zmm6, zmm7, zmm8, zmm9, zmm10, zmm11, zmm12, zmm13, zmm14, zmm15,
    ];

    // A call runs a thread's whole share of a product (up to milliseconds), so it makes the GC transition: a collection
    // need not wait for it (the micro-kernel's sub-microsecond calls skip it).
    static readonly delegate* unmanaged<FewRowsTilesArgs*, void> Store =
        (delegate* unmanaged<FewRowsTilesArgs*, void>)Bf16DotInstructions.Place(Assemble(accumulate: false, float32: false));
    static readonly delegate* unmanaged<FewRowsTilesArgs*, void> Accumulate =
        (delegate* unmanaged<FewRowsTilesArgs*, void>)Bf16DotInstructions.Place(Assemble(accumulate: true, float32: false));
    static readonly delegate* unmanaged<FewRowsTilesArgs*, void> StoreFloat32 =
        (delegate* unmanaged<FewRowsTilesArgs*, void>)GeneratedCode.Place(Assemble(accumulate: false, float32: true));
    static readonly delegate* unmanaged<FewRowsTilesArgs*, void> AccumulateFloat32 =
        (delegate* unmanaged<FewRowsTilesArgs*, void>)GeneratedCode.Place(Assemble(accumulate: true, float32: true));

    /// <summary>Whether the bfloat16 kernels run here (AVX512_BF16 on x64 Linux).</summary>
    public static bool IsSupported => Store != null && Accumulate != null && Bf16DotInstructions.IsSupported;

    /// <summary>Whether the float32 kernels run here (AVX-512 on x64 Linux).</summary>
    public static bool Float32IsSupported => StoreFloat32 != null && AccumulateFloat32 != null && GeneratedCode.Enabled;

    /// <summary>Runs the tiles — float32 rows and weights by FMAs with <paramref name="float32"/>, else bfloat16 by dot
    /// products — writing C, or adding to it with <paramref name="accumulate"/>.</summary>
    public static void Run(FewRowsTilesArgs* args, bool accumulate, bool float32)
    {
        if (float32) (accumulate ? AccumulateFloat32 : StoreFloat32)(args);
        else (accumulate ? Accumulate : Store)(args);
    }

    /// <summary>The kernel, System V calling convention: rdi = <see cref="FewRowsTilesArgs"/>*.</summary>
    static Assembler Assemble(bool accumulate, bool float32)
    {
        var a = new Assembler(64);
        // rbp: the group's x row 0; rax, r10, r11: x row 0 as it advances, x stride, x row 3; r15: the tile's weight row 0;
        // rdx, rcx, r8: weight row 0 as it advances, weight stride, weight row 3; r9: chunks left; rsi: prefetch distance;
        // rbx: the prefetch pointer; r12: the group's row 0 in C, at the tile's outputs; r13: tiles left; r14: groups left.
        foreach (var r in new[] { rbx, rbp, r12, r13, r14, r15 }) a.push(r);
        a.mov(r10, __qword_ptr[rdi + 8]);
        a.mov(rcx, __qword_ptr[rdi + 24]);
        a.mov(rsi, __qword_ptr[rdi + 48]);
        a.mov(r13, __qword_ptr[rdi + 56]);
        a.mov(r15, __qword_ptr[rdi + 16]);
        var tile = a.CreateLabel();
        var several = a.CreateLabel();
        var rest = a.CreateLabel();
        var tileEnd = a.CreateLabel();
        a.Label(ref tile);
        a.mov(rbp, __qword_ptr[rdi]);
        a.mov(r12, __qword_ptr[rdi + 40]);
        a.mov(r14, __qword_ptr[rdi + 64]);
        // The first group streams the tile's weight rows; the next tile's are prefetched by the first two groups, every
        // other line each, so requests go out through the whole tile rather than in a burst while the later groups read
        // from L1 (by rows — two each — eight bf16 rows streamed at 21 GB/s, by lines 22.5; float32 as the managed tiles).
        a.cmp(r14, 1);
        a.jne(several);
        Group(a, prefetch: true, accumulate, float32, parity: 0);
        a.jmp(tileEnd);
        a.Label(ref several);
        Group(a, prefetch: true, accumulate, float32, parity: 1);
        a.dec(r14);
        Group(a, prefetch: true, accumulate, float32, parity: 2);
        a.dec(r14);
        a.jz(tileEnd);
        a.Label(ref rest);
        Group(a, prefetch: false, accumulate, float32, parity: 0);
        a.dec(r14);
        a.jnz(rest);
        a.Label(ref tileEnd);
        a.add(r15, __qword_ptr[rdi + 72]);
        a.mov(rax, __qword_ptr[rdi + 40]);
        a.add(rax, __qword_ptr[rdi + 96]);
        a.mov(__qword_ptr[rdi + 40], rax);
        a.dec(r13);
        a.jnz(tile);
        a.vzeroupper();
        foreach (var r in new[] { r15, r14, r13, r12, rbp, rbx }) a.pop(r);
        a.ret();
        return a;
    }

    /// <summary>
    /// One group of four x rows against the tile's four weight rows, prefetching the next tile's four weight rows (with
    /// <paramref name="parity"/> 1 or 2: only in the odd or even chunks); its sixteen sums written (or added) to C at r12.
    /// </summary>
    static void Group(Assembler a, bool prefetch, bool accumulate, bool float32, int parity)
    {
        a.mov(rax, rbp);
        a.lea(r11, __[rbp + r10 * 2]);
        a.add(r11, r10);
        a.mov(rdx, r15);
        a.lea(r8, __[r15 + rcx * 2]);
        a.add(r8, rcx);
        if (prefetch) a.lea(rbx, __[r15 + rsi]);
        a.mov(r9, __qword_ptr[rdi + 32]);
        foreach (var z in Acc) a.vxorps(z, z, z);
        var w = new[] { zmm16, zmm17, zmm18, zmm19 };
        var x = new[] { zmm20, zmm21, zmm22, zmm23 };
        void Body(bool pf)
        {
            a.vmovdqu16(w[0], __zmmword_ptr[rdx]);
            a.vmovdqu16(w[1], __zmmword_ptr[rdx + rcx]);
            a.vmovdqu16(w[2], __zmmword_ptr[rdx + rcx * 2]);
            a.vmovdqu16(w[3], __zmmword_ptr[r8]);
            if (pf)
            {
                a.prefetcht0(__byte_ptr[rbx]);
                a.prefetcht0(__byte_ptr[rbx + rcx]);
                a.prefetcht0(__byte_ptr[rbx + rcx * 2]);
                a.prefetcht0(__byte_ptr[r8 + rsi]);
            }
            if (prefetch) a.add(rbx, 64);
            a.vmovdqu16(x[0], __zmmword_ptr[rax]);
            a.vmovdqu16(x[1], __zmmword_ptr[rax + r10]);
            a.vmovdqu16(x[2], __zmmword_ptr[rax + r10 * 2]);
            a.vmovdqu16(x[3], __zmmword_ptr[r11]);
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                {
                    if (float32) a.vfmadd231ps(Acc[4 * r + c], x[r], w[c]);
                    else a.vdpbf16ps(Acc[4 * r + c], x[r], w[c]);
                }
            a.add(rax, 64);
            a.add(r11, 64);
            a.add(rdx, 64);
            a.add(r8, 64);
        }
        if (parity == 0)
        {
            var loop = a.CreateLabel();
            a.Label(ref loop);
            Body(prefetch);
            a.dec(r9);
            a.jne(loop);
        }
        else
        {
            // Two chunks an iteration, this group prefetching in one of them (its parity): the lines dealt out over groups.
            var loop2 = a.CreateLabel();
            var single = a.CreateLabel();
            var done = a.CreateLabel();
            a.cmp(r9, 2);
            a.jb(single);
            a.Label(ref loop2);
            Body(parity == 1);
            Body(parity == 2);
            a.sub(r9, 2);
            a.cmp(r9, 2);
            a.jae(loop2);
            a.Label(ref single);
            a.test(r9, r9);
            a.jz(done);
            Body(parity == 1);
            a.Label(ref done);
        }
        FoldSixteen(a);
        Scatter(a, accumulate);
        a.lea(rbp, __[rbp + r10 * 4]);
    }

    /// <summary>The four lanes of <paramref name="four"/> to the four addresses, or added to what is there.</summary>
    static void StoreFour(Assembler a, AssemblerRegisterXMM four, AssemblerMemoryOperand[] at, bool accumulate)
    {
        for (int c = 0; c < 4; c++)
        {
            if (accumulate)
            {
                a.vpermilps(xmm2, four, (byte)c);
                a.vaddss(xmm2, xmm2, at[c]);
                a.vmovss(at[c], xmm2);
            }
            else if (c == 0) a.vmovss(at[c], four);
            else a.vextractps(at[c], four, (byte)c);
        }
    }

    /// <summary>
    /// Row r's four sums (lanes 4r..4r+3 of zmm0) to C at r12 + r·row bytes, one column stride apart; r12 moves on to the
    /// next group's rows. The loop's registers are free here: rax column stride, r11 three of them, rdx row bytes, r8 the row.
    /// </summary>
    static void Scatter(Assembler a, bool accumulate)
    {
        a.mov(rax, __qword_ptr[rdi + 88]);
        a.lea(r11, __[rax + rax * 2]);
        a.mov(rdx, __qword_ptr[rdi + 80]);
        a.mov(r8, r12);
        for (int r = 0; r < 4; r++)
        {
            if (r > 0) a.vextractf32x4(xmm1, zmm0, (byte)r);
            StoreFour(a, r == 0 ? xmm0 : xmm1, [__dword_ptr[r8], __dword_ptr[r8 + rax], __dword_ptr[r8 + rax * 2], __dword_ptr[r8 + r11]], accumulate);
            a.add(r8, rdx);
        }
        a.mov(r12, r8);
    }

    /// <summary>
    /// zmm0 = the sums of the sixteen accumulators zmm0–15, in order: pairs of vectors interleaved and added by 32-bit
    /// lanes, then by 64-bit lanes (each 128-bit lane then holds four accumulators' partial sums), then 128-bit lanes
    /// shuffled and added twice — 45 instructions for sixteen sums, a third of folding each one separately.
    /// </summary>
    static void FoldSixteen(Assembler a)
    {
        var v = Acc;
        var temp = zmm16;
        for (int i = 0; i < 16; i += 2)
        {
            a.vunpcklps(temp, v[i], v[i + 1]);
            a.vunpckhps(v[i], v[i], v[i + 1]);
            a.vaddps(v[i], v[i], temp);
        }
        for (int i = 0; i < 16; i += 4)
        {
            a.vunpcklpd(temp, v[i], v[i + 2]);
            a.vunpckhpd(v[i], v[i], v[i + 2]);
            a.vaddps(v[i], v[i], temp);
        }
        // 0x88 takes 128-bit lanes 0 and 2 of each source, 0xDD lanes 1 and 3.
        for (int i = 0; i < 16; i += 8)
        {
            a.vshuff32x4(temp, v[i], v[i + 4], 0x88);
            a.vshuff32x4(v[i], v[i], v[i + 4], 0xDD);
            a.vaddps(v[i], v[i], temp);
        }
        a.vshuff32x4(temp, v[0], v[8], 0x88);
        a.vshuff32x4(v[0], v[0], v[8], 0xDD);
        a.vaddps(v[0], v[0], temp);
    }
}
