using System;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// F.RotaryEmbedding (the rope op): the fused float32 and bfloat16 passes equal the op-by-op formula bit for bit (bf16
/// rounded after each op) on strided inputs and broadcast tables; bad shapes name the op and the shapes. Values and gradients against
/// PyTorch are nn.json's rope cases (FunctionalGoldenTests), float64 finite differences are GradCheckTests' "rope"; the
/// input's gradient (a rope of the gradient with the sin table's halves swapped and negated) equals the formula's bit for
/// bit, also for tables broadcast along the last dim and scalar ones.
/// </summary>
public class RotaryEmbeddingTests
{
    static Tensor Formula(Tensor x, Tensor cos, Tensor sin)
    {
        int half = x.Size(-1) / 2;
        return x * cos + Tensor.Cat([-x.Narrow(-1, half, half), x.Narrow(-1, 0, half)], -1) * sin;
    }

    [Theory]
    [InlineData(64)]   // vector halves
    [InlineData(22)]   // one vector step and a scalar tail per half
    [InlineData(6)]    // scalar only
    public void TheFusedPassEqualsTheFormulaBitForBit(int d)
    {
        var g = new Generator(9);
        // x as attention makes it: [b, s, h, d] viewed as [b, h, s, d] (not contiguous); tables [b, 1, s, d] and [s, d].
        using var x = Tensor.Randn([2, 5, 3, d], generator: g).Transpose(1, 2);
        using var cos = Tensor.Randn([2, 1, 5, d], generator: g);
        using var sin = Tensor.Randn([5, d], generator: g);
        using var _ = Autograd.NoGrad();
        Assert.Equal(Formula(x, cos, sin).ToArray<float>(), F.RotaryEmbedding(x, cos, sin).ToArray<float>());
    }

    [Theory]
    [InlineData(64)]   // two 16-wide steps per half
    [InlineData(40)]   // one step and a scalar tail
    [InlineData(8)]    // scalar only
    public void Bf16RoundsAsTheFormulaRounds(int d)
    {
        var g = new Generator(3);
        using var x = Tensor.Randn([2, 4, 3, d], generator: g).Transpose(1, 2).To(DType.BFloat16);
        using var cos = Tensor.Randn([3, 1, d], generator: g).To(DType.BFloat16);
        using var sin = Tensor.Randn([3, 1, d], generator: g).To(DType.BFloat16);
        using var y = F.RotaryEmbedding(x, cos, sin);
        Assert.Equal(DType.BFloat16, y.DType);
        Assert.Equal(Array.ConvertAll(Formula(x, cos, sin).ToArray<BFloat16>(), b => b.Bits), Array.ConvertAll(y.ToArray<BFloat16>(), b => b.Bits));
    }

    [Fact]
    public void OneNodeRecordsTheOp()
    {
        using var x = Tensor.Randn(2, 4).RequiresGrad_();
        using var y = F.RotaryEmbedding(x, Tensor.Ones(4), Tensor.Zeros(4));
        Assert.Equal("rope", y.GradFn!.Op);
        Assert.Equal(x.ToArray<float>(), y.ToArray<float>());   // cos 1, sin 0: the identity rotation
    }

    [Fact]
    public void BadShapesNameTheOpAndTheShapes()
    {
        var odd = Assert.Throws<KilnException>(() => F.RotaryEmbedding(Tensor.Zeros(2, 5), Tensor.Zeros(5), Tensor.Zeros(5)));
        Assert.Equal("rope: x's last dim must be even (its two halves rotate together), got shape [2, 5]", odd.Message);
        Assert.Equal(KilnErrorKind.Shape, odd.Kind);
        var wide = Assert.Throws<KilnException>(() => F.RotaryEmbedding(Tensor.Zeros(3, 4), Tensor.Zeros(2, 3, 4), Tensor.Zeros(4)));
        Assert.Equal("rope: cos of shape [2, 3, 4] must broadcast to x's shape [3, 4]", wide.Message);
        var mismatch = Assert.Throws<KilnException>(() => F.RotaryEmbedding(Tensor.Zeros(3, 4), Tensor.Zeros(4), Tensor.Zeros(5, 4)));
        Assert.Contains("rope:", mismatch.Message);
        Assert.Contains("[5, 4]", mismatch.Message);
    }

    [Theory]
    [InlineData(new[] { 5, 16 }, new[] { 5, 16 })]   // full tables: the halves swap
    [InlineData(new[] { 5, 1 }, new[] { 1, 5, 1 })]   // one value per position for both halves
    [InlineData(new int[0], new int[0])]               // scalar tables
    public void TheInputGradientEqualsTheFormulasBitForBit(int[] cosShape, int[] sinShape)
    {
        var g = new Generator(5);
        using var x0 = Tensor.Randn([2, 3, 5, 16], generator: g);
        using var cos = Tensor.Randn(cosShape, generator: g);
        using var sin = Tensor.Randn(sinShape, generator: g);
        using var w = Tensor.Randn([2, 3, 5, 16], generator: g);
        float[] Grad(Func<Tensor, Tensor> f)
        {
            using var x = x0.Detach().RequiresGrad_();
            using var loss = (f(x) * w).Sum();
            return Autograd.Grad(loss, x).ToArray<float>();
        }
        Assert.Equal(Grad(x => Formula(x, cos, sin)), Grad(x => F.RotaryEmbedding(x, cos, sin)));
    }
}
