using System;
using System.Runtime.Intrinsics;
using Kiln;
using Kiln.Compilation;
using Xunit;

namespace Kiln.Tests.Compiler;

/// <summary>How a fused group reads values that broadcast against each other.</summary>
[Collection("Allocator")]
public class GroupBroadcastTests
{
    [Theory]
    [InlineData(new[] { 4, 6 }, 1, 24, true)]      // the group's own shape
    [InlineData(new[] { 6 }, 1, 6, false)]         // a trailing block
    [InlineData(new[] { 4, 1 }, 6, 4, false)]      // a leading block
    [InlineData(new[] { 1 }, 1, 1, false)]         // one number
    public void EachValueIsReadThroughDivAndMod(int[] shape, int div, int mod, bool full)
    {
        var values = new[] { Tensor.Randn(4, 6), Tensor.Randn(shape) };
        var plan = GroupBroadcast.Plan("mul", values);
        Assert.Equal(new[] { 4, 6 }, plan.Shape);
        Assert.Equal((div, mod, full), (plan.Maps[1].Div, plan.Maps[1].Mod, plan.Maps[1].Full));
        // Every group element reads the value PyTorch's broadcasting gives it.
        var expanded = values[1].Expand(4, 6).Contiguous().ToArray<float>();
        var own = values[1].ToArray<float>();
        for (int i = 0; i < 24; i++) Assert.Equal(expanded[i], own[plan.Maps[1].Index(i)]);
        // Vector loads at every start, across block edges.
        for (int i = 0; i + 8 <= 24; i++)
        {
            var v = VectorMath.Load(own, i, plan.Maps[1]);
            for (int k = 0; k < 8; k++) Assert.Equal(expanded[i + k], v.GetElement(k));
        }
    }

    [Fact]
    public void ABroadcastInsideTheBlockIsReadFromAnExpandedCopyAndItsGradientSummedBack()
    {
        var values = new[] { Tensor.Randn(3, 5, 4), Tensor.Randn(3, 1, 4) };
        var original = values[1];
        var plan = GroupBroadcast.Plan("add", values);
        Assert.Equal(new[] { 3, 5, 4 }, values[1].ShapeArray);
        Assert.Equal(original.Expand(3, 5, 4).Contiguous().ToArray<float>(), values[1].ToArray<float>());
        var grad = plan.SumTo(Tensor.Ones(3, 5, 4), 1);
        Assert.Equal(new[] { 3, 1, 4 }, grad.ShapeArray);
        Assert.All(grad.ToArray<float>(), v => Assert.Equal(5f, v));
    }

    [Fact]
    public void ShapesThatDoNotBroadcastNameBoth()
    {
        var e = Assert.Throws<KilnException>(() => GroupBroadcast.Plan("dropout → add", new[] { Tensor.Randn(4, 6), Tensor.Randn(5) }));
        Assert.Contains("[4, 6]", e.Message);
        Assert.Contains("[5]", e.Message);
    }
}
