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
    // The stacked bidirectional recurrences run step by step on the emulator (20 s each); their one-layer cases cover the
    // same device code.
    static readonly string[] Slow = ["lstm_proj_2layer_bidir_state", "lstm_2layer_bidir_batchfirst_state", "gru_2layer_bidir_batchfirst_state"];

    public static TheoryData<string> Cases()
    {
        var d = new TheoryData<string>();
        foreach (var c in ModuleGoldenTests.Cases())
            if (System.Array.IndexOf(Slow, (string)c[0]) < 0) d.Add((string)c[0]);
        return d;
    }

    // Long attention cases the emulator runs element by element (20-50 s each); the other sdpa cases cover the device kernel.
    static readonly string[] SlowFunctional = ["sdpa_gqa_long", "sdpa_float_mask_scale", "sdpa_causal"];

    public static TheoryData<string> FunctionalCases() => Names(FunctionalGoldenTests.FunctionalCases(), SlowFunctional);
    public static TheoryData<string> LossCases() => Names(FunctionalGoldenTests.LossCases(), []);

    static TheoryData<string> Names(System.Collections.Generic.IEnumerable<object[]> cases, string[] skip)
    {
        var d = new TheoryData<string>();
        foreach (var c in cases)
            if (System.Array.IndexOf(skip, (string)c[0]) < 0) d.Add((string)c[0]);
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
