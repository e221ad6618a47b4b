using System.Linq;
using Kiln.Compiler.Ops.Pointwise;
using Kiln.Tests.Golden;
using Xunit;
using static Kiln.Tests.Gpu.EmulatedCuda;

namespace Kiln.Tests.Gpu;

/// <summary>Every op of the one-input op table on the (emulated) CUDA device: the generated op switch gives the CPU's numbers.</summary>
[Collection(EmulatedCuda.Collection)]
public class TableOpsOnDeviceTests
{
    public static TheoryData<string> Names() => UnaryOpTableTests.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void TableOpMatchesTheCpu(string name)
    {
        var op = UnaryOps.Find(name)!;
        using var cuda = new EmulatedCuda();
        // Inside every op's domain (log, asin, acos need (0, 1)); 37 elements: vector bodies and a tail on the CPU.
        using var x = Tensor.From(Enumerable.Range(0, 37).Select(i => 0.05f + 0.9f * i / 36f).ToArray());
        using var dx = x.Cuda();
        using var expected = UnaryOpTableTests.Apply(op, x);
        using var got = UnaryOpTableTests.Apply(op, dx);
        // An absolute floor of a float's rounding at 1 (1.2e-7): logit's log(x / (1 - x)) at x ≈ 1/2 is the log of a ratio
        // within an ulp of 1, which the CPU rounds in float lanes and the device in double.
        Same(expected, got, 1e-6, name, atol: 1.2e-7);
    }
}
