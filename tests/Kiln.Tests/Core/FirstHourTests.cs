using System;
using System.ComponentModel;
using System.Linq;
using System.Reflection;
using Kiln.Data;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>What a PyTorch user meets in the first hour: printable shapes, errors that name their op and say what to do, an IntelliSense list without internals.</summary>
public class FirstHourTests
{
    [Fact]
    public void ShapesPrintLikeTorchSize()
    {
        using var x = Tensor.Zeros(2, 3);
        Assert.Equal("Size([2, 3])", x.Shape.ToString());
        Assert.Equal("Size([])", Tensor.Scalar(1.0).Shape.ToString());
        Assert.Equal(new Size(2, 3), x.Shape);
        Assert.True(x.Shape == new Size(2, 3));
        Assert.False(x.Shape == new Size(3, 2));
        Assert.Equal(6, x.Shape.Numel());
        Assert.Equal(new[] { 2, 3 }, x.Shape);
        int[] dims = x.Shape;       // where an API wants an array
        dims[0] = 9;
        Assert.Equal(2, x.Shape[0]); // a copy: the tensor's sizes cannot be changed through it
        using var y = Tensor.Ones(x.Shape);
        Assert.Equal(x.Shape, y.Shape);
    }

    [Fact]
    public void ALinearWithIntegerInputIsNamedAsTheLinear()
    {
        var lin = new Linear(3, 2);
        var e = Assert.Throws<KilnException>(() => lin.Call(Tensor.From(new long[] { 1, 2, 3 }, 1, 3)));
        Assert.StartsWith("linear:", e.Message);
        Assert.Contains("Int64", e.Message);
        Assert.DoesNotContain("addmm", e.Message);
    }

    [Fact]
    public void FloatClassTargetsGetTheInt64Hint()
    {
        var e = Assert.Throws<KilnException>(() => F.CrossEntropy(Tensor.Randn(4, 3), Tensor.From(new float[] { 0, 1, 2, 1 }, 4)));
        Assert.Contains("Class-index targets must be int64", e.Message);
    }

    [Fact]
    public void RaggedSamplesGetThePaddingHint()
    {
        var e = Assert.Throws<KilnException>(() => Collate.Tensors([Tensor.Ones(3), Tensor.Ones(4)]));
        Assert.Contains("Collate.PadSequences", e.Message);
        Assert.Contains("[4]", e.Message);
    }

    [Fact]
    public void UseAfterItsScopeSaysHowToKeepATensor()
    {
        Tensor kept;
        using (Tensor.Scope()) kept = Tensor.Ones(3);
        var e = Assert.Throws<ObjectDisposedException>(() => kept.Add(1.0));
        Assert.Contains("scope.Keep(t)", e.Message);
    }

    [Fact]
    public void InternalsAreHiddenFromIntelliSense()
    {
        var kiln = typeof(Tensor).Assembly;
        string[] hidden = ["Kiln.Gpu.Kernels", "Kiln.Kernels", "Kiln.Compilation", "Kiln.Gpu"];
        var visible = kiln.GetExportedTypes()
            .Where(t => !t.IsNested && t.Namespace is { } ns && hidden.Any(h => ns == h || ns.StartsWith(h + ".")))
            .Where(t => t != typeof(Kiln.Compilation.CompileMode))
            .Where(t => t.GetCustomAttribute<EditorBrowsableAttribute>()?.State != EditorBrowsableState.Never)
            .Select(t => t.FullName).ToList();
        Assert.Empty(visible);
        Assert.Equal(EditorBrowsableState.Never, typeof(Kiln.Memory.Storage).GetCustomAttribute<EditorBrowsableAttribute>()?.State);
        Assert.Equal(EditorBrowsableState.Never, typeof(Tensor).GetProperty("Storage")!.GetCustomAttribute<EditorBrowsableAttribute>()?.State);
    }
}

public class NestedArrayTests
{
    [Fact]
    public void ToNDArrayKeepsTheShapeAndRoundTrips()
    {
        using var t = Tensor.Arange(0.0, 24.0, 1.0).Reshape(2, 3, 4);
        var a = t.ToArray3D<float>();
        Assert.Equal(new[] { 2, 3, 4 }, new[] { a.GetLength(0), a.GetLength(1), a.GetLength(2) });
        Assert.Equal(23f, a[1, 2, 3]);
        Assert.Equal(6f, a[0, 1, 2]);
        using var back = Tensor.From(a);
        Assert.True(back.Equal(t));
        using var m = Tensor.From(new long[] { 1, 2, 3, 4 }, 2, 2);
        Assert.Equal(new long[,] { { 1, 2 }, { 3, 4 } }, m.ToArray2D<long>());
        Assert.Equal(new[] { 7.5 }, (double[])Tensor.Scalar(7.5).ToNDArray<double>());
        Assert.Throws<KilnException>(() => m.ToArray3D<long>());
    }

    [Fact]
    public void EinsumRefusesBadSubscripts()
    {
        using var a = Tensor.Zeros(3, 3);
        using var r = Tensor.Zeros(3, 4);
        Assert.Contains("sizes 3 and 4", Assert.Throws<KilnException>(() => Tensor.Einsum("ii->i", r)).Message);
        Assert.Contains("'...'", Assert.Throws<KilnException>(() => Tensor.Einsum("i..j", a)).Message);
        Assert.Contains("do not broadcast", Assert.Throws<KilnException>(() => Tensor.Einsum("...i,...i->...", Tensor.Zeros(2, 3), Tensor.Zeros(4, 3))).Message);
        Assert.Contains("3 letters and '...'", Assert.Throws<KilnException>(() => Tensor.Einsum("ijk...", a)).Message);
        Assert.Contains("operand", Assert.Throws<KilnException>(() => Tensor.Einsum("ij,jk->ik", a)).Message);
        Assert.Contains("size 3", Assert.Throws<KilnException>(() => Tensor.Einsum("ij,jk->ik", a, Tensor.Zeros(4, 2))).Message);
    }
}
