using System;
using System.Runtime.InteropServices;
using System.Threading;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Kiln;

/// <summary>
/// The machine's NVIDIA GPUs (<c>torch.cuda</c>): whether one can be used and how many. Asking never throws — on a machine
/// without a GPU or without the NVIDIA driver the answer is false / 0.
/// </summary>
public static class Cuda
{
    static readonly Lazy<int> Count = new(Discover, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether a CUDA device is present and its driver loads (<c>torch.cuda.is_available()</c>).</summary>
    public static bool IsAvailable => DeviceCount > 0;

    /// <summary>The number of CUDA devices (<c>torch.cuda.device_count()</c>); 0 without a GPU or driver.</summary>
    public static int DeviceCount => Count.Value;

    /// <summary>
    /// Runs <c>cuda:0</c> on ILGPU's CPU accelerator instead of a GPU: every CUDA kernel executes (slowly — an emulator,
    /// not a backend) with the CUDA device's semantics, so kernels can be tested and debugged on a machine without a GPU.
    /// Set it before the first CUDA tensor is made; it does not change <see cref="IsAvailable"/>. Also enabled by the
    /// environment variable <c>KILN_CUDA_EMULATOR=1</c>.
    /// </summary>
    public static bool Emulate { get; set; } = Environment.GetEnvironmentVariable("KILN_CUDA_EMULATOR") == "1";

    /// <summary>Bytes the device's caching allocator holds from the driver (<c>torch.cuda.memory_reserved</c>).</summary>
    public static long MemoryReserved(int device = 0) => Gpu.GpuDevice.For("memory_reserved", Device.Cuda(device)).Allocator.ReservedBytes;

    /// <summary>Bytes of device memory in tensors now (<c>torch.cuda.memory_allocated</c>).</summary>
    public static long MemoryAllocated(int device = 0) => Gpu.GpuDevice.For("memory_allocated", Device.Cuda(device)).Allocator.AllocatedBytes;

    /// <summary>Driver allocations made so far by the caching allocator (steady-state training adds none).</summary>
    public static long DriverAllocations(int device = 0) => Gpu.GpuDevice.For("driver_allocations", Device.Cuda(device)).Allocator.DriverAllocations;

    /// <summary>Gives cached, unused device memory back to the driver (<c>torch.cuda.empty_cache()</c>).</summary>
    public static void EmptyCache(int device = 0) => Gpu.GpuDevice.For("empty_cache", Device.Cuda(device)).Allocator.ReleaseCached();

    /// <summary>Waits until every queued kernel and copy of the device finished (<c>torch.cuda.synchronize()</c>).</summary>
    public static void Synchronize(int device = 0) => Gpu.GpuDevice.For("synchronize", Device.Cuda(device)).Synchronize();

    /// <summary>GPU kernels ILGPU compiled at run time in this process because the kernel bundle had no current entry (0 when every kernel came from a bundle).</summary>
    public static int JitCompiledKernels => Gpu.GpuDevice.JitCompiledKernels;

    /// <summary>Throws a clear error unless <paramref name="device"/> is a CUDA device this machine has.</summary>
    internal static void Require(string op, Device device)
    {
        if (device.Type != DeviceType.Cuda) return;
        if (!IsAvailable)
            throw new KilnException(op, $"{op}: device {device} is not available: no CUDA device was found (Kiln.Cuda.IsAvailable is false — no NVIDIA GPU or driver on this machine)", KilnErrorKind.Device);
        if (device.Index >= DeviceCount)
            throw new KilnException(op, $"{op}: device {device} does not exist: this machine has {DeviceCount} CUDA device(s)", KilnErrorKind.Device);
    }

    static int Discover()
    {
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, ResolveDriver);
        }
        catch (InvalidOperationException)
        {
            // A resolver was already set for ILGPU by the application: keep it.
        }
        try
        {
            using var context = Context.Create(builder => builder.Cuda());
            return context.GetCudaDevices().Count;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException or ILGPU.Runtime.AcceleratorException)
        {
            return 0;
        }
    }

    /// <summary>
    /// ILGPU imports the driver as <c>cuda</c>; a machine with only the driver installed has <c>libcuda.so.1</c> but not the
    /// unversioned <c>libcuda.so</c> the default probing looks for.
    /// </summary>
    static IntPtr ResolveDriver(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (name != "cuda" || !OperatingSystem.IsLinux()) return IntPtr.Zero;
        foreach (var candidate in new[] { "libcuda.so.1", "libcuda.so" })
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        return IntPtr.Zero;
    }
}
