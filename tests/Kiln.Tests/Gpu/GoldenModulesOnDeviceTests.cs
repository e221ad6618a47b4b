using Kiln.Tests.NN;
using Xunit;

namespace Kiln.Tests.Gpu;

/// <summary>
/// Every PyTorch layer, functional and loss case of the golden file again with the layer and its inputs on the (emulated)
/// CUDA device: PyTorch's state dict moved there, outputs, gradients and buffers equal PyTorch's as on the CPU. A layer
/// that builds a helper tensor on the host (the adaptive pool's averaging matrices, attention's zero key did) fails here.
/// </summary>
[Collection(EmulatedCuda.Collection)]
public class GoldenModulesOnDeviceTests
{
    public static TheoryData<string> Cases() => Names(ModuleGoldenTests.Cases());
    public static TheoryData<string> FunctionalCases() => Names(FunctionalGoldenTests.FunctionalCases());
    public static TheoryData<string> LossCases() => Names(FunctionalGoldenTests.LossCases());

    static TheoryData<string> Names(System.Collections.Generic.IEnumerable<object[]> cases)
    {
        var d = new TheoryData<string>();
        foreach (var c in cases) d.Add((string)c[0]);
        return d;
    }

    [Theory]
    [MemberData(nameof(FunctionalCases))]
    public void FunctionalMatchesPyTorchOnTheDevice(string name)
    {
        using var cuda = new EmulatedCuda();
        FunctionalGoldenTests.CheckFunctional(name, Device.Cuda());
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void LossMatchesPyTorchOnTheDevice(string name)
    {
        using var cuda = new EmulatedCuda();
        FunctionalGoldenTests.CheckLoss(name, Device.Cuda());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorchOnTheDevice(string name)
    {
        using var cuda = new EmulatedCuda();
        ModuleGoldenTests.Check(name, Device.Cuda());
    }
}
