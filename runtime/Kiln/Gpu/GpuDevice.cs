using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Kiln.Gpu;

/// <summary>
/// One CUDA device as Kiln uses it: an ILGPU accelerator, its one stream (kernels run asynchronously in issue order; the
/// host waits only where it reads), the caching allocator, a pinned staging buffer for copies and the loaded kernels.
/// Under <see cref="Kiln.Cuda.Emulate"/> the accelerator is ILGPU's CPU emulator instead.
/// </summary>
internal sealed class GpuDevice : IDisposable
{
    static readonly object Gate = new();
    static readonly Dictionary<int, GpuDevice> Devices = new();

    public readonly Device Device;
    public readonly Context Context;
    public readonly Accelerator Accelerator;
    public readonly DeviceAllocator Allocator;
    public readonly bool Emulated;
    readonly ConcurrentDictionary<MethodInfo, Delegate> _launchers = new();
    readonly object _stagingLock = new();
    PageLockedArray1D<byte>? _staging;

    GpuDevice(Device device, bool emulated)
    {
        Device = device;
        Emulated = emulated;
        if (emulated)
        {
            // Every thread of an emulated group is an OS thread and every barrier waits for all the threads ever started
            // (a phase at 256 threads takes ~3 ms on two cores, at 16 ~0.1 ms): the emulator launches groups of
            // EmulatedGroupSize, which the row, GEMM and quantized kernels read from the launch.
            Context = PtxCompiler.CreateContext(b => b.CPU(new CPUDevice(EmulatedGroupSize / 4, 4, 1)));
            Accelerator = Context.CreateCPUAccelerator(0);
        }
        else
        {
            Context = PtxCompiler.CreateContext(b => b.Cuda());
            Accelerator = Context.CreateCudaAccelerator(device.Index);
        }
        Allocator = new DeviceAllocator(Accelerator);
    }

    /// <summary>The device object for <paramref name="device"/>, created on first use; a clear error when there is none.</summary>
    public static GpuDevice For(string op, Device device)
    {
        lock (Gate)
        {
            if (Devices.TryGetValue(device.Index, out var d)) return d;
            bool emulate = Kiln.Cuda.Emulate;
            if (emulate)
            {
                if (device.Index != 0) throw new KilnException(op, $"{op}: device {device} does not exist: the CUDA emulator provides cuda:0 only", KilnErrorKind.Device);
            }
            else Kiln.Cuda.Require(op, device);
            d = new GpuDevice(device, emulate);
            Devices[device.Index] = d;
            return d;
        }
    }

    /// <summary>The emulator's GEMM tile edge; its groups have this squared threads (a power of two).</summary>
    const int EmulatedGemmTile = 4;

    /// <summary>Threads per group on the emulator.</summary>
    const int EmulatedGroupSize = EmulatedGemmTile * EmulatedGemmTile;

    /// <summary>Threads per row-reduction group: <see cref="Kernels.RowKernels.GroupSize"/> on a GPU.</summary>
    public int RowGroupSize => Emulated ? EmulatedGroupSize : Kernels.RowKernels.GroupSize;

    /// <summary>Threads per output feature of the fused quantized products: <see cref="Kernels.QuantKernels.GroupSize"/> on a GPU.</summary>
    public int QuantGroupSize => Emulated ? EmulatedGroupSize : Kernels.QuantKernels.GroupSize;

    /// <summary>The fallback GEMM's tile edge: <see cref="Kernels.GemmKernels.Tile"/> on a GPU.</summary>
    public int GemmTile => Emulated ? EmulatedGemmTile : Kernels.GemmKernels.Tile;

    /// <summary>The stream every kernel and copy of this device runs on.</summary>
    public AcceleratorStream Stream => Accelerator.DefaultStream;

    /// <summary>Waits for the device's queued work (before the host reads results).</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>Kernels compiled by ILGPU at run time because no valid bundle entry existed (0 with a current bundle).</summary>
    public static int JitCompiledKernels;

    /// <summary>A typed launcher for a kernel method (closed), loaded once per device.</summary>
    public TDelegate Launcher<TDelegate>(MethodInfo kernel) where TDelegate : Delegate =>
        (TDelegate)_launchers.GetOrAdd(kernel, static (m, self) => self.Load<TDelegate>(m), this);

    TDelegate Load<TDelegate>(MethodInfo method) where TDelegate : Delegate
    {
        var entry = new KernelEntry(KernelCatalog.NameOf(method), method, KernelCatalog.IsExplicitlyGrouped(method));
        Kernel? kernel = null;
        string why = "";
        if (!Emulated && Bundled(entry, out why) is { } b)
        {
            try
            {
                var compiled = PtxCompiler.FromPtx(Context, entry, b.Ptx, b.SharedStatic, b.SharedDynamic);
                kernel = entry.ExplicitlyGrouped ? Accelerator.LoadKernel(compiled) : Accelerator.LoadAutoGroupedKernel(compiled);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The driver refused the bundled PTX (or ILGPU's internals moved): compile it here instead, once, loudly.
                why = $"loading the bundled PTX failed ({e.GetType().Name}: {e.Message})";
            }
        }
        if (kernel is null)
        {
            if (!Emulated)
            {
                System.Threading.Interlocked.Increment(ref JitCompiledKernels);
                Console.Error.WriteLine($"kiln: warning: GPU kernel {entry.Name} is compiled by ILGPU at run time: {why}");
            }
            kernel = entry.ExplicitlyGrouped ? Accelerator.LoadKernel(method) : Accelerator.LoadAutoGroupedKernel(method);
        }
        return kernel!.CreateLauncherDelegate<TDelegate>();
    }

    static readonly ConcurrentDictionary<Assembly, (KernelBundle? Bundle, string Why)> Bundles = new();

    /// <summary>The valid bundle entry for a kernel, or null with the reason.</summary>
    static BundleEntry? Bundled(KernelEntry kernel, out string why)
    {
        var (bundle, missing) = Bundles.GetOrAdd(kernel.Method.DeclaringType!.Assembly, LoadBundle);
        if (bundle is null) { why = missing; return null; }
        var e = bundle.Lookup(kernel, out var whyNot);
        why = whyNot ?? "";
        return e;
    }

    static (KernelBundle?, string) LoadBundle(Assembly assembly)
    {
#pragma warning disable IL3000 // an empty Location (single-file publish) is handled: the bundle is then beside the app
        string file = assembly.Location.Length > 0
            ? KernelBundle.PathFor(assembly.Location)
            : Path.Combine(AppContext.BaseDirectory, assembly.GetName().Name + KernelBundle.Suffix); // single-file publish
#pragma warning restore IL3000
        if (!File.Exists(file)) return (null, $"no kernel bundle at {file} (build with the Kiln.Build targets)");
        try { return (KernelBundle.Load(file), ""); }
        catch (KilnException e) { return (null, e.Message); }
    }

    /// <summary>Runs <paramref name="use"/> with a pinned host buffer of at least <paramref name="bytes"/> (grown on demand).</summary>
    public void WithStaging(long bytes, Action<PageLockedArray1D<byte>> use)
    {
        lock (_stagingLock)
        {
            if (_staging is null || _staging.Length < bytes)
            {
                _staging?.Dispose();
                _staging = Accelerator.AllocatePageLocked1D<byte>(Math.Max(bytes, 1 << 16), uninitialized: true);
            }
            use(_staging);
        }
    }

    public void Dispose()
    {
        _staging?.Dispose();
        Allocator.Dispose();
        Accelerator.Dispose();
        Context.Dispose();
    }
}
