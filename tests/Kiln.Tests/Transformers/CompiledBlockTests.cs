using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln.Data;
using Kiln.IO;
using Kiln.NN;
using Kiln.Transformers;
using Kiln.Transformers.Training;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// The decoder blocks of Llama, Qwen2 and GPT-2 are [Model] classes sized by their config: <c>Compile()</c> runs each block
/// by the generated kernels (attention and feed-forward inlined, one autograd node per block). Compiled models give
/// Hugging Face transformers' own logits and hidden states (fp32 1e-4) and generate its greedy ids (the cached steps stay
/// eager), the eager model's loss and gradients in a training step, and the same training through the Trainer's
/// torch_compile.
/// </summary>
[Collection("Allocator")]
public class CompiledBlockTests
{
    [Theory]
    [InlineData("llama_gqa", "LlamaDecoderLayerBackward")]
    [InlineData("llama3_rope_sharded", "LlamaDecoderLayerBackward")]
    [InlineData("qwen2", "LlamaDecoderLayerBackward")]
    [InlineData("gpt2", "GPT2BlockBackward")]
    public void CompiledBlocksGiveTransformersLogits(string name, string blockNode)
    {
        var dir = HuggingFaceFixtureTests.Dir(name);
        var expected = SafeTensors.Load(Path.Combine(dir, "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(dir);
        var blocks = Assert.IsAssignableFrom<IBlockCompilation>(model);
        blocks.Compile();
        Assert.True(blocks.IsCompiled);
        var hidden = new List<Tensor>();
        var logits = model.Forward(expected["input_ids"], expected["attention_mask"], hidden);
        // Each block ran as one generated autograd node, not op by op.
        Assert.Equal(blockNode, hidden[1].GradFn!.Name);
        var mask = expected["attention_mask"].ToArray<long>();
        LlamaGoldenTests.Close(expected["logits"], logits.Detach(), mask, "logits (compiled)");
        for (int i = 0; i < hidden.Count; i++) LlamaGoldenTests.Close(expected[$"hidden_states.{i}"], hidden[i].Detach(), mask, $"hidden_states.{i} (compiled)");

        // Without a mask the compiled blocks run their graph read without it (the causal kernel): the first row again.
        var ids = expected["input_ids"].Narrow(0, 0, 1);
        var causalHidden = new List<Tensor>();
        var causal = model.Forward(ids, null, causalHidden);
        Assert.Equal(blockNode, causalHidden[1].GradFn!.Name);
        LlamaGoldenTests.Close(expected["logits"].Narrow(0, 0, 1), causal.Detach(), Enumerable.Repeat(1L, ids.Size(1)).ToArray(), "logits (compiled, causal)");

        // Generation's cached steps run eagerly: transformers' greedy ids.
        var generated = model.Generate(expected["input_ids"], new GenerationConfig { MaxNewTokens = 6 }, expected["attention_mask"]);
        Assert.Equal(expected["greedy"].ToArray<long>(), generated.ToArray<long>());
    }

    [Fact]
    public void CompiledBertLayersGiveTransformersStates()
    {
        var dir = HuggingFaceFixtureTests.Dir("bert");
        var expected = SafeTensors.Load(Path.Combine(dir, "expected.safetensors"));
        var model = Assert.IsType<BertModel>(AutoModel.FromPretrained(dir));
        model.Compile();
        var mask = expected["attention_mask"];
        var hidden = new List<Tensor>();
        var (last, pooled) = model.Forward(expected["input_ids"], mask, expected["token_type_ids"], hidden);
        Assert.Equal("BertLayerBackward", hidden[1].GradFn!.Name);
        var real = mask.ToArray<long>();
        LlamaGoldenTests.Close(expected["last_hidden_state"], last.Detach(), real, "last_hidden_state (compiled)");
        for (int i = 0; i < hidden.Count; i++) LlamaGoldenTests.Close(expected[$"hidden_states.{i}"], hidden[i].Detach(), real, $"hidden_states.{i} (compiled)");
        LlamaGoldenTests.Close(expected["pooler_output"], pooled!.Detach(), [1, 1], "pooler_output (compiled)");
        // Without a mask (every position attended) the compiled layers run their graph read without it: the eager states.
        var ids = expected["input_ids"];
        var eager = Assert.IsType<BertModel>(AutoModel.FromPretrained(dir));
        Tensor want;
        using (Autograd.NoGrad()) want = eager.Forward(ids, null, expected["token_type_ids"]).LastHiddenState;
        var unmasked = new List<Tensor>();
        var got = model.Forward(ids, null, expected["token_type_ids"], unmasked).LastHiddenState;
        Assert.Equal("BertLayerBackward", unmasked[1].GradFn!.Name);
        LlamaGoldenTests.Close(want, got.Detach(), Enumerable.Repeat(1L, ids.Size(0) * ids.Size(1)).ToArray(), "last_hidden_state (compiled, no mask)");
    }

    [Theory]
    [InlineData(false, "gelu")]
    [InlineData(true, "gelu")]
    [InlineData(true, "gelu_new")]
    [InlineData(false, "relu")]
    public void ABertTrainingStepHasTheEagerGradients(bool padded, string activation)
    {
        var ids = Tensor.From(Enumerable.Range(0, 14).Select(i => (long)((i * 5 + 1) % 30)).ToArray(), 2, 7);
        var mask = padded ? Tensor.From(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0 }, 2, 7) : null;
        Dictionary<string, float[]> Grads(bool compiled)
        {
            Generator.ManualSeed(3);
            var model = new BertModel(new BertConfig { VocabSize = 30, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 32, MaxPositionEmbeddings = 16, HiddenAct = activation });
            if (compiled) model.Compile();
            var (last, pooled) = model.Forward(ids, mask);
            ((last * last).Mean() + pooled!.Sum()).Backward();
            return model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray<float>());
        }
        var eager = Grads(false);
        var compiled = Grads(true);
        Assert.Equal(eager.Keys, compiled.Keys);
        foreach (var (k, g) in eager)
            for (int i = 0; i < g.Length; i++)
                Assert.True(Math.Abs(g[i] - compiled[k][i]) <= 1e-6 + 1e-4 * Math.Abs(g[i]), $"{k}[{i}]: {compiled[k][i]} vs {g[i]}");
    }

    static LlamaForCausalLM TinyLlama(ulong seed, bool bias = false) => TrainerTests.TinyLlama(seed, bias);

    static GPT2LMHeadModel TinyGpt2(ulong seed)
    {
        Generator.ManualSeed(seed);
        return new GPT2LMHeadModel(new GPT2Config { VocabSize = 32, NEmbd = 32, NLayer = 2, NHead = 4, NPositions = 64, NInner = 64, ScaleAttnByInverseLayerIdx = true });
    }

    [Theory]
    [InlineData("llama", false, false)]
    [InlineData("llama", true, true)]
    [InlineData("gpt2", false, false)]
    [InlineData("gpt2", true, false)]
    public void ATrainingStepHasTheEagerLossAndGradients(string family, bool padded, bool bias)
    {
        var ids = Tensor.From(Enumerable.Range(0, 2 * 9).Select(i => (long)((i * 7 + 3) % 32)).ToArray(), 2, 9);
        var mask = padded ? Tensor.From(new long[] { 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 2, 9) : null;
        (float Loss, Dictionary<string, float[]> Grads) Step(bool compiled)
        {
            CausalLanguageModel model = family == "gpt2" ? TinyGpt2(5) : TinyLlama(5, bias);
            if (compiled) ((IBlockCompilation)model).Compile();
            var logits = model.Forward(ids, mask);
            var loss = F.CrossEntropy(logits.Narrow(1, 0, 8).Reshape(-1, 32), ids.Narrow(1, 1, 8).Reshape(-1));
            loss.Backward();
            return (loss.Item<float>(), model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray<float>()));
        }
        var eager = Step(false);
        var compiled = Step(true);
        Assert.True(Math.Abs(eager.Loss - compiled.Loss) <= 1e-5 * Math.Abs(eager.Loss), $"loss {compiled.Loss} vs {eager.Loss}");
        Assert.Equal(eager.Grads.Keys, compiled.Grads.Keys);
        foreach (var (k, g) in eager.Grads)
            for (int i = 0; i < g.Length; i++)
                Assert.True(Math.Abs(g[i] - compiled.Grads[k][i]) <= 1e-6 + 1e-4 * Math.Abs(g[i]), $"{k}[{i}]: {compiled.Grads[k][i]} vs {g[i]}");
    }

    [Fact]
    public void AGpt2BlockWithLoraOnItsConv1DRunsEagerlyWithTheSameGradients()
    {
        // LoRA's Conv1D (PEFT's fan_in_fan_out) adds its low-rank term outside the fused GEMM of a plain Conv1D: the
        // compiled block must see it and run the eager Forward, which gives the adapters their gradients.
        var ids = Tensor.From(Enumerable.Range(0, 2 * 9).Select(i => (long)((i * 5 + 2) % 32)).ToArray(), 2, 9);
        (float[] Logits, Dictionary<string, float[]> Grads, string? Node) Step(bool compiled)
        {
            var model = TinyGpt2(5);
            var peft = Kiln.Peft.Peft.GetPeftModel(model, new Kiln.Peft.LoraConfig { R = 2, LoraAlpha = 4, TargetModules = ["c_attn", "c_fc"], FanInFanOut = true });
            using (Autograd.NoGrad())
                foreach (var (_, layer) in peft.LoraLayers)
                    foreach (var (suffix, t) in layer.AdapterTensors("default"))
                        if (suffix.StartsWith("lora_B", StringComparison.Ordinal)) Init.Normal_(t, 0, 0.3);
            Assert.IsType<Kiln.Peft.LoraConv1D>(model.Transformer.H[0].Attn.CAttn);
            if (compiled) ((IBlockCompilation)model).Compile();
            var hidden = new List<Tensor>();
            var logits = model.Forward(ids, null, hidden);
            (logits * logits).Mean().Backward();
            var grads = model.NamedParameters().Where(p => p.Parameter.RequiresGrad).ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray<float>());
            return (logits.Detach().ToArray<float>(), grads, hidden[1].GradFn?.Name);
        }
        var eager = Step(false);
        var compiled = Step(true);
        Assert.NotEqual("GPT2BlockBackward", compiled.Node);
        Assert.Contains(eager.Grads.Keys, k => k.Contains("lora_A", StringComparison.Ordinal));
        Assert.Equal(eager.Logits, compiled.Logits);
        Assert.Equal(eager.Grads.Keys, compiled.Grads.Keys);
        foreach (var (k, g) in eager.Grads) Assert.Equal(g, compiled.Grads[k]);
    }

    [Fact]
    public void TheTrainersTorchCompileTrainsAsEagerAndGenerationStaysTheSame()
    {
        var data = new ListDataset<TokenizedExample>(Enumerable.Range(0, 8).Select(r => new TokenizedExample(Enumerable.Range(0, 9).Select(k => 3 + (r + k) % 29).ToArray())).ToList());
        string dir = Path.Combine(Path.GetTempPath(), "kiln-compiled-llama-" + Guid.NewGuid().ToString("N"));
        try
        {
            TrainingArguments Args(string sub, string? mode) => new()
            {
                OutputDir = Path.Combine(dir, sub),
                MaxSteps = 4,
                PerDeviceTrainBatchSize = 4,
                LearningRate = 1e-2,
                SaveStrategy = "no",
                LoggingSteps = 1,
                DisableTqdm = true,
                TorchCompileMode = mode,
            };
            var eager = TinyLlama(8);
            var eagerTrainer = new Trainer(eager, Args("e", null), data, new DataCollatorForLanguageModeling(0));
            eagerTrainer.Train();
            var compiled = TinyLlama(8);
            var compiledTrainer = new Trainer(compiled, Args("c", "reduce-overhead"), data, new DataCollatorForLanguageModeling(0));
            compiledTrainer.Train();
            Assert.True(compiled.IsCompiled && !eager.IsCompiled);
            var lossE = eagerTrainer.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]).ToArray();
            var lossC = compiledTrainer.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]).ToArray();
            Assert.Equal(4, lossE.Length);
            for (int i = 0; i < lossE.Length; i++) Assert.True(Math.Abs(lossE[i] - lossC[i]) <= 1e-4 * lossE[i], $"step {i + 1}: {lossC[i]} vs {lossE[i]}");
            var pe = eager.StateDict();
            foreach (var (k, v) in compiled.StateDict())
            {
                var x = pe[k].ToArray<float>();
                var y = v.ToArray<float>();
                for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= 1e-5 + 1e-4 * Math.Abs(x[i]), $"{k}[{i}]");
            }
            // Generation runs the cached steps eagerly: the compiled model continues a prompt as the eager one does.
            var prompt = Tensor.From(new long[] { 3, 4, 5, 6 }, 1, 4);
            var config = new GenerationConfig { MaxNewTokens = 6 };
            Assert.Equal(eager.Generate(prompt, config).ToArray<long>(), compiled.Generate(prompt, config).ToArray<long>());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void AModelWithoutCompiledBlocksOrABadModeIsAClearError()
    {
        var data = new ListDataset<TokenizedExample>([new TokenizedExample([3, 4, 5])]);
        var e = Assert.Throws<KilnException>(() => new Trainer(new Linear(2, 2), new TrainingArguments { OutputDir = "x", TorchCompile = true }, data, new DataCollatorForLanguageModeling(0)));
        Assert.Contains("torch_compile needs a model that implements IBlockCompilation", e.Message);
        e = Assert.Throws<KilnException>(() => new Trainer(TinyLlama(1), new TrainingArguments { OutputDir = "x", TorchCompileMode = "fast" }, data, new DataCollatorForLanguageModeling(0)));
        Assert.Contains("torch_compile_mode 'fast' is not one of default, reduce-overhead, max-autotune", e.Message);
    }
}
