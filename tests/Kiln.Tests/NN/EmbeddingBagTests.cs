using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>EmbeddingBag beyond its golden cases: float64 finite differences of the table and per-sample weights, bad input.</summary>
public class EmbeddingBagTests
{
    static Tensor Longs(params long[] v) => Tensor.From(v, v.Length);

    [Fact]
    public void GradientsPassFiniteDifferences()
    {
        var weight = Tensor.Randn([6, 3], DType.Float64, new Generator(71)).RequiresGrad_();
        var perSample = (Tensor.Rand([7], DType.Float64, new Generator(72)) + 0.5).Detach().RequiresGrad_();
        var input = Longs(1, 2, 4, 4, 0, 5, 3);
        var offsets = Longs(0, 3, 3, 5);
        Assert.True(Autograd.GradCheck(x => F.EmbeddingBag(input, x[0], offsets, "sum", x[1]), [weight, perSample]));
        Assert.True(Autograd.GradCheck(x => F.EmbeddingBag(input, x[0], offsets, "mean", paddingIdx: 4) + F.EmbeddingBag(input, x[0], offsets, "max"), [weight]));
    }

    [Fact]
    public void BadInputsNameTheFunction()
    {
        var w = Tensor.Zeros(5, 2);
        Assert.StartsWith("embedding_bag: index 5 at position 1 is out of range for a table of 5 rows", Assert.Throws<KilnException>(() => F.EmbeddingBag(Longs(1, 5), w, Longs(0))).Message);
        Assert.StartsWith("embedding_bag: offsets has to be a 1-D tensor but got None", Assert.Throws<KilnException>(() => F.EmbeddingBag(Longs(1, 2), w)).Message);
        Assert.StartsWith("embedding_bag: if input is 2-D, then offsets has to be None", Assert.Throws<KilnException>(() => F.EmbeddingBag(Tensor.From(new long[] { 1, 2 }, 1, 2), w, Longs(0))).Message);
        Assert.StartsWith("embedding_bag: offsets[0] has to be 0", Assert.Throws<KilnException>(() => F.EmbeddingBag(Longs(1, 2), w, Longs(1))).Message);
        Assert.StartsWith("embedding_bag: offsets must be non-decreasing", Assert.Throws<KilnException>(() => F.EmbeddingBag(Longs(1, 2), w, Longs(0, 3))).Message);
        Assert.StartsWith("embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum'",
            Assert.Throws<KilnException>(() => F.EmbeddingBag(Longs(1, 2), w, Longs(0), "mean", Tensor.Ones(2))).Message);
        Assert.StartsWith("embedding_bag: mode has to be one of sum, mean or max", Assert.Throws<KilnException>(() => F.EmbeddingBag(Longs(1, 2), w, Longs(0), "min")).Message);
        Assert.Equal("EmbeddingBag(5, 2, mode=sum, padding_idx=0)", new EmbeddingBag(5, 2, "sum", paddingIdx: 0).ToString());
    }
}
