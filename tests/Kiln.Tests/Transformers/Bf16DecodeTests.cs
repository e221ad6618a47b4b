using System;
using System.IO;
using System.Linq;
using Kiln.IO;
using Kiln.NN;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// bfloat16 weights: the no-grad Linear (weights read as stored — widened in registers by the few-rows kernel below 64
/// rows, widened as they are packed by the blocked GEMM from 64) against the same product in float32 of the same bf16
/// values, row counts on both sides of the switch, odd widths (vector body and tail, partial panels);
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
    [InlineData(63, 130, 33)]     // the last few-rows count
    [InlineData(64, 130, 33)]     // blocked: K = 130 leaves a transposed 8 x 8 block's tail, N = 33 a partial panel
    [InlineData(257, 2051, 70)]   // blocked, K in several blocks
    [InlineData(300, 64, 1100)]   // blocked, N in several blocks of B
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

    [Theory]
    [InlineData(8, 64, 36)]
    [InlineData(4, 2048, 768)]    // a batch-4 step's down projection
    [InlineData(8, 1024, 36)]     // nine quads of outputs: on two threads split 4 + 5, each share whole tiles
    [InlineData(12, 96, 40)]
    public void WholeTilesTakeTheBf16RowsAsStoredOnOneAndTwoThreads(int rows, int inFeatures, int outFeatures)
    {
        // Row counts in fours, outputs in fours and K in 32-element chunks run only the dot-product tiles, which read the
        // bf16 rows: no float32 copy is made. Two threads split the outputs at a multiple of four and give the same bits.
        Assert.True(Kiln.Kernels.Gemm.Sgemm.TakesBf16RowsAsStored(rows, outFeatures, inFeatures) || !Kiln.Kernels.Gemm.FewRowsTiles.IsSupported);
        Assert.False(Kiln.Kernels.Gemm.Sgemm.TakesBf16RowsAsStored(rows + 1, outFeatures, inFeatures) && rows + 1 < Kiln.Kernels.Gemm.Sgemm.Bf16BlockedRows);
        var g = new Generator(13);
        using var x = Tensor.Randn([rows, inFeatures], generator: g).To(DType.BFloat16);
        using var w = Tensor.Randn([outFeatures, inFeatures], generator: g).To(DType.BFloat16);
        using var b = Tensor.Randn([outFeatures], generator: g).To(DType.BFloat16);
        using var _ = Autograd.NoGrad();
        using var reference = F.Linear(x.To(DType.Float32), w.To(DType.Float32), b.To(DType.Float32));
        var want = reference.ToArray<float>();
        int saved = Threads.Count;
        try
        {
            float[]? first = null;
            foreach (int threads in new[] { 1, 2 })
            {
                Threads.Count = threads;
                using var fast = F.Linear(x, w, b);
                var got = fast.To(DType.Float32).ToArray<float>();
                for (int i = 0; i < want.Length; i++)
                    Assert.True(Math.Abs(got[i] - want[i]) <= 1e-2 * (1 + Math.Abs(want[i])), $"{threads} threads [{i}] {got[i]} vs {want[i]}");
                if (first is null) first = got;
                else Assert.Equal(first, got);
            }
        }
        finally { Threads.Count = saved; }
    }

    [Fact]
    public void LeadingDimsAndStridedRowsGiveTheSameBf16Linear()
    {
        // Leading dims fold into rows; a transposed (strided) input is copied dense first and gives its contiguous copy's
        // result bit for bit. Both equal the float32 product of the same values within one bf16 rounding, and keep the
        // input's leading dims.
        var g = new Generator(12);
        using var w = Tensor.Randn([24, 40], generator: g).To(DType.BFloat16);
        using var x3 = Tensor.Randn([2, 3, 40], generator: g).To(DType.BFloat16);
        using var xt = Tensor.Randn([40, 5], generator: g).To(DType.BFloat16);
        using var strided = xt.T;
        using var _ = Autograd.NoGrad();
        foreach (var x in new[] { x3, strided })
        {
            using var fast = F.Linear(x, w);
            using var reference = F.Linear(x.To(DType.Float32), w.To(DType.Float32));
            Assert.Equal(reference.ShapeArray, fast.ShapeArray);
            var got = fast.To(DType.Float32).ToArray<float>();
            var want = reference.ToArray<float>();
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(got[i] - want[i]) <= 1e-2 * (1 + Math.Abs(want[i])), $"[{i}] {got[i]} vs {want[i]}");
        }
        using var dense = strided.Contiguous();
        using var fromView = F.Linear(strided, w);
        using var fromDense = F.Linear(dense, w);
        Assert.Equal(Array.ConvertAll(fromDense.ToArray<BFloat16>(), v => v.Bits), Array.ConvertAll(fromView.ToArray<BFloat16>(), v => v.Bits));
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

    /// <summary>
    /// A left-padded batch in bfloat16: its masks hold bfloat16's lowest finite value, as transformers' do (float.MinValue
    /// rounds to -inf there, a padded query then saw only -inf, and its NaN reached every row in the next layer through
    /// the zero-weighted values). Both rows give transformers' float32 logits within bf16's rounding and its first tokens.
    /// </summary>
    [Theory]
    [InlineData("llama_gqa")]
    [InlineData("qwen2")]
    [InlineData("gpt2")]
    public void ALeftPaddedBf16BatchGeneratesTheFixturesFirstTokens(string name)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "golden", "hf", name);
        var expected = SafeTensors.Load(Path.Combine(dir, "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(dir, DType.BFloat16);
        var ids = expected["input_ids"];
        var mask = expected["attention_mask"];
        var keep = mask.ToArray<long>();
        int n = ids.Size(1), pads = Array.IndexOf(keep, 1L, n) - n;
        Assert.True(keep[..n].All(k => k == 1) && pads > 0, "the fixture's second row is the left-padded one");
        using (Autograd.NoGrad())
        {
            // Against transformers' float32 logits at the real positions: bf16 weights and activations, rounded at every op.
            var got = model.Forward(ids, mask).To(DType.Float32).ToArray<float>();
            var reference = expected["logits"].ToArray<float>();
            int vocab = reference.Length / (2 * n);
            var worst = new double[2];
            for (int i = 0; i < reference.Length; i++)
            {
                Assert.True(float.IsFinite(got[i]), $"{name} logit [{i}] is {got[i]}");
                if (keep[i / vocab] == 1) worst[i / vocab / n] = Math.Max(worst[i / vocab / n], Math.Abs(got[i] - reference[i]) / (1 + Math.Abs(reference[i])));
            }
            // The unpadded row is 4–7 % off (relative to 1 + |value|) in these tiny random models; the padded row no more.
            Assert.True(worst[0] <= 0.1 && worst[1] <= 0.1, $"{name}: bf16 logits {worst[0]:G3} / {worst[1]:G3} off transformers' float32 ones (relative to 1 + |value|)");
        }
        var generated = model.Generate(ids, new GenerationConfig { MaxNewTokens = 6 }, mask);
        var want = expected["greedy"];
        // bf16 rounds every weight: the first two new tokens must agree (random tiny models have close runner-ups later).
        for (int row = 0; row < 2; row++)
            Assert.Equal(want.Narrow(0, row, 1).ToArray<long>()[..(n + 2)], generated.Narrow(0, row, 1).ToArray<long>()[..(n + 2)]);
    }

    /// <summary>BERT in bfloat16 with a padded batch: finite states, the padded row's real positions as the row alone.</summary>
    [Fact]
    public void APaddedBf16BertBatchIsFiniteAndAsTheRowAlone()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "golden", "hf", "bert");
        var expected = SafeTensors.Load(Path.Combine(dir, "expected.safetensors"));
        var model = (BertModel)AutoModel.FromPretrained(dir, DType.BFloat16);
        var ids = expected["input_ids"];
        var mask = expected["attention_mask"];
        var keep = mask.ToArray<long>();
        int n = ids.Size(1), row = keep[..n].All(k => k == 1) ? 1 : 0, real = keep.Skip(row * n).Take(n).Count(k => k == 1);
        Assert.True(real < n, "the fixture has a padded row");
        using var _ = Autograd.NoGrad();
        var batch = model.Forward(ids, mask).LastHiddenState.To(DType.Float32);
        Assert.All(batch.ToArray<float>(), v => Assert.True(float.IsFinite(v)));
        var alone = model.Forward(ids.Narrow(0, row, 1).Narrow(1, 0, real)).LastHiddenState.To(DType.Float32).ToArray<float>();
        var padded = batch.Narrow(0, row, 1).Narrow(1, 0, real).ToArray<float>();
        for (int i = 0; i < alone.Length; i++)
            Assert.True(Math.Abs(padded[i] - alone[i]) <= 2e-2 * (1 + Math.Abs(alone[i])), $"padded row state [{i}]: {padded[i]} vs {alone[i]} alone");
    }

    [Theory]
    [InlineData(64)]
    [InlineData(37)]    // a 32-wide step, no 8-wide one, a scalar tail
    public void ABf16CacheAttendsAsAFloat32CacheOfTheSameValues(int d)
    {
        // A decode step over a bf16 cache reads it widened in place; a float32 cache of the same (bf16-exact) values must
        // give the same bits, and both the softmax-weighted sum computed here in float64.
        const int batch = 2, heads = 6, kvHeads = 2, past = 9;
        var g = new Generator(4);
        using var pastK = Tensor.Randn([batch, kvHeads, past, d], generator: g).To(DType.BFloat16).To(DType.Float32);
        using var pastV = Tensor.Randn([batch, kvHeads, past, d], generator: g).To(DType.BFloat16).To(DType.Float32);
        using var newK = Tensor.Randn([batch, kvHeads, 1, d], generator: g).To(DType.BFloat16).To(DType.Float32);
        using var newV = Tensor.Randn([batch, kvHeads, 1, d], generator: g).To(DType.BFloat16).To(DType.Float32);
        using var q = Tensor.Randn([batch, heads, 1, d], generator: g);
        using var _ = Autograd.NoGrad();
        double scale = 1 / Math.Sqrt(d);
        float[] Attend(DType dtype)
        {
            var cache = new StaticKvCache(1, batch, kvHeads, 16, d, dtype);
            cache.Append(0, pastK, pastV);
            Assert.True(cache.TryAttendOne(0, q, newK, newV, scale, out var y));
            Assert.Equal(DType.Float32, y.DType);
            return y.ToArray<float>();
        }
        var fromBf16 = Attend(DType.BFloat16);
        Assert.Equal(Attend(DType.Float32), fromBf16);
        float[] qs = q.ToArray<float>(), k0 = pastK.ToArray<float>(), v0 = pastV.ToArray<float>(), k1 = newK.ToArray<float>(), v1 = newV.ToArray<float>();
        for (int r = 0; r < batch; r++)
            for (int h = 0; h < heads; h++)
            {
                int kv = h / (heads / kvHeads);
                float Key(int pos, int i) => pos < past ? k0[((r * kvHeads + kv) * past + pos) * d + i] : k1[(r * kvHeads + kv) * d + i];
                float Value(int pos, int i) => pos < past ? v0[((r * kvHeads + kv) * past + pos) * d + i] : v1[(r * kvHeads + kv) * d + i];
                var s = new double[past + 1];
                for (int pos = 0; pos <= past; pos++)
                    for (int i = 0; i < d; i++) s[pos] += qs[(r * heads + h) * d + i] * (double)Key(pos, i) * scale;
                double max = double.NegativeInfinity, sum = 0;
                foreach (double x in s) max = Math.Max(max, x);
                for (int pos = 0; pos <= past; pos++) sum += s[pos] = Math.Exp(s[pos] - max);
                for (int i = 0; i < d; i++)
                {
                    double want = 0;
                    for (int pos = 0; pos <= past; pos++) want += s[pos] / sum * Value(pos, i);
                    float got = fromBf16[(r * heads + h) * d + i];
                    Assert.True(Math.Abs(got - want) <= 1e-5 * (1 + Math.Abs(want)), $"row {r} head {h} [{i}]: {got} vs {want}");
                }
            }
    }
}
