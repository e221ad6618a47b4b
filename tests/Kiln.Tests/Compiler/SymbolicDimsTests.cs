using System;
using Kiln.Compiler;
using Kiln.Compiler.Shapes;
using Xunit;
using Sym = Kiln.Compiler.Shapes.ShapeRules<Kiln.Compiler.Shapes.SymbolicDim, Kiln.Compiler.Shapes.SymbolicDim, Kiln.Compiler.Shapes.SymbolicDims>;
using SymLayers = Kiln.Compiler.Shapes.LayerRules<Kiln.Compiler.Shapes.SymbolicDim, Kiln.Compiler.Shapes.SymbolicDim, Kiln.Compiler.Shapes.SymbolicDims>;

namespace Kiln.Tests.Compiler;

/// <summary>
/// Symbolic sizes as polynomials over names, and the shape rules read on them: the analyzers' reading of the same rules
/// the runtime reads on numbers.
/// </summary>
public class SymbolicDimsTests
{
    static readonly SymbolicDim N = SymbolicDim.Symbol("N"), M = SymbolicDim.Symbol("M"), H = SymbolicDim.Symbol("H");
    static SymbolicDim C(long v) => SymbolicDim.Constant(v);
    static SymbolicDim[] S(params object[] dims) => Array.ConvertAll(dims, d => d as SymbolicDim ?? C(Convert.ToInt64(d)));

    [Fact]
    public void EqualExpressionsAreEqualValuesInOneNormalForm()
    {
        Assert.Equal(N * 784, C(784) * N);
        Assert.Equal("784·N", (N * 784).ToString());
        Assert.Equal(M, N + M - N);
        Assert.Equal("N·N - 1", ((N + C(1)) * (N - C(1))).ToString());
        Assert.Equal("M + N + 3", (N + C(3) + M).ToString());
        Assert.NotEqual(N, M);
        Assert.True(C(5).TryConstant(out long five) && five == 5);
        Assert.False(N.TryConstant(out _));
        Assert.True(SymbolicDim.Unknown(1).HasUnknown && (SymbolicDim.Unknown(1) * N).HasUnknown && !N.HasUnknown);
    }

    [Fact]
    public void DivisionIsExactOrRefused()
    {
        Assert.True(SymbolicDim.TryDivide(N * 784, C(28), out var q) && q.Equals(N * 28));
        Assert.False(SymbolicDim.TryDivide(N * 784, C(756), out _));
        Assert.True(SymbolicDim.TryDivide(N * M * 6, N * 2, out var r) && r.Equals(M * 3));
        Assert.False(SymbolicDim.TryDivide(N + M, N, out _));
        Assert.False(SymbolicDim.TryDivide(N, C(0), out _));
    }

    [Fact]
    public void RulesReadOnNamesSpeakInNames()
    {
        var e = Assert.Throws<KilnException>(() => SymLayers.Linear(S(N, SymbolicDim.Symbol("hidden")), C(64), C(10)));
        Assert.Equal("linear: mat1 and mat2 shapes cannot be multiplied (input [N, hidden], weight [10, 64]: input's last dim must be in_features=64)", e.Message);
        Assert.Equal(S(N, 28, 28), Sym.Reshape("view", S(N, 784), S(-1, 28, 28)));
        var bad = Assert.Throws<KilnException>(() => Sym.Reshape("view", S(N, 784), S(-1, 28, 27)));
        Assert.Equal("view: shape [-1, 28, 27] is invalid for input of size 784·N (input shape [N, 784])", bad.Message);
        Assert.Equal(S(N + M, 3), Sym.Cat(new[] { S(N, 3), S(M, 3) }, 0));
        Assert.Equal(S(N, H * 16), Sym.Flatten(S(N, 4, H, 4), 1, -1));
        Assert.Equal(S(N, 5), Sym.Broadcast("add", S(N, 1), S(5)));
        Assert.Throws<KilnException>(() => Sym.Broadcast("add", S(N, 3), S(M, 3)));
    }

    [Fact]
    public void WindowsOverASymbolicHeightAreExactOrNamedByTheirExpression()
    {
        var same = new ConvGeometry("conv2d", 3, 3, 1, 1, 1, 1, 1, 1);
        Assert.Equal(S(N, 8, H, H), SymLayers.Conv2d(S(N, 3, H, H), C(8), C(3), same, 1));
        var stride2 = new ConvGeometry("conv2d", 3, 3, 1, 1, 1, 1, 2, 2);
        var y = SymLayers.Conv2d(S(N, 3, H, H), C(8), C(3), stride2, 1);
        Assert.Equal("(H - 1)/2 + 1", y[2].ToString());
        // The same expression twice is the same size: two branches downsampled alike still add.
        Assert.Equal(y, Sym.Broadcast("add", y, SymLayers.Conv2d(S(N, 3, H, H), C(8), C(3), stride2, 1)));
        var even = new ConvGeometry("max_pool2d", 2, 2, 1, 1, 0, 0, 2, 2);
        Assert.Equal(S(N, 8, SymbolicDim.Symbol("(H - 2)/2") + C(1), SymbolicDim.Symbol("(H - 2)/2") + C(1)), SymLayers.Pool2d("max_pool2d", S(N, 8, H, H), even, false));
    }

    public static TheoryData<string> ConcreteCases() => new() { "broadcast", "matmul", "reshape", "cat", "conv", "pool", "linear", "stack", "repeat" };

    /// <summary>On numbers the symbolic reading gives the runtime's shapes and the runtime's words, errors included.</summary>
    [Theory]
    [MemberData(nameof(ConcreteCases))]
    public void OnNumbersBothReadingsAgree(string rule)
    {
        foreach (bool fail in new[] { false, true })
        {
            Func<int[]> concrete;
            Func<SymbolicDim[]> symbolic;
            switch (rule)
            {
                case "broadcast":
                    concrete = () => ShapeRules.Broadcast("add", [4, 1, 3], fail ? [2, 5] : [5, 3]);
                    symbolic = () => Sym.Broadcast("add", S(4, 1, 3), fail ? S(2, 5) : S(5, 3));
                    break;
                case "matmul":
                    concrete = () => ShapeRules.Matmul([2, 3, 4], fail ? [5, 6] : [4, 6]);
                    symbolic = () => Sym.Matmul(S(2, 3, 4), fail ? S(5, 6) : S(4, 6));
                    break;
                case "reshape":
                    concrete = () => ShapeRules.Reshape("view", [6, 4], fail ? [-1, 5] : [-1, 8]);
                    symbolic = () => Sym.Reshape("view", S(6, 4), fail ? S(-1, 5) : S(-1, 8));
                    break;
                case "cat":
                    concrete = () => ShapeRules.Cat([[2, 3], fail ? [2, 4] : [5, 3]], 0);
                    symbolic = () => Sym.Cat(new[] { S(2, 3), fail ? S(2, 4) : S(5, 3) }, 0);
                    break;
                case "stack":
                    concrete = () => ShapeRules.Stack([[2, 3], fail ? [2, 4] : [2, 3]], 1);
                    symbolic = () => Sym.Stack(new[] { S(2, 3), fail ? S(2, 4) : S(2, 3) }, 1);
                    break;
                case "repeat":
                    concrete = () => ShapeRules.Repeat([2, 3], fail ? [2] : [2, 2, 3]);
                    symbolic = () => Sym.Repeat(S(2, 3), fail ? [2] : [2, 2, 3]);
                    break;
                case "conv":
                {
                    var g = new ConvGeometry("conv2d", 5, 5, 1, 1, 0, 0, 2, 2);
                    concrete = () => LayerRules.Conv2d([1, 3, fail ? 4 : 32, 32], [8, 3, 5, 5], [2, 2], [0, 0], [1, 1], 1, out _);
                    symbolic = () => SymLayers.Conv2d(S(1, 3, fail ? 4 : 32, 32), C(8), C(3), g, 1);
                    break;
                }
                case "pool":
                {
                    var g = new ConvGeometry("max_pool2d", 3, 3, 1, 1, 1, 1, 2, 2);
                    concrete = () => LayerRules.Pool2d("max_pool2d", fail ? [7, 7] : [2, 3, 8, 7], g, true);
                    symbolic = () => SymLayers.Pool2d("max_pool2d", fail ? S(7, 7) : S(2, 3, 8, 7), g, true);
                    break;
                }
                default:
                    concrete = () => LayerRules.Linear([2, 7], fail ? 6 : 7, 4);
                    symbolic = () => SymLayers.Linear(S(2, 7), C(fail ? 6 : 7), C(4));
                    break;
            }
            if (fail)
                Assert.Equal(Assert.Throws<KilnException>(concrete).Message, Assert.Throws<KilnException>(symbolic).Message);
            else
                Assert.Equal(Array.ConvertAll(concrete(), d => d.ToString()), Array.ConvertAll(symbolic(), d => d.ToString()));
        }
    }
}
