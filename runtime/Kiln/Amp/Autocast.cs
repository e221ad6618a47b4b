using System;

namespace Kiln;

/// <summary>
/// Automatic mixed precision (<c>torch.autocast</c>): inside a scope, matrix products and convolutions run in a 16-bit float
/// type (their inputs are cast, recorded, so gradients flow back in the inputs' own types), and precision-sensitive ops
/// run in float32 — PyTorch's lists: cross-entropy, NLL and MSE losses on both devices, softmax, log-softmax and layer
/// norm on CUDA only. Everything else runs in the type of its inputs. Thread-local, like PyTorch's; scopes nest.
/// </summary>
/// <example><code>
/// using (Autocast.Enable(DType.BFloat16))
/// {
///     var loss = F.CrossEntropy(model.Forward(x), y);   // Linear layers in bf16, the loss in float32
/// }
/// </code></example>
public static class Autocast
{
    [ThreadStatic] static State _cuda, _cpu;
    [ThreadStatic] static int _suspended;

    struct State
    {
        public bool Enabled;
        public DType DType;
    }

    /// <summary>
    /// Enables autocast for tensors on <paramref name="device"/> (CUDA by default, like <c>torch.autocast("cuda")</c>)
    /// until the returned scope is disposed. <paramref name="dtype"/> is Float16 or BFloat16.
    /// </summary>
    public static IDisposable Enable(DType dtype = DType.Float16, DeviceType device = DeviceType.Cuda, bool enabled = true)
    {
        if (dtype != DType.Float16 && dtype != DType.BFloat16)
            throw new KilnException("autocast", $"autocast: the lower-precision type must be Float16 or BFloat16, got {dtype}", KilnErrorKind.DType);
        ref State s = ref device == DeviceType.Cuda ? ref _cuda : ref _cpu;
        var previous = s;
        s = new State { Enabled = enabled, DType = dtype };
        return new Restore(device, previous);
    }

    /// <summary>Whether autocast is on for <paramref name="device"/> on this thread (<c>torch.is_autocast_enabled()</c>).</summary>
    public static bool IsEnabled(DeviceType device = DeviceType.Cuda) => (device == DeviceType.Cuda ? _cuda : _cpu).Enabled;

    /// <summary>The lower-precision type autocast uses for <paramref name="device"/>.</summary>
    public static DType DTypeOf(DeviceType device = DeviceType.Cuda) => (device == DeviceType.Cuda ? _cuda : _cpu).DType;

    sealed class Restore(DeviceType device, State previous) : IDisposable
    {
        bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            if (device == DeviceType.Cuda) _cuda = previous; else _cpu = previous;
        }
    }

    /// <summary>
    /// The type a lower-precision op casts its floating inputs to, or null when autocast is off for their device, an input
    /// is float64 (left alone, as PyTorch does), or every floating input has the type already.
    /// </summary>
    internal static DType? Lower(params Tensor?[] inputs)
    {
        if (_suspended > 0) return null;
        bool cast = false;
        State s = default;
        foreach (var t in inputs)
        {
            if (t is null || !t.DType.IsFloatingPoint()) continue;
            s = t.Device.Type == DeviceType.Cuda ? _cuda : _cpu;
            if (!s.Enabled || t.DType == DType.Float64) return null;
            cast |= t.DType != s.DType;
        }
        return cast ? s.DType : null;
    }

    /// <summary>
    /// True when a float32-op's 16-bit input should be widened first. PyTorch's lists differ by device: softmax,
    /// log-softmax and layer norm widen on CUDA only (<paramref name="cudaOnly"/>); the losses widen on both.
    /// </summary>
    internal static bool Widen(Tensor t, bool cudaOnly = false)
    {
        if (_suspended > 0 || (t.DType != DType.Float16 && t.DType != DType.BFloat16)) return false;
        if (t.Device.Type != DeviceType.Cuda) return !cudaOnly && _cpu.Enabled;
        return _cuda.Enabled;
    }

    /// <summary>Runs <paramref name="op"/> on the inputs cast to the autocast type (null inputs pass through), not re-cast inside.</summary>
    internal static Tensor RunLowered(Func<Tensor?[], Tensor> op, DType dtype, params Tensor?[] inputs)
    {
        var cast = new Tensor?[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
                cast[i] = inputs[i] is { } t && t.DType.IsFloatingPoint() && t.DType != dtype ? t.To(dtype) : inputs[i];
            _suspended++;
            try { return op(cast); }
            finally { _suspended--; }
        }
        finally
        {
            for (int i = 0; i < inputs.Length; i++)
                if (!ReferenceEquals(cast[i], inputs[i])) cast[i]?.Dispose();
        }
    }

    /// <summary>Runs <paramref name="op"/> on <paramref name="input"/> widened to float32.</summary>
    internal static Tensor RunWidened(Func<Tensor, Tensor> op, Tensor input)
    {
        using var wide = input.To(DType.Float32);
        _suspended++;
        try { return op(wide); }
        finally { _suspended--; }
    }
}
