using System;
using Kiln;
using Xunit;

namespace Kiln.Tests.Compiler;

/// <summary>The comparison the compiled-kernel tests make against eager autograd: same shape, every element within rel 1e-5 (abs 1e-5 below 1).</summary>
static class KernelAssert
{
    public static void Close(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.ShapeArray, actual.ShapeArray);
        var e = expected.ToArray<float>();
        var a = actual.ToArray<float>();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5 * Math.Max(1, Math.Abs(e[i])), $"{what}[{i}]: fused {a[i]} vs eager {e[i]}");
    }
}
