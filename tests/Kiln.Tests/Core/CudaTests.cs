using System;
using System.IO;
using Kiln;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>Device discovery and the path without a GPU: answers, never exceptions, and clear errors when a tensor is sent there.</summary>
[Collection(Gpu.EmulatedCuda.Collection)]
public class CudaTests
{
    /// <summary>Whether this machine has the NVIDIA driver at all (checked without ILGPU).</summary>
    static bool DriverPresent => File.Exists("/proc/driver/nvidia/version") || OperatingSystem.IsWindows();

    [Fact]
    public void DiscoveryAnswersWithoutThrowing()
    {
        int count = Kiln.Cuda.DeviceCount;
        Assert.Equal(count > 0, Kiln.Cuda.IsAvailable);
        if (!DriverPresent)
        {
            Assert.False(Kiln.Cuda.IsAvailable);
            Assert.Equal(0, count);
        }
        Assert.Equal(count, Kiln.Cuda.DeviceCount);   // asked again: the same answer, found once
    }

    [Fact]
    public void SendingATensorToAMissingDeviceSaysWhy()
    {
        if (Kiln.Cuda.IsAvailable) return;   // the message below is the no-GPU path's
        var t = Tensor.Ones(2, 3);
        foreach (var e in new[]
        {
            Assert.Throws<KilnException>(() => t.Cuda()),
            Assert.Throws<KilnException>(() => t.To(Device.Cuda(1))),
            Assert.Throws<KilnException>(() => t.To(Device.Parse("cuda"))),
        })
        {
            Assert.StartsWith("to: device cuda:", e.Message);
            Assert.Contains("Kiln.Cuda.IsAvailable is false", e.Message);
        }
        var layer = new Linear(3, 2);
        Assert.Contains("cuda:0", Assert.Throws<KilnException>(() => layer.To(Device.Cuda())).Message);
        Assert.Equal(Device.Cpu, layer.Weight.Device);   // nothing moved half-way
    }

    [Fact]
    public void CpuIsAViewOfATensorAlreadyThere()
    {
        var t = Tensor.From(1f, 2f, 3f);
        var c = t.Cpu();
        Assert.Equal(Device.Cpu, c.Device);
        Assert.Equal(new[] { 1f, 2f, 3f }, c.ToArray<float>());
        Assert.Same(t.Storage, c.Storage);
    }

    [Fact]
    public void ANegativeDeviceIndexIsRefused()
    {
        var e = Assert.Throws<KilnException>(() => Device.Cuda(-1));
        Assert.Contains("-1", e.Message);
        Assert.Equal("cuda:2", Device.Parse("cuda:2").ToString());
    }
}
