using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// Shape analysis that does not switch off: parameters without [Shape] still get the checks their layers allow,
/// `View(h.Size(0), -1)` is followed, every independent error is reported, and nothing is guessed about unknown sizes.
/// </summary>
[Collection(Generation.DefaultGenerator.Name)]
public class PartialShapeTests
{
    const string Usings = "using Kiln;\nusing Kiln.NN;\n\n";

    static async Task<Diagnostic[]> Errors(string source)
    {
        var (compiler, found) = await AnalyzerHarness.Run(Usings + source);
        Assert.True(compiler.IsEmpty, string.Join("; ", compiler));
        return found.Where(d => d.Severity == DiagnosticSeverity.Error).OrderBy(d => d.Location.SourceSpan.Start).ToArray();
    }

    [Fact]
    public async Task AConvChannelChainIsCheckedWithoutAShapeAttribute()
    {
        var d = await Errors("""
            [Model]
            public partial class Net : Module
            {
                readonly Conv2d conv1 = new(1, 6, 5), conv2 = new(8, 16, 5);
                readonly MaxPool2d pool = new(2);
                public Tensor Forward(Tensor x) => conv2.Forward(pool.Forward(F.Relu(conv1.Forward(x))));
            }
            """);
        var e = Assert.Single(d);
        Assert.Equal("KLN0002", e.Id);
        Assert.Contains("to have 8 channels, but got 6 channels instead", e.GetMessage());
    }

    [Fact]
    public async Task ALinearChainIsCheckedWithoutAShapeAttribute()
    {
        var d = await Errors("""
            [Model]
            public partial class Net : Module
            {
                readonly Linear a = new(10, 20), b = new(30, 5);
                public Tensor Forward(Tensor x) => b.Forward(F.Relu(a.Forward(x)));
            }
            """);
        var e = Assert.Single(d);
        Assert.Equal("KLN0001", e.Id);
        Assert.Contains("in_features=30", e.GetMessage());
    }

    [Fact]
    public async Task UnknownSpatialSizesAreNotGuessed()
    {
        // Without [Shape] the flattened width is unknown: no in_features check, no false error.
        var d = await Errors("""
            [Model]
            public partial class Net : Module
            {
                readonly Conv2d conv = new(1, 6, 5);
                readonly MaxPool2d pool = new(2);
                readonly Linear fc = new(123, 10);
                public Tensor Forward(Tensor x)
                {
                    var h = pool.Forward(F.Relu(conv.Forward(x)));
                    return fc.Forward(h.View(h.Size(0), -1));
                }
            }
            """);
        Assert.Empty(d);
    }

    [Theory]
    [InlineData("View", 864, false)]
    [InlineData("Reshape", 864, false)]
    [InlineData("View", 800, true)]
    [InlineData("Reshape", 800, true)]
    public async Task ViewOfTheBatchSizeAndMinusOneIsFollowed(string method, int inFeatures, bool wrong)
    {
        var d = await Errors($$"""
            [Model]
            public partial class Net : Module
            {
                readonly Conv2d conv = new(1, 6, 5);
                readonly MaxPool2d pool = new(2);
                readonly Linear fc = new({{inFeatures}}, 10);
                public Tensor Forward([Shape("N 1 28 28")] Tensor x)
                {
                    var h = pool.Forward(F.Relu(conv.Forward(x)));
                    return fc.Forward(h.{{method}}(h.Size(0), -1));
                }
            }
            """);
        if (!wrong) { Assert.Empty(d); return; }
        var e = Assert.Single(d);
        Assert.Contains("input [N, 864]", e.GetMessage());
    }

    [Fact]
    public async Task EveryIndependentErrorInAForwardIsReported()
    {
        var d = await Errors("""
            [Model]
            public partial class Net : Module
            {
                readonly Linear a = new(784, 128), b = new(100, 64), c = new(32, 10);
                readonly Conv2d conv1 = new(3, 8, 3), conv2 = new(4, 8, 3);
                public Tensor Forward([Shape("N 784")] Tensor x, [Shape("N 3 32 32")] Tensor image)
                {
                    var features = conv2.Forward(conv1.Forward(image));
                    return c.Forward(b.Forward(a.Forward(x)));
                }
            }
            """);
        Assert.Equal(new[] { "KLN0001", "KLN0001", "KLN0002" }, d.Select(e => e.Id).OrderBy(i => i));
        var messages = d.Select(e => e.GetMessage()).ToArray();
        Assert.Contains(messages, m => m.Contains("expected input[N, 8, 30, 30] to have 4 channels"));
        Assert.Contains(messages, m => m.Contains("input [N, 128], weight [64, 100]"));
        Assert.Contains(messages, m => m.Contains("input [N, 64], weight [10, 32]")); // after b's error, b still gives 64 features
    }
}
