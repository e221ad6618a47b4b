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

        // The fused device product (up to 8 rows, codes read in place) and the dequantize-then-GEMM path (9 rows) on a layer
        // whose blocks of 64 straddle its rows of 96, so a row's second half reads the next block's absmax.
        Generator.ManualSeed(42);
        var wide = new Linear(96, 7);
        Linear WideCopy() { var l = new Linear(96, 7); l.LoadStateDict(wide.StateDict()); return l; }
        var wideCpu = new Linear4bit(WideCopy(), QuantType.Nf4, 64, doubleQuant: false);
        var wideDevice = new Linear4bit(WideCopy(), QuantType.Nf4, 64, doubleQuant: false);
        wideDevice.To(Device.Cuda());
        foreach (int rows in new[] { 1, 8, 9 })
        {
            var xs = Tensor.Randn(rows, 96);
            Same(wideCpu.Forward(xs), wideDevice.Forward(xs.Cuda()), 1e-4, $"4-bit product of {rows} rows");
        }
        var three = Tensor.Randn(2, 4, 96);
        Same(wideCpu.Forward(three), wideDevice.Forward(three.Cuda()), 1e-4, "4-bit product of [2, 4, 96]");

        var int8 = new Linear8bitLt(Copy());
        var int8Device = new Linear8bitLt(Copy());
        int8Device.To(Device.Cuda());
        Same(int8.DequantizedWeight(), int8Device.DequantizedWeight(), 0, "int8 dequantization");
        Same(int8.Forward(x), int8Device.Forward(x.Cuda()), 1e-4, "int8 product");
        // Fused on the device up to 8 rows, dequantize + GEMM from 9.
        foreach (int rows in new[] { 1, 8, 9 })
        {
            var xs = Tensor.Randn(rows, 64);
            Same(int8.Forward(xs), int8Device.Forward(xs.Cuda()), 1e-4, $"int8 product of {rows} rows");
        }
    }
}
