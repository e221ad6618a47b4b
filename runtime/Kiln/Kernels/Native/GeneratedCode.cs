using System;
using System.IO;
using System.Runtime.Intrinsics;
using Iced.Intel;

namespace Kiln.Kernels.Native;

/// <summary>
/// Kernels Kiln assembles at start-up (with Iced) into executable memory: loops whose shape the JIT does not give —
/// registers kept across a whole tile loop, sums folded and scattered in registers — and instructions .NET does not
/// expose (<see cref="Bf16DotInstructions"/>). AVX-512 on x64 Linux; elsewhere the managed kernels run.
/// </summary>
internal static unsafe class GeneratedCode
{
    static readonly bool Available = Vector512.IsHardwareAccelerated && ExecutableCode.IsSupported;

    /// <summary>Switch for measuring against the managed kernels: on by default where available; the environment variable
    /// KILN_GENERATED_KERNELS=0 starts a process with it off.</summary>
    public static bool Enabled { get; set; } = Available && Environment.GetEnvironmentVariable("KILN_GENERATED_KERNELS") != "0";

    /// <summary>Assembles <paramref name="code"/> (position-independent) into executable memory; null where unavailable or
    /// where the encoder refuses an instruction.</summary>
    public static void* Place(Assembler code)
    {
        if (!Available) return null;
        using var bytes = new MemoryStream();
        try
        {
            code.Assemble(new StreamCodeWriter(bytes), 0);
        }
        catch (InvalidOperationException)
        {
            return null;   // an operand the encoder refuses: the managed kernels run (Bf16DotTests fails on such a CPU)
        }
        return ExecutableCode.Place(bytes.ToArray());
    }
}
