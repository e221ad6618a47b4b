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

    [Theory]
    [InlineData("sum")]
    [InlineData("mean")]
    [InlineData("max")]
    public void WideRowsEqualEachBagsLookupsFolded(string mode)
    {
        // 37 columns: the kernel's vector body and its scalar tail (the golden cases' tables are narrower than a vector).
        var weight = Tensor.Randn([50, 37], DType.Float32, new Generator(73)).RequiresGrad_();
        long[] entries = [3, 17, 3, 49, 0, 22, 8, 8, 31, 12, 40, 5];
        long[] offsets = [0, 4, 4, 9];
        var perSample = mode == "sum" ? Tensor.Rand([entries.Length], DType.Float32, new Generator(74)).RequiresGrad_() : null;
        var bags = F.EmbeddingBag(Longs(entries), weight, Longs(offsets), mode, perSample);
        var upstream = Tensor.Randn([4, 37], DType.Float32, new Generator(75));
        (bags * upstream).Sum().Backward();

        var table = weight.Detach().RequiresGrad_();
        var weights = perSample?.Detach().RequiresGrad_();
        var rows = new System.Collections.Generic.List<Tensor>();
        for (int b = 0; b < offsets.Length; b++)
        {
            int start = (int)offsets[b], end = b + 1 < offsets.Length ? (int)offsets[b + 1] : entries.Length;
            if (start == end) { rows.Add(Tensor.Zeros(37)); continue; }
            var picked = table.IndexSelect(0, Longs(entries[start..end]));
            if (weights is not null) picked = picked * weights.Narrow(0, start, end - start).Unsqueeze(1);
            rows.Add(mode == "max" ? picked.Max(0).Values : mode == "mean" ? picked.Mean(0) : picked.Sum(0));
        }
        var expected = Tensor.Stack(rows);
        (expected * upstream).Sum().Backward();
        AssertClose(expected, bags);
        AssertClose(table.Grad!, weight.Grad!);
        if (weights is not null) AssertClose(weights.Grad!, perSample!.Grad!);

        static void AssertClose(Tensor want, Tensor got)
        {
            float[] w = want.ToArray<float>(), g = got.ToArray<float>();
            Assert.Equal(w.Length, g.Length);
            for (int i = 0; i < w.Length; i++) Assert.True(System.Math.Abs(w[i] - g[i]) <= 1e-5 * System.Math.Abs(w[i]) + 1e-6, $"[{i}]: {g[i]} vs {w[i]}");
        }
    }

    [Fact]
    public void WideRowGradientsPassFiniteDifferences()
    {
        var weight = Tensor.Randn([9, 13], DType.Float64, new Generator(76)).RequiresGrad_();
        var perSample = (Tensor.Rand([7], DType.Float64, new Generator(77)) + 0.5).Detach().RequiresGrad_();
        var input = Longs(1, 2, 8, 4, 0, 5, 3);
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
