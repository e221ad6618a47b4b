using System;

namespace Kiln;

/// <summary>The kind of device memory a tensor lives in.</summary>
public enum DeviceType : byte
{
    /// <summary>Host memory.</summary>
    Cpu,
    /// <summary>An NVIDIA GPU (see <see cref="Kiln.Cuda"/>; the backend arrives with the GPU work).</summary>
    Cuda,
}

/// <summary>A device: a type and an index, like <c>torch.device("cuda:0")</c>.</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    /// <summary>The host CPU.</summary>
    public static Device Cpu => new(DeviceType.Cpu);

    /// <summary>CUDA device <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0) =>
        index >= 0 ? new(DeviceType.Cuda, index) : throw new KilnException("device", $"device: a CUDA device index must not be negative, got {index}", KilnErrorKind.Device);

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:1</c>.</summary>
    public static Device Parse(string s)
    {
        if (s == "cpu") return Cpu;
        if (s == "cuda") return Cuda();
        if (s.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(s.AsSpan(5), out int i)) return Cuda(i);
        throw new KilnException(null, $"invalid device string '{s}'", KilnErrorKind.Device);
    }

    /// <inheritdoc/>
    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
