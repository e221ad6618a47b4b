using Kiln.Compiler;
using Kiln.Compiler.Shapes;
using Xunit;

namespace Kiln.Tests.Compiler;

/// <summary>Symbolic dims as stand-in primes: the concrete shape rules decide symbolic shapes, and messages come back with the names.</summary>
public class SymbolicDimsTests
{
    [Fact]
    public void EqualNamesGetEqualSizesAndDifferentNamesDifferentOnes()
    {
        var dims = new SymbolicDims();
        int n = dims.Of("N"), c = dims.Of("inputSize");
        Assert.Equal(n, dims.Of("N"));
        Assert.NotEqual(n, c);
        Assert.True(n > 7000 && c > 7000);
        Assert.Equal("N", dims.Name(n));
        Assert.Equal("784", dims.Name(784));
    }

    [Fact]
    public void ARuleMessageIsRenderedWithTheNamesAndProducts()
    {
        var dims = new SymbolicDims();
        int n = dims.Of("N"), hidden = dims.Of("hidden");
        var e = Assert.Throws<KilnException>(() => LayerRules.Linear(new[] { n, hidden }, 64, 10));
        Assert.Equal("linear: mat1 and mat2 shapes cannot be multiplied (input [N, hidden], weight [10, 64]: input's last dim must be in_features=64)", dims.Render(e.Message));
        Assert.Equal("784·N elements", dims.Render($"{784L * n} elements"));
        Assert.Equal("layer2 and 3.5 stay", dims.Render("layer2 and 3.5 stay"));
    }
}
