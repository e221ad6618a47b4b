using System;
using System.Collections.Generic;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// The paged KV cache and continuous batching: a paged step (rows of different lengths, keys read through block tables)
/// gives the contiguous cache's logits; requests batched together, joining at different steps, preempted when the pool
/// runs out, or sampled by seed produce exactly what <c>Generate</c> produces for each alone; blocks are taken as
/// sequences grow and all come back; bad use is refused by name.
/// </summary>
public class PagedGenerationTests
{
    static LlamaForCausalLM Llama(ulong seed, bool sliding = false)
    {
        Generator.ManualSeed(seed);
        var model = new LlamaForCausalLM(new LlamaConfig
        {
            VocabSize = 61,
            HiddenSize = 32,
            IntermediateSize = 48,
            NumHiddenLayers = 2,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 2,
            HeadDim = 8,
            MaxPositionEmbeddings = 128,
            RmsNormEps = 1e-6,
            SlidingWindow = sliding ? 5 : null,
            SlidingLayers = sliding ? [true, false] : null,
        });
        model.Eval();
        return model;
    }

    static GPT2LMHeadModel Gpt2(ulong seed)
    {
        Generator.ManualSeed(seed);
        var model = new GPT2LMHeadModel(new GPT2Config { VocabSize = 53, NEmbd = 24, NLayer = 2, NHead = 3, NPositions = 128, NInner = 40 });
        model.Eval();
        return model;
    }

    static long[] Prompt(int length, int seed, int vocab)
    {
        var rng = new Random(seed);
        var p = new long[length];
        for (int i = 0; i < length; i++) p[i] = rng.Next(vocab);
        return p;
    }

    static long[] Alone(ICausalLM model, long[] prompt, GenerationConfig config)
    {
        var output = model.Generate(Tensor.From(prompt, 1, prompt.Length), config).ToArray<long>();
        return output[prompt.Length..];
    }

    static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 + 1e-4 * Math.Abs(expected[i]), $"{what} [{i}]: {actual[i]} vs {expected[i]}");
    }

    public static TheoryData<string> Models => new() { "llama", "llama_sliding", "gpt2" };

    static ICausalLM Build(string name) => name switch
    {
        "llama" => Llama(3),
        "llama_sliding" => Llama(4, sliding: true),
        _ => Gpt2(5),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void APagedStepGivesTheContiguousCachesLogits(string name)
    {
        var model = Build(name);
        int vocab = name == "gpt2" ? 53 : 61;
        using var _ = Autograd.NoGrad();
        // Three sequences of 5, 19 and 33 tokens (blocks of 8: 1, 3 and 5 blocks), prefilled one by one, then one step each
        // in a single batched forward; the contiguous cache runs each alone.
        var pool = model.CreatePagedCache(blockCount: 16, blockSize: 8);
        int[] lengths = [5, 19, 33];
        var sequences = new List<PagedSequence>();
        var expected = new List<float[]>();
        var next = new long[lengths.Length];
        for (int r = 0; r < lengths.Length; r++)
        {
            var prompt = Prompt(lengths[r], 10 + r, vocab);
            var seq = pool.NewSequence();
            var paged = model.Forward(Tensor.From(prompt, 1, prompt.Length), pool.Step([seq], prompt.Length), null, logitsToKeep: 3).ToArray<float>();
            var cache = model.CreateCache(1, prompt.Length + 1);
            var dense = model.Forward(Tensor.From(prompt, 1, prompt.Length), cache, null, logitsToKeep: 3).ToArray<float>();
            AssertClose(dense, paged, $"{name} prefill {r}");
            Assert.Equal(lengths[r], seq.Length);
            Assert.Equal((lengths[r] + 7) / 8, seq.BlockCount);
            next[r] = (r * 7 + 1) % vocab;
            expected.Add(model.Forward(Tensor.From([next[r]], 1, 1), cache, null, logitsToKeep: 1).ToArray<float>());
            sequences.Add(seq);
        }
        var step = model.Forward(Tensor.From(next, lengths.Length, 1), pool.Step(sequences, 1), null, logitsToKeep: 1).ToArray<float>();
        for (int r = 0; r < lengths.Length; r++) AssertClose(expected[r], step.AsSpan(r * vocab, vocab).ToArray(), $"{name} step row {r}");
        Assert.Equal([6, 20, 34], sequences.ConvertAll(s => s.Length));
        Assert.Equal(16 - 1 - 3 - 5, pool.FreeBlocks);
        foreach (var s in sequences) pool.Free(s);
        Assert.Equal(16, pool.FreeBlocks);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BatchedRequestsGenerateWhatEachGeneratesAlone(string name)
    {
        var model = Build(name);
        int vocab = name == "gpt2" ? 53 : 61;
        var batcher = new ContinuousBatcher(model, model.CreatePagedCache(64, 4), maxBatch: 8);
        var config = new GenerationConfig { MaxNewTokens = 12 };
        // Two requests start together; two more join after three steps (while the first two are decoding).
        var prompts = new[] { Prompt(7, 1, vocab), Prompt(3, 2, vocab), Prompt(11, 3, vocab), Prompt(1, 4, vocab) };
        var requests = new List<GenerationRequest> { batcher.Add(prompts[0], config), batcher.Add(prompts[1], config with { MaxNewTokens = 5 }) };
        for (int i = 0; i < 3; i++) batcher.Step();
        Assert.Equal(2, batcher.Running);
        requests.Add(batcher.Add(prompts[2], config));
        requests.Add(batcher.Add(prompts[3], config with { MaxNewTokens = 9 }));
        int steps = 3;
        while (batcher.HasWork) { batcher.Step(); steps++; }
        for (int r = 0; r < requests.Count; r++)
        {
            var expected = Alone(model, prompts[r], requests[r].Config);
            Assert.Equal(expected, Array.ConvertAll(requests[r].Generated(), t => (long)t));
            Assert.Equal("length", requests[r].FinishReason);
        }
        Assert.Equal(64, batcher.Cache.FreeBlocks);
        Assert.True(steps <= 3 + 12, $"{steps} steps: the late requests should decode alongside the first ones");
    }

    [Fact]
    public void APoolTooSmallForEveryonePreemptsAndStillGivesTheSameTokens()
    {
        var model = Llama(6);
        // 10 blocks of 4 positions: each request needs up to 8 + 16 = 24 positions (6 blocks), three cannot run at once.
        var batcher = new ContinuousBatcher(model, model.CreatePagedCache(10, 4));
        var config = new GenerationConfig { MaxNewTokens = 16 };
        var prompts = new[] { Prompt(8, 21, 61), Prompt(6, 22, 61), Prompt(5, 23, 61) };
        var requests = Array.ConvertAll(prompts, p => batcher.Add(p, config));
        int peakRunning = 0;
        while (batcher.HasWork)
        {
            batcher.Step();
            peakRunning = Math.Max(peakRunning, batcher.Running);
            Assert.True(batcher.Cache.FreeBlocks >= 0);
        }
        Assert.True(batcher.Preemptions > 0, "the pool should have run out");
        Assert.True(peakRunning >= 2, "requests should share the pool while it lasts");
        for (int r = 0; r < prompts.Length; r++)
            Assert.Equal(Alone(model, prompts[r], config), Array.ConvertAll(requests[r].Generated(), t => (long)t));
        Assert.Equal(10, batcher.Cache.FreeBlocks);
    }

    [Fact]
    public void SampledRequestsFollowTheirOwnSeedsAndEosEndsOne()
    {
        var model = Llama(7);
        var batcher = new ContinuousBatcher(model, model.CreatePagedCache(32, 8));
        var sampled = new GenerationConfig { MaxNewTokens = 10, DoSample = true, Temperature = 1.3, TopK = 20, TopP = 0.9, Seed = 99 };
        var a = batcher.Add(Prompt(6, 31, 61), sampled);
        var b = batcher.Add(Prompt(9, 32, 61), sampled with { Seed = 100, RepetitionPenalty = 1.2 });
        // Greedy's third token as EOS: the request stops there with "stop".
        var greedy = new GenerationConfig { MaxNewTokens = 10 };
        var plain = Alone(model, Prompt(4, 33, 61), greedy);
        var c = batcher.Add(Prompt(4, 33, 61), greedy with { EosTokenIds = [plain[2]] });
        while (batcher.HasWork) batcher.Step();
        Assert.Equal(Alone(model, Prompt(6, 31, 61), sampled), Array.ConvertAll(a.Generated(), t => (long)t));
        Assert.Equal(Alone(model, Prompt(9, 32, 61), b.Config), Array.ConvertAll(b.Generated(), t => (long)t));
        int firstEos = Array.IndexOf(plain, plain[2]);
        Assert.Equal(plain[..(firstEos + 1)], Array.ConvertAll(c.Generated(), t => (long)t));
        Assert.Equal("stop", c.FinishReason);
    }

    [Fact]
    public void CancellingFreesTheBlocksAtTheNextStep()
    {
        var model = Llama(8);
        var batcher = new ContinuousBatcher(model, model.CreatePagedCache(16, 4));
        var keep = batcher.Add(Prompt(5, 41, 61), new GenerationConfig { MaxNewTokens = 6 });
        var drop = batcher.Add(Prompt(9, 42, 61), new GenerationConfig { MaxNewTokens = 6 });
        var queued = batcher.Add(Prompt(3, 43, 61), new GenerationConfig { MaxNewTokens = 0 });
        batcher.Step();
        Assert.Equal(2, drop.GeneratedCount);
        Assert.Equal("length", queued.FinishReason);
        Assert.Empty(queued.Generated());
        batcher.Cancel(drop);
        var changed = batcher.Step();
        Assert.Contains(drop, changed);
        Assert.Equal("cancelled", drop.FinishReason);
        Assert.Equal(2, drop.GeneratedCount);
        Assert.Equal(16 - 2, batcher.Cache.FreeBlocks);   // keep: 7 positions stored, 2 blocks of 4
        while (batcher.HasWork) batcher.Step();
        Assert.Equal(16, batcher.Cache.FreeBlocks);
    }

    [Fact]
    public void BadUseIsRefusedByName()
    {
        var model = Llama(9);
        var pool = model.CreatePagedCache(4, 4);
        var batcher = new ContinuousBatcher(model, pool);
        var e = Assert.Throws<KilnException>(() => batcher.Add(Prompt(10, 1, 61), new GenerationConfig { MaxNewTokens = 7 }));
        Assert.Contains("continuous_batching", e.Message);
        Assert.Contains("16 positions", e.Message);
        Assert.Throws<KilnException>(() => batcher.Add([], new GenerationConfig()));
        Assert.Contains("stop_strings", Assert.Throws<KilnException>(() => batcher.Add([1], new GenerationConfig { StopStrings = ["x"] })).Message);
        var other = model.CreatePagedCache(4, 4).NewSequence();
        Assert.Contains("another pool", Assert.Throws<KilnException>(() => pool.Step([other], 1)).Message);
        var seq = pool.NewSequence();
        Assert.Contains("needs 5 more blocks", Assert.Throws<KilnException>(() => pool.Step([seq], 17)).Message);
        Assert.Equal(4, pool.FreeBlocks);
        using var _ = Autograd.NoGrad();
        var ids = Tensor.From(new long[] { 1, 2 }, 1, 2);
        var m = Assert.Throws<KilnException>(() => model.Forward(ids, pool.Step([seq], 2), Tensor.Ones([1, 2], DType.Int64)));
        Assert.Contains("paged_kv_cache", m.Message);
        Assert.Throws<KilnException>(() => new PagedKvCache(2, 2, 8, 0));
    }
}
