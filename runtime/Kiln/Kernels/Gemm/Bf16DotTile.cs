using System;
using System.Runtime.InteropServices;
using Iced.Intel;
using Kiln.Kernels.Native;
using static Iced.Intel.AssemblerRegisters;

namespace Kiln.Kernels.Gemm;

/// <summary>What one call of <see cref="Bf16DotTile"/> reads and writes (the generated code reads it by these offsets).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Bf16TileArgs
{
    /// <summary>Row 0 of the four bfloat16 x rows, at the tile's first element.</summary>
    public ushort* X;
    /// <summary>Bytes from one x row to the next.</summary>
    public long XStride;
    /// <summary>Weight row 0 of the four, at the tile's first element.</summary>
    public byte* W;
    /// <summary>Bytes from one of the tile's weight rows to the next.</summary>
    public long WStride;
    /// <summary>32-element chunks to run (at least one).</summary>
    public long Chunks;
    /// <summary>16 × 16 floats written: the lanes of x row r's product with weight row c at [16·(4r + c)].</summary>
    public float* Sums;
    /// <summary>Bytes ahead of each weight row to prefetch (one line per row and chunk), when the kernel prefetches.</summary>
    public long Ahead;
}

/// <summary>
/// Four bfloat16 rows x against four bfloat16 weight rows by dot-product instructions (<see cref="Bf16DotInstructions"/>):
/// the few-rows product's tile for bfloat16 models with the rows at hand in bfloat16.
/// </summary>
internal static unsafe class Bf16DotTile
{
    /// <summary>Elements per chunk: one 512-bit register of bfloat16.</summary>
    public const int Chunk = 32;

    static readonly delegate* unmanaged[SuppressGCTransition]<Bf16TileArgs*, void> Plain =
        (delegate* unmanaged[SuppressGCTransition]<Bf16TileArgs*, void>)Bf16DotInstructions.Place(Assemble(prefetch: false));
    static readonly delegate* unmanaged[SuppressGCTransition]<Bf16TileArgs*, void> Prefetching =
        (delegate* unmanaged[SuppressGCTransition]<Bf16TileArgs*, void>)Bf16DotInstructions.Place(Assemble(prefetch: true));

    /// <summary>Whether the tile runs here.</summary>
    public static bool IsSupported => Plain != null && Prefetching != null && Bf16DotInstructions.IsSupported;

    /// <summary>Runs the tile; the caller folds <see cref="Bf16TileArgs.Sums"/>.</summary>
    public static void Run(Bf16TileArgs* args, bool prefetch)
    {
        if (prefetch) Prefetching(args);
        else Plain(args);
    }

    /// <summary>The tile loop, System V calling convention: rdi = <see cref="Bf16TileArgs"/>*.</summary>
    static Assembler Assemble(bool prefetch)
    {
        var a = new Assembler(64);
        // rax, r10, r11: x row 0, x stride, x row 3; rdx, rcx, r8: weight row 0, weight stride, weight row 3;
        // r9: chunks left; rsi: prefetch distance; rbx (saved): weight row 0 plus that distance, when prefetching. zmm0–15 accumulate (x row r, weight row c at 4r + c),
        // zmm16–19 hold the weight rows' chunk, zmm20–23 the x rows' chunk.
        a.mov(rax, __qword_ptr[rdi]);
        a.mov(r10, __qword_ptr[rdi + 8]);
        a.mov(rdx, __qword_ptr[rdi + 16]);
        a.mov(rcx, __qword_ptr[rdi + 24]);
        a.mov(r9, __qword_ptr[rdi + 32]);
        a.mov(rsi, __qword_ptr[rdi + 48]);
        if (prefetch)
        {
            a.push(rbx);
            a.lea(rbx, __[rdx + rsi]);
        }
        a.lea(r11, __[rax + r10 * 2]);
        a.add(r11, r10);
        a.lea(r8, __[rdx + rcx * 2]);
        a.add(r8, rcx);
        var acc = new[] { zmm0, zmm1, zmm2, zmm3, zmm4, zmm5, zmm6, zmm7, zmm8, zmm9, zmm10, zmm11, zmm12, zmm13, zmm14, zmm15 };
        foreach (var z in acc) a.vxorps(z, z, z);
        var loop = a.CreateLabel();
        a.Label(ref loop);
        a.vmovdqu16(zmm16, __zmmword_ptr[rdx]);
        a.vmovdqu16(zmm17, __zmmword_ptr[rdx + rcx]);
        a.vmovdqu16(zmm18, __zmmword_ptr[rdx + rcx * 2]);
        a.vmovdqu16(zmm19, __zmmword_ptr[r8]);
        if (prefetch)
        {
            a.prefetcht0(__byte_ptr[rbx]);
            a.prefetcht0(__byte_ptr[rbx + rcx]);
            a.prefetcht0(__byte_ptr[rbx + rcx * 2]);
            a.prefetcht0(__byte_ptr[r8 + rsi]);
            a.add(rbx, 64);
        }
        var w = new[] { zmm16, zmm17, zmm18, zmm19 };
        var x = new[] { zmm20, zmm21, zmm22, zmm23 };
        a.vmovdqu16(x[0], __zmmword_ptr[rax]);
        a.vmovdqu16(x[1], __zmmword_ptr[rax + r10]);
        a.vmovdqu16(x[2], __zmmword_ptr[rax + r10 * 2]);
        a.vmovdqu16(x[3], __zmmword_ptr[r11]);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) a.vdpbf16ps(acc[4 * r + c], x[r], w[c]);
        a.add(rax, 64);
        a.add(r11, 64);
        a.add(rdx, 64);
        a.add(r8, 64);
        a.dec(r9);
        a.jne(loop);
        if (prefetch) a.pop(rbx);
        a.mov(rax, __qword_ptr[rdi + 40]);
        for (int i = 0; i < 16; i++) a.vmovups(__zmmword_ptr[rax + 64 * i], acc[i]);
        a.vzeroupper();
        a.ret();
        return a;
    }
}
