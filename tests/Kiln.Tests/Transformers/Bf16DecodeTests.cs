using System;
using System.IO;
using Kiln.IO;
using Kiln.NN;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// bfloat16 weights: the decode-shaped Linear (up to 256 rows: weights read as stored, widened in registers by the
/// float32 few-rows kernel) against the same product in float32 of the same bf16 values, row counts to the limit and
/// past it, odd widths (vector body and tail);
/// a bf16 Llama loaded with <c>FromPretrained(dir, BFloat16)</c> decodes the fixture's greedy tokens.
/// </summary>
public class Bf16DecodeTests
{
    [Theory]
    [InlineData(1, 13, 37)]
    [InlineData(3, 64, 40)]
    [InlineData(8, 96, 17)]
    [InlineData(16, 24, 64)]
    [InlineData(37, 200, 70)]     // 512-bit lanes with a 8-element tail, a row tail (37 = 9 x 4 + 1), an output tail
    [InlineData(256, 130, 33)]    // the limit of the few-rows route
    [InlineData(257, 130, 33)]    // past it: the general GEMM
    public void TheBf16LinearEqualsTheFloat32ProductOfTheSameValues(int rows, int inFeatures, int outFeatures)
    {
        var g = new Generator(11);
        using var x = Tensor.Randn([rows, inFeatures], generator: g).To(DType.BFloat16);
        using var w = Tensor.Randn([outFeatures, inFeatures], generator: g).To(DType.BFloat16);
        using var b = Tensor.Randn([outFeatures], generator: g).To(DType.BFloat16);
        using var _ = Autograd.NoGrad();
        using var fast = F.Linear(x, w, b);
        Assert.Equal(DType.BFloat16, fast.DType);
        using var reference = F.Linear(x.To(DType.Float32), w.To(DType.Float32), b.To(DType.Float32));
        var got = fast.To(DType.Float32).ToArray<float>();
        var want = reference.ToArray<float>();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= 1e-2 * (1 + Math.Abs(want[i])), $"[{i}] {got[i]} vs {want[i]}");   // one bf16 rounding of the result
    }

    [Fact]
    public void ABf16LlamaDecodesTheFixturesGreedyTokens()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "golden", "hf", "llama_gqa");
        var expected = SafeTensors.Load(Path.Combine(dir, "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(dir, DType.BFloat16);
        var ids = expected["input_ids"].Narrow(0, 0, 1);   // the unpadded row
        var generated = model.Generate(ids, new GenerationConfig { MaxNewTokens = 6 }).ToArray<long>();
        var want = expected["greedy"].Narrow(0, 0, 1).ToArray<long>();
        // bf16 rounds every weight: the first new tokens must agree (random tiny models have close runner-ups later).
        Assert.Equal(want[..11], generated[..11]);
    }
}
