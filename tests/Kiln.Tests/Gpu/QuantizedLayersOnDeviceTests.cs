using Kiln.NN;
using Kiln.Quantization;
using Xunit;
using static Kiln.Tests.Gpu.EmulatedCuda;

namespace Kiln.Tests.Gpu;

/// <summary>Kiln.Quantization's layers on the (emulated) CUDA device: the dequantization kernels and the device product equal the CPU's.</summary>
[Collection(EmulatedCuda.Collection)]
public class QuantizedLayersOnDeviceTests
{
    [Fact]
    public void FourBitAndInt8LayersDequantizeOnTheDevice()
    {
        using var cuda = new EmulatedCuda();
        Generator.ManualSeed(41);
        var source = new Linear(64, 12);
        Linear Copy() { var l = new Linear(64, 12); l.LoadStateDict(source.StateDict()); return l; }   // layers keep their source's bias tensor
        var nf4 = new Linear4bit(Copy(), QuantType.Nf4, 64, doubleQuant: true);
        var onDevice = new Linear4bit(Copy(), QuantType.Nf4, 64, doubleQuant: true);
        onDevice.To(Device.Cuda());
        Same(nf4.DequantizedWeight(), onDevice.DequantizedWeight(), 0, "4-bit dequantization");
        var x = Tensor.Randn(3, 64);
        Same(nf4.Forward(x), onDevice.Forward(x.Cuda()), 1e-4, "4-bit product");

        var int8 = new Linear8bitLt(Copy());
        var int8Device = new Linear8bitLt(Copy());
        int8Device.To(Device.Cuda());
        Same(int8.DequantizedWeight(), int8Device.DequantizedWeight(), 0, "int8 dequantization");
        Same(int8.Forward(x), int8Device.Forward(x.Cuda()), 1e-4, "int8 product");
    }
}
