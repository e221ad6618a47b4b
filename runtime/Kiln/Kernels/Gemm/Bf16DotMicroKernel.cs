using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Iced.Intel;
using Kiln.Kernels.Native;
using static Iced.Intel.AssemblerRegisters;

namespace Kiln.Kernels.Gemm;

/// <summary>What one call of <see cref="Bf16DotMicroKernel"/> reads and writes (the generated code reads it by these offsets).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Bf16MicroArgs
{
    /// <summary>The A panel: for each pair of k, <see cref="Bf16DotMicroKernel.MR"/> rows' two bfloat16 values (one 32-bit word a row).</summary>
    public uint* A;
    /// <summary>The B panel: for each pair of k, <see cref="Bf16DotMicroKernel.NR"/> columns' two bfloat16 values.</summary>
    public uint* B;
    /// <summary>Pairs of k to run (at least one).</summary>
    public long Pairs;
    /// <summary>The 12 × 32 float32 tile of C.</summary>
    public float* C;
    /// <summary>Bytes from one row of C to the next.</summary>
    public long CStride;
}

/// <summary>
/// The blocked GEMM's 12 × 32 micro-kernel for bfloat16 operands by dot-product instructions
/// (<see cref="Bf16DotInstructions"/>): per pair of k, B's two vectors against each row's pair broadcast — 768 products in
/// 24 dot-product instructions, twice what the float32 micro-kernel's FMAs do on the same registers.
/// </summary>
internal static unsafe class Bf16DotMicroKernel
{
    /// <summary>Rows of the tile.</summary>
    public const int MR = 12;

    /// <summary>Columns of the tile.</summary>
    public const int NR = 32;

    static readonly delegate* unmanaged[SuppressGCTransition]<Bf16MicroArgs*, void> Store =
        (delegate* unmanaged[SuppressGCTransition]<Bf16MicroArgs*, void>)Bf16DotInstructions.Place(Assemble(accumulate: false));
    static readonly delegate* unmanaged[SuppressGCTransition]<Bf16MicroArgs*, void> Accumulate =
        (delegate* unmanaged[SuppressGCTransition]<Bf16MicroArgs*, void>)Bf16DotInstructions.Place(Assemble(accumulate: true));

    /// <summary>Whether the kernel runs here.</summary>
    public static bool IsSupported => Store != null && Accumulate != null && Bf16DotInstructions.IsSupported;

    /// <summary>C (12 × 32, rows <paramref name="ldc"/> floats apart) = (C +) A·B over <paramref name="pairs"/> pairs of k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(long pairs, uint* a, uint* b, float* c, long ldc, bool accumulate)
    {
        var args = new Bf16MicroArgs { A = a, B = b, Pairs = pairs, C = c, CStride = ldc * sizeof(float) };
        if (accumulate) Accumulate(&args);
        else Store(&args);
    }

    /// <summary>The kernel, System V calling convention: rdi = <see cref="Bf16MicroArgs"/>*.</summary>
    static Assembler Assemble(bool accumulate)
    {
        var a = new Assembler(64);
        // rax: A panel, rdx: B panel, r9: pairs left, rcx: C row, r10: C stride. zmm(2r), zmm(2r+1): row r's two column
        // vectors; zmm24, zmm25: B's two vectors of the current pair; zmm26–31: rows' pairs broadcast, in turn.
        a.mov(rax, __qword_ptr[rdi]);
        a.mov(rdx, __qword_ptr[rdi + 8]);
        a.mov(r9, __qword_ptr[rdi + 16]);
        a.mov(rcx, __qword_ptr[rdi + 24]);
        a.mov(r10, __qword_ptr[rdi + 32]);
        var z = new[]
        {
            zmm0, zmm1, zmm2, zmm3, zmm4, zmm5, zmm6, zmm7, zmm8, zmm9, zmm10, zmm11,
            zmm12, zmm13, zmm14, zmm15, zmm16, zmm17, zmm18, zmm19, zmm20, zmm21, zmm22, zmm23,
        };
        var broadcasts = new[] { zmm26, zmm27, zmm28, zmm29, zmm30, zmm31 };
        foreach (var r in z) a.vxorps(r, r, r);
        var loop = a.CreateLabel();
        a.Label(ref loop);
        a.vmovups(zmm24, __zmmword_ptr[rdx]);
        a.vmovups(zmm25, __zmmword_ptr[rdx + 64]);
        // Each row's pair is broadcast once into a register for both products: as a broadcast memory operand of each,
        // the 26 loads a pair ran the load ports at their limit (315 → 375 GFLOP/s with B in L2, 1 thread).
        for (int r = 0; r < MR; r++)
        {
            var pair = broadcasts[r % broadcasts.Length];
            a.vpbroadcastd(pair, __dword_ptr[rax + 4 * r]);
            a.vdpbf16ps(z[2 * r], zmm24, pair);
            a.vdpbf16ps(z[2 * r + 1], zmm25, pair);
        }
        a.add(rax, 4 * MR);
        a.add(rdx, 4 * NR);
        a.dec(r9);
        a.jne(loop);
        for (int r = 0; r < MR; r++)
        {
            if (accumulate)
            {
                a.vaddps(z[2 * r], z[2 * r], __zmmword_ptr[rcx]);
                a.vaddps(z[2 * r + 1], z[2 * r + 1], __zmmword_ptr[rcx + 64]);
            }
            a.vmovups(__zmmword_ptr[rcx], z[2 * r]);
            a.vmovups(__zmmword_ptr[rcx + 64], z[2 * r + 1]);
            a.add(rcx, r10);
        }
        a.vzeroupper();
        a.ret();
        return a;
    }
}
