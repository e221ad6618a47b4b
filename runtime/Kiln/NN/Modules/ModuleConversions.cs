using Kiln.NN;

namespace Kiln;

/// <summary>
/// <c>module.to(...)</c>, <c>.cuda()</c> and <c>.cpu()</c>, in namespace Kiln beside <c>Tensor.To</c>: each converts the
/// module's parameters and buffers in place (the same tensor objects, so optimizers built on them keep working) and hands
/// back the module as its own type, so <c>var model = new Net().To(Device.Cuda());</c> keeps <c>model</c> a <c>Net</c>.
/// </summary>
public static class ModuleConversions
{
    /// <summary>Moves parameters and buffers to <paramref name="device"/> (<c>module.to(device)</c>).</summary>
    public static T To<T>(this T module, Device device) where T : Module
    {
        System.ArgumentNullException.ThrowIfNull(module);
        module.MoveTo(device);
        return module;
    }

    /// <summary>Converts floating-point parameters and buffers to <paramref name="dtype"/> (<c>module.to(dtype)</c>).</summary>
    public static T To<T>(this T module, DType dtype) where T : Module
    {
        System.ArgumentNullException.ThrowIfNull(module);
        module.ConvertTo(dtype);
        return module;
    }

    /// <summary>Moves parameters and buffers to CUDA device <paramref name="index"/> (<c>module.cuda()</c>).</summary>
    public static T Cuda<T>(this T module, int index = 0) where T : Module => module.To(Device.Cuda(index));

    /// <summary>Moves parameters and buffers to host memory (<c>module.cpu()</c>).</summary>
    public static T Cpu<T>(this T module) where T : Module => module.To(Device.Cpu);
}
