using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;

namespace Kiln.Kernels.Native;

/// <summary>
/// AVX512_BF16's <c>vdpbf16ps</c> — 32 bfloat16 products summed pairwise into 16 float32 lanes by one instruction, where
/// widening the bfloat16 to float32 for FMAs gives 16. .NET exposes no AVX512_BF16 intrinsics, so Kiln's kernels that use
/// it are assembled at start-up (<see cref="GeneratedCode"/>); where the CPU or OS lacks it the float32 kernels run.
/// </summary>
/// <remarks>
/// Each lane accumulates a[2i]·b[2i] + a[2i+1]·b[2i+1]: bfloat16 products are exact in float32, so each step is the
/// rounding of a float32 add, as two FMAs would do (sums differ only in order, and subnormal inputs count as zero).
/// </remarks>
internal static unsafe class Bf16DotInstructions
{
    static readonly bool Available = CpuHasBf16Dot() && ExecutableCode.IsSupported;

    /// <summary>Whether the generated kernels run here (AVX512_BF16 on x64 Linux) and are switched on.</summary>
    public static bool IsSupported => Available && Enabled && GeneratedCode.Enabled;

    /// <summary>Switch for measuring against the float32 kernels: on by default where supported; the environment variable
    /// KILN_BF16_DOT=0 starts a process with it off.</summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("KILN_BF16_DOT") != "0";

    /// <summary>Assembles <paramref name="code"/> where the CPU has the instructions (see <see cref="GeneratedCode.Place"/>).</summary>
    public static void* Place(Assembler code) => Available ? GeneratedCode.Place(code) : null;

    /// <summary>CPUID leaf 7, sub-leaf 1, EAX bit 5, with AVX-512 enabled by the OS.</summary>
    static bool CpuHasBf16Dot()
    {
        if (!X86Base.X64.IsSupported || !Vector512.IsHardwareAccelerated || !Avx512BW.IsSupported) return false;
        if (X86Base.CpuId(7, 0).Eax < 1) return false;
        return (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;
    }
}
