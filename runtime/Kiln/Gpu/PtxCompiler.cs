using System;
using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Kiln.Gpu;

/// <summary>
/// Compiles kernels to PTX with ILGPU's PTX backend — no GPU or driver needed. The build step uses it to write the kernel
/// bundle; at run time it is only the fallback for a missing or stale bundle entry.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class PtxCompiler : IDisposable
{
    /// <summary>The architecture Kiln targets: ILGPU 1.5.3 emits at most sm_80; newer GPUs JIT it in the driver.</summary>
    public static readonly CudaArchitecture Architecture = CudaArchitecture.SM_80;
    /// <summary>The PTX ISA version written.</summary>
    public static readonly CudaInstructionSet InstructionSet = CudaInstructionSet.ISA_71;

    /// <summary>What a bundle entry's fingerprint is salted with: a compiler or target change makes every entry stale.</summary>
    public static string Salt => $"ILGPU {typeof(Context).Assembly.GetName().Version} {Architecture} {InstructionSet}";

    /// <summary>Creates the ILGPU context a kernel is compiled in (with the Algorithms library's math intrinsics).</summary>
    internal static Context CreateContext(Action<Context.Builder> device) =>
        Context.Create(builder => { device(builder); builder.EnableAlgorithms(); });

    readonly Context _context;
    readonly PTXBackend _backend;

    /// <summary>A compiler with its own context.</summary>
    public PtxCompiler()
    {
        _context = CreateContext(b => b.Cuda());
        _backend = new PTXBackend(_context, new CudaCapabilityContext(Architecture), Architecture, InstructionSet, null);
    }

    /// <summary>One compiled kernel: its PTX and the shared-memory facts a launch needs.</summary>
    public readonly record struct Result(string Ptx, int SharedStaticBytes, bool SharedDynamic);

    /// <summary>Compiles one kernel.</summary>
    public Result Compile(KernelEntry kernel)
    {
        var description = kernel.ExplicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(kernel.Method);
        var compiled = (PTXCompiledKernel)_backend.Compile(description, new KernelSpecialization());
        var entry = EntryPointOf(compiled);
        return new Result(compiled.PTXAssembly, entry.SharedMemory.StaticSize, entry.SharedMemory.HasDynamicMemory);
    }

    static readonly PropertyInfo EntryPointProperty =
        typeof(CompiledKernel).GetProperty("EntryPoint", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingMemberException("ILGPU CompiledKernel.EntryPoint (ILGPU version changed?)");

    static EntryPoint EntryPointOf(CompiledKernel k) => (EntryPoint)EntryPointProperty.GetValue(k)!;

    static readonly ConstructorInfo PtxKernelConstructor =
        typeof(PTXCompiledKernel).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, null,
            new[] { typeof(Context), typeof(EntryPoint), typeof(CompiledKernel.KernelInfo), typeof(string) }, null)
        ?? throw new MissingMemberException("ILGPU PTXCompiledKernel(Context, EntryPoint, KernelInfo, string) (ILGPU version changed?)");

    /// <summary>
    /// Rebuilds ILGPU's compiled-kernel object from bundled PTX, so the CUDA accelerator loads it through the driver without
    /// compiling IL. (ILGPU keeps the constructor internal; it is reached by reflection, pinned to ILGPU 1.5.3.)
    /// </summary>
    public static CompiledKernel FromPtx(Context context, KernelEntry kernel, string ptx, int sharedStaticBytes, bool sharedDynamic)
    {
        var description = kernel.ExplicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(kernel.Method);
        var entry = new EntryPoint(description, new SharedMemorySpecification(sharedStaticBytes, sharedDynamic), new KernelSpecialization());
        return (CompiledKernel)PtxKernelConstructor.Invoke(new object?[] { context, entry, null, ptx });
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _backend.Dispose();
        _context.Dispose();
    }
}
