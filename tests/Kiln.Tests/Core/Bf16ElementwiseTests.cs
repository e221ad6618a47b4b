using System;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// Elementwise ops on bfloat16 tensors run in one pass (each run widened into a float buffer, the float loop, the result
/// rounded as it is stored). Their bits must equal the float path's: both operands cast to float32, the op in float32,
/// the result rounded to bfloat16 — for contiguous, broadcast, strided and scalar operands, runs shorter and longer than
/// the buffer, and tensors big enough to be split among threads.
/// </summary>
public class Bf16ElementwiseTests
{
    static Tensor Bf16(int[] shape, int seed)
    {
        var t = Tensor.Randn(shape, DType.Float32, new Generator((ulong)seed)) * 3.0;
        return t.To(DType.BFloat16);
    }

    static void SameBits(Tensor want, Tensor got, string what)
    {
        Assert.Equal(DType.BFloat16, got.DType);
        Assert.Equal(want.ShapeArray, got.ShapeArray);
        var w = want.ToArray<BFloat16>();
        var g = got.ToArray<BFloat16>();
        for (int i = 0; i < w.Length; i++)
            Assert.True(w[i].Bits == g[i].Bits, $"{what} [{i}]: 0x{g[i].Bits:X4} ({g[i].ToSingle():R}), want 0x{w[i].Bits:X4} ({w[i].ToSingle():R})");
    }

    /// <summary>The float path written out: operands to float32, the op, the result rounded to bfloat16.</summary>
    static Tensor ThroughFloat(Func<Tensor, Tensor, Tensor> op, Tensor a, Tensor b)
    {
        using var fa = a.To(DType.Float32);
        using var fb = b.To(DType.Float32);
        using var y = op(fa, fb);
        return y.To(DType.BFloat16);
    }

    public static TheoryData<string> BinaryOps => new() { "add", "sub", "mul", "div", "maximum", "minimum", "swiglu", "pow" };

    static Func<Tensor, Tensor, Tensor> Binary(string name) => name switch
    {
        "add" => (a, b) => a + b,
        "sub" => (a, b) => a - b,
        "mul" => (a, b) => a * b,
        "div" => (a, b) => a / b,
        "maximum" => (a, b) => a.Maximum(b),
        "minimum" => (a, b) => a.Minimum(b),
        "swiglu" => F.SwiGlu,
        "pow" => (a, b) => a.Abs().Pow(b),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void BinaryOpsGiveTheFloatPathsBits(string name)
    {
        var op = Binary(name);
        (int[] A, int[] B)[] shapes =
        [
            ([7], [7]),                     // shorter than a vector
            ([1000], [1000]),               // several buffers and a tail
            ([2, 3, 300], [300]),           // a row broadcast along the leading dims
            ([4, 1, 5], [3, 1]),            // both broadcast
            ([3, 700, 50], [3, 700, 50]),   // 105,000 elements: split among threads
        ];
        int seed = 1;
        foreach (var (sa, sb) in shapes)
        {
            using var a = Bf16(sa, seed++);
            using var b = Bf16(sb, seed++);
            using var want = ThroughFloat(op, a, b);
            using var got = op(a, b);
            SameBits(want, got, $"{name} {string.Join('x', sa)} with {string.Join('x', sb)}");
        }
        // Strided operands: a transposed view, and a slice with a step.
        using var m = Bf16([40, 33], 20);
        using var n = Bf16([33, 40], 21);
        using var mt = m.T;
        using (var want = ThroughFloat(op, mt, n))
        using (var got = op(mt, n))
            SameBits(want, got, $"{name} transposed");
    }

    [Fact]
    public void ScalarOperandsComputeInFloatAsThePromotedPathDoes()
    {
        using var a = Bf16([3, 333], 5);
        using var fa = a.To(DType.Float32);
        // A wrapped number stays a float value (0.1 is not rounded to bfloat16 before the add); a 0-dim float64 tensor too.
        using (var want = (fa + 0.1).To(DType.BFloat16)) using (var got = a + 0.1) SameBits(want, got, "a + 0.1");
        using (var want = (2.5 - fa).To(DType.BFloat16)) using (var got = 2.5 - a) SameBits(want, got, "2.5 - a");
        using var s = Tensor.Scalar(0.3);
        using (var want = (fa * s).To(DType.BFloat16)) using (var got = a * s) SameBits(want, got, "a * 0-dim float64");
        using var one = Bf16([1], 9);
        using (var want = ThroughFloat((x, y) => x / y, a, one)) using (var got = a / one) SameBits(want, got, "a / [1]");
    }

    public static TheoryData<string> UnaryOps => new() { "neg", "exp", "tanh", "sigmoid", "silu", "gelu", "erf", "sqrt", "log1p" };

    static Func<Tensor, Tensor> Unary(string name) => name switch
    {
        "neg" => t => -t,
        "exp" => t => t.Exp(),
        "tanh" => t => t.Tanh(),
        "sigmoid" => t => t.Sigmoid(),
        "silu" => F.Silu,
        "gelu" => t => F.Gelu(t),
        "erf" => t => t.Erf(),
        "sqrt" => t => t.Abs().Sqrt(),
        "log1p" => t => t.Abs().Log1p(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void UnaryOpsGiveTheFloatPathsBits(string name)
    {
        var op = Unary(name);
        foreach (var shape in new[] { new[] { 5 }, new[] { 1000 }, new[] { 6, 500, 40 } })
        {
            using var x = Bf16(shape, shape.Length);
            using var fx = x.To(DType.Float32);
            using var fy = op(fx);
            using var want = fy.To(DType.BFloat16);
            using var got = op(x);
            SameBits(want, got, $"{name} {string.Join('x', shape)}");
        }
        using var m = Bf16([37, 41], 7);
        using var mt = m.T;
        using var fmt = mt.To(DType.Float32);
        using var fmy = op(fmt);
        using var wantT = fmy.To(DType.BFloat16);
        using var gotT = op(mt);
        SameBits(wantT, gotT, $"{name} transposed");
    }

    [Fact]
    public void NanInfinityAndOverflowRoundAsTheCastDoes()
    {
        float[] v = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3e38f, -3e38f, 0f, -0f, 1e-40f];
        using var a = Tensor.From(v, v.Length).To(DType.BFloat16);
        using var fa = a.To(DType.Float32);
        // 3e38 + 3e38 overflows to infinity in float and stays infinite; NaN stays NaN.
        using (var want = (fa + fa).To(DType.BFloat16)) using (var got = a + a) SameBits(want, got, "a + a");
        using (var want = (fa * fa).To(DType.BFloat16)) using (var got = a * a) SameBits(want, got, "a * a");
        var sum = (a + a).ToArray<BFloat16>();
        Assert.True(float.IsNaN(sum[0].ToSingle()));
        Assert.Equal(float.PositiveInfinity, sum[3].ToSingle());
    }
}
