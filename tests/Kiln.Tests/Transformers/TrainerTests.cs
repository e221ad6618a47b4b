using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln.Data;
using Kiln.NN;
using Kiln.Transformers;
using Kiln.Transformers.Training;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// <see cref="Trainer"/> on a tiny Llama (causal LM) and a tiny classifier: the loss falls, logs and checkpoints land
/// where the arguments say (the oldest removed), evaluation reports compute_metrics, and a run resumed from a mid-epoch
/// checkpoint with gradient accumulation ends with exactly the parameters of the uninterrupted run.
/// </summary>
// Two training runs seeded through the global generator must draw the same numbers: no other test may draw from it
// meanwhile (a parallel test's draws once made a checkpointed run's initial weights differ).
[Collection("Allocator")]
public class TrainerTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-trainer-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A 2-layer Llama with grouped-query attention (4 query heads, 2 key/value heads of 8), vocabulary 32.</summary>
    internal static LlamaForCausalLM TinyLlama(ulong seed, bool bias = false)
    {
        Generator.ManualSeed(seed);
        return new LlamaForCausalLM(new LlamaConfig
        {
            VocabSize = 32,
            HiddenSize = 32,
            IntermediateSize = 64,
            NumHiddenLayers = 2,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 2,
            HeadDim = 8,
            MaxPositionEmbeddings = 64,
            RmsNormEps = 1e-6,
            AttentionBias = bias,
            MlpBias = bias,
        });
    }

    // Counting sequences mod 29 (offset 3): the next token is a function of the current one, so the loss can fall far.
    internal static ListDataset<TokenizedExample> Counting(int n, int length, int seed)
    {
        var rng = new Random(seed);
        var items = new List<TokenizedExample>();
        for (int i = 0; i < n; i++)
        {
            int start = rng.Next(29), len = length - rng.Next(3);
            items.Add(new TokenizedExample(Enumerable.Range(0, len).Select(k => 3 + (start + k) % 29).ToArray()));
        }
        return new ListDataset<TokenizedExample>(items);
    }

    [Fact]
    public void TheLossFallsAndLogsAndCheckpointsLandWhereAsked()
    {
        var model = TinyLlama(1);
        var args = new TrainingArguments
        {
            OutputDir = _dir,
            MaxSteps = 80,
            PerDeviceTrainBatchSize = 8,
            LearningRate = 5e-3,
            WarmupSteps = 8,
            LrSchedulerType = "cosine",
            LoggingSteps = 20,
            SaveSteps = 20,
            SaveTotalLimit = 2,
            EvalStrategy = "steps",
            EvalSteps = 40,
            WeightDecay = 0.01,
            ReportToTensorBoard = true,
            DisableTqdm = true,
        };
        var trainer = new Trainer(model, args, Counting(64, 12, 1), new DataCollatorForLanguageModeling(padTokenId: 0), Counting(16, 12, 2),
            computeMetrics: p => new Dictionary<string, double> { ["rows"] = p.Labels.Size(0) });
        var (steps, loss) = trainer.Train();
        Assert.Equal(80, steps);
        var losses = trainer.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]).ToArray();
        Assert.Equal(4, losses.Length);
        Assert.True(losses[^1] < 0.5 * losses[0], $"loss {losses[0]} -> {losses[^1]}");
        var evals = trainer.LogHistory.Where(e => e.ContainsKey("eval_loss")).ToArray();
        Assert.Equal(2, evals.Length);
        Assert.Equal(16, evals[0]["eval_rows"]);
        Assert.True(evals[1]["eval_loss"] < evals[0]["eval_loss"]);
        Assert.Equal(["checkpoint-60", "checkpoint-80"], Directory.GetDirectories(_dir, "checkpoint-*").Select(d => Path.GetFileName(d)!).Order().ToArray());
        Assert.True(File.Exists(Path.Combine(_dir, "checkpoint-80", "trainer_state.json")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_dir, "runs"), "events.out.tfevents.*"));
        Assert.True(loss > 0 && double.IsFinite(loss));
    }

    [Fact]
    public void AResumedRunEndsBitIdenticalToAnUninterruptedOne()
    {
        // 10 examples in batches of 2 with 2 micro-batches per step: 3 steps an epoch (the last one a single batch);
        // checkpoint-2 is mid-epoch, 4 batches in.
        TrainingArguments Args(string dir) => new()
        {
            OutputDir = dir,
            MaxSteps = 7,
            PerDeviceTrainBatchSize = 2,
            GradientAccumulationSteps = 2,
            LearningRate = 1e-2,
            WarmupSteps = 2,
            LoggingSteps = 1,
            SaveSteps = 2,
            DisableTqdm = true,
            MaxGradNorm = 0.5,
            WeightDecay = 0.1,
        };
        var data = Counting(10, 9, 3);
        var whole = TinyLlama(5);
        var first = new Trainer(whole, Args(Path.Combine(_dir, "a")), data, new DataCollatorForLanguageModeling(0));
        first.Train();
        var want = whole.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());

        var resumed = TinyLlama(99);   // different weights: the checkpoint must restore everything
        var second = new Trainer(resumed, Args(Path.Combine(_dir, "a")), data, new DataCollatorForLanguageModeling(0));
        second.Train(Path.Combine(_dir, "a", "checkpoint-2"));
        Assert.Equal(7, second.GlobalStep);
        foreach (var (k, v) in resumed.StateDict()) Assert.Equal(want[k], v.ToArray<float>());
        Assert.Equal(first.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]), second.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]));
    }

    sealed class BagClassifier : Module
    {
        public BagClassifier()
        {
            Emb = RegisterModule("emb", new Embedding(32, 16));
            Head = RegisterModule("head", new Linear(16, 2));
        }
        public Embedding Emb { get; }
        public Linear Head { get; }
        public Tensor Logits(TrainingBatch b) => Head.Forward(Pooling.Mean(Emb.Forward(b.InputIds), b.AttentionMask));
    }

    [Fact]
    public void ClassificationWithComputeMetrics()
    {
        // Label 1 when the sequence holds more tokens above 16 than below.
        var rng = new Random(7);
        var items = new List<TokenizedExample>();
        for (int i = 0; i < 96; i++)
        {
            var ids = Enumerable.Range(0, 3 + rng.Next(6)).Select(_ => 1 + rng.Next(31)).ToArray();
            items.Add(new TokenizedExample(ids, ids.Count(t => t > 16) * 2 > ids.Length ? 1 : 0));
        }
        Generator.ManualSeed(3);
        var model = new BagClassifier();
        static IReadOnlyDictionary<string, double> Accuracy(EvalPrediction p)
        {
            var pred = p.Predictions.ArgMax(1).ToArray<long>();
            var gold = p.Labels.ToArray<long>();
            return new Dictionary<string, double> { ["accuracy"] = pred.Zip(gold).Count(t => t.First == t.Second) / (double)gold.Length };
        }
        var data = new ListDataset<TokenizedExample>(items);
        var trainer = new Trainer(model, new TrainingArguments { OutputDir = _dir, NumTrainEpochs = 30, PerDeviceTrainBatchSize = 16, LearningRate = 3e-2, SaveStrategy = "no", LoggingSteps = 50, DisableTqdm = true },
            data, new DataCollatorWithPadding(0), data, Accuracy, (m, b) => ((BagClassifier)m).Logits(b));
        double before = trainer.Evaluate()["eval_accuracy"];
        trainer.Train();
        double after = trainer.Evaluate()["eval_accuracy"];
        Assert.True(after >= 0.9 && after > before, $"accuracy {before} -> {after}");
    }

    [Fact]
    public void BadArgumentsAreClearErrors()
    {
        var model = TinyLlama(1);
        var data = Counting(4, 5, 1);
        var collator = new DataCollatorForLanguageModeling(0);
        Assert.Contains("lr_scheduler_type 'wavy'", Assert.Throws<KilnException>(() => new Trainer(model, new TrainingArguments { OutputDir = _dir, LrSchedulerType = "wavy" }, data, collator)).Message);
        Assert.Contains("needs an eval dataset", Assert.Throws<KilnException>(() => new Trainer(model, new TrainingArguments { OutputDir = _dir, EvalStrategy = "steps" }, data, collator)).Message);
        Assert.Contains("no checkpoint-N folder", Assert.Throws<KilnException>(() => new Trainer(model, new TrainingArguments { OutputDir = _dir, DisableTqdm = true }, data, collator).Train(resumeFromCheckpoint: true)).Message);
        Assert.Contains("has no label", Assert.Throws<KilnException>(() => new DataCollatorWithPadding(0).Collate([new TokenizedExample([1, 2])])).Message);
    }

    [Fact]
    public void Gpt2AndBertCheckpointTheirBlocksWithTheSameGradients()
    {
        var ids = Tensor.From(new long[] { 1, 5, 9, 3, 7, 2, 8, 4, 6, 0, 11, 12 }, 2, 6);
        var mask = Tensor.From(new long[] { 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1 }, 2, 6);
        Dictionary<string, float[]> Grads(Func<Module> build, Func<Module, Tensor> loss, bool checkpointing)
        {
            Generator.ManualSeed(31);
            var model = build();
            ((IGradientCheckpointing)model).GradientCheckpointing = checkpointing;
            var value = loss(model);
            Assert.Equal(checkpointing, HasCheckpoint(value));
            value.Backward();
            return model.NamedParameters().Where(p => p.Parameter.Grad is not null).ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray<float>());
        }
        Module Gpt2() => new GPT2LMHeadModel(new GPT2Config { VocabSize = 16, NEmbd = 16, NLayer = 2, NHead = 2, NPositions = 16, NInner = 32 });
        Module Bert() => new BertModel(new BertConfig { VocabSize = 16, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 16 });
        Tensor Gpt2Loss(Module m) => ((GPT2LMHeadModel)m).Forward(ids, mask).Pow(2).Mean();
        Tensor BertLoss(Module m) => ((BertModel)m).Forward(ids, mask).LastHiddenState.Pow(2).Mean();
        foreach (var (build, loss) in new (Func<Module>, Func<Module, Tensor>)[] { (Gpt2, Gpt2Loss), (Bert, BertLoss) })
        {
            var plain = Grads(build, loss, false);
            var recomputed = Grads(build, loss, true);
            Assert.Equal(plain.Keys.Order(), recomputed.Keys.Order());
            foreach (var (k, g) in plain)
                for (int i = 0; i < g.Length; i++) Assert.True(Math.Abs(g[i] - recomputed[k][i]) <= 1e-7 + 1e-5 * Math.Abs(g[i]), $"{k}[{i}]: {recomputed[k][i]} vs {g[i]}");
        }
    }

    /// <summary>Whether a CheckpointBackward node is anywhere in the graph behind <paramref name="t"/>.</summary>
    static bool HasCheckpoint(Tensor t)
    {
        var seen = new HashSet<GradNode>();
        var stack = new Stack<GradNode>();
        if (t.GradFn is { } root) stack.Push(root);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!seen.Add(n)) continue;
            if (n.Name == "CheckpointBackward") return true;
            for (int i = 0; i < n.InputCount; i++) if (n.NextNode(i) is { } next) stack.Push(next);
        }
        return false;
    }

    [Fact]
    public void GradientCheckpointingGivesTheSameGradientsAndTraining()
    {
        var batch = new DataCollatorForLanguageModeling(0).Collate(Counting(4, 10, 9).ToList());
        Dictionary<string, float[]> Grads(bool checkpointing)
        {
            var model = TinyLlama(21);
            model.Model.GradientCheckpointing = checkpointing;
            var logits = model.Forward(batch.InputIds, batch.AttentionMask);
            int s = batch.InputIds.Size(1);
            var loss = F.CrossEntropy(logits.Narrow(1, 0, s - 1).Reshape(-1, 32), batch.Labels.Narrow(1, 1, s - 1).Reshape(-1), ignoreIndex: -100);
            loss.Backward();
            return model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray<float>());
        }
        var plain = Grads(false);
        var recomputed = Grads(true);
        Assert.Equal(plain.Keys, recomputed.Keys);
        foreach (var (k, g) in plain)
            for (int i = 0; i < g.Length; i++) Assert.True(Math.Abs(g[i] - recomputed[k][i]) <= 1e-6 + 1e-5 * Math.Abs(g[i]), $"{k}[{i}]: {recomputed[k][i]} vs {g[i]}");

        TrainingArguments Args(string dir, bool gc) => new() { OutputDir = dir, MaxSteps = 5, PerDeviceTrainBatchSize = 2, LearningRate = 1e-2, SaveStrategy = "no", LoggingSteps = 1, DisableTqdm = true, GradientCheckpointing = gc };
        var a = TinyLlama(4);
        new Trainer(a, Args(Path.Combine(_dir, "p"), false), Counting(8, 9, 5), new DataCollatorForLanguageModeling(0)).Train();
        var b = TinyLlama(4);
        new Trainer(b, Args(Path.Combine(_dir, "g"), true), Counting(8, 9, 5), new DataCollatorForLanguageModeling(0)).Train();
        Assert.True(b.Model.GradientCheckpointing);
        var pa = a.StateDict();
        foreach (var (k, v) in b.StateDict())
        {
            var x = pa[k].ToArray<float>();
            var y = v.ToArray<float>();
            for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= 1e-5 + 1e-4 * Math.Abs(x[i]), $"{k}[{i}]");
        }
    }

    /// <summary>
    /// bf16: the padded batch's forward runs its products in bfloat16 under autocast (rotary leaves query and key float32
    /// beside a bf16 value: attention lowers all three), the loss and gradients stay within bf16's rounding of float32's,
    /// compiled blocks under autocast run their eager Forward (the same bits), and the Trainer's bf16 run learns.
    /// </summary>
    [Fact]
    public void Bf16AutocastTrainsPaddedBatches()
    {
        var batch = new DataCollatorForLanguageModeling(0).Collate(Counting(4, 10, 9).ToList());
        Assert.Contains(0L, batch.AttentionMask.ToArray<long>());
        (float Loss, float[] Grads, DType Logits) Step(bool bf16, bool compiled)
        {
            var model = TinyLlama(21);
            if (compiled) model.Compile();
            using var _ = Autocast.Enable(DType.BFloat16, DeviceType.Cpu, bf16);
            var logits = model.Forward(batch.InputIds, batch.AttentionMask);
            int s = batch.InputIds.Size(1);
            var loss = F.CrossEntropy(logits.Narrow(1, 0, s - 1).Reshape(-1, 32), batch.Labels.Narrow(1, 1, s - 1).Reshape(-1), ignoreIndex: -100);
            loss.Backward();
            return (loss.Item<float>(), model.Parameters().SelectMany(p => p.Grad!.ToArray<float>()).ToArray(), logits.DType);
        }
        var fp32 = Step(false, false);
        var bf16 = Step(true, false);
        Assert.Equal(DType.Float32, fp32.Logits);
        Assert.Equal(DType.BFloat16, bf16.Logits);
        Assert.True(Math.Abs(bf16.Loss - fp32.Loss) <= 0.02 * fp32.Loss, $"bf16 loss {bf16.Loss} vs {fp32.Loss}");
        Assert.All(bf16.Grads, g => Assert.True(float.IsFinite(g)));
        double dot = 0, n32 = 0, n16 = 0;
        for (int i = 0; i < fp32.Grads.Length; i++) { dot += fp32.Grads[i] * (double)bf16.Grads[i]; n32 += fp32.Grads[i] * (double)fp32.Grads[i]; n16 += bf16.Grads[i] * (double)bf16.Grads[i]; }
        Assert.True(dot / Math.Sqrt(n32 * n16) > 0.99, $"bf16 gradient's cosine with float32's: {dot / Math.Sqrt(n32 * n16)}");
        var compiledBf16 = Step(true, true);
        Assert.Equal(bf16.Loss, compiledBf16.Loss);
        Assert.Equal(bf16.Grads, compiledBf16.Grads);

        var model = TinyLlama(1);
        var trainer = new Trainer(model, new TrainingArguments { OutputDir = _dir, MaxSteps = 60, PerDeviceTrainBatchSize = 8, LearningRate = 5e-3, WarmupSteps = 6, LoggingSteps = 20, SaveStrategy = "no", DisableTqdm = true, Bf16 = true, TorchCompile = true },
            Counting(64, 12, 1), new DataCollatorForLanguageModeling(padTokenId: 0));
        trainer.Train();
        var losses = trainer.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]).ToArray();
        Assert.True(losses[^1] < 0.5 * losses[0], $"bf16 loss {losses[0]} -> {losses[^1]}");
        Assert.All(model.Parameters(), p => Assert.Equal(DType.Float32, p.DType));
    }

    /// <summary>
    /// LoRA over a model loaded in bfloat16 (PEFT makes the adapters in the base's dtype): AdamW steps the bf16 adapters
    /// (widened to float32 for the update, rounded back), the base stays frozen, and the loss falls as the float32 run's.
    /// </summary>
    [Fact]
    public void LoraAdaptersOverABf16ModelTrain()
    {
        double[] Run(DType dtype, out LlamaForCausalLM model)
        {
            model = TinyLlama(2);
            model.To(dtype);
            Kiln.Peft.Peft.GetPeftModel(model, new Kiln.Peft.LoraConfig { R = 8, LoraAlpha = 16, TargetModules = ["q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"] });
            var trainable = model.Parameters().Where(p => p.RequiresGrad).ToList();
            Assert.NotEmpty(trainable);
            Assert.All(trainable, p => Assert.Equal(dtype, p.DType));
            var trainer = new Trainer(model, new TrainingArguments { OutputDir = _dir, MaxSteps = 60, PerDeviceTrainBatchSize = 8, LearningRate = 1e-2, WarmupSteps = 6, LoggingSteps = 20, SaveStrategy = "no", DisableTqdm = true },
                Counting(64, 12, 1), new DataCollatorForLanguageModeling(padTokenId: 0));
            trainer.Train();
            return trainer.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]).ToArray();
        }
        var fp32 = Run(DType.Float32, out _);
        var before = TinyLlama(2).Model.Layers[0].SelfAttn.QProj.Weight.To(DType.BFloat16);
        var bf16 = Run(DType.BFloat16, out var model);
        // The adapters learn as in float32 (a frozen random base limits how far: ~11 % in 60 steps), the base unchanged.
        Assert.True(bf16[^1] < 0.95 * bf16[0], $"LoRA over bf16: loss {bf16[0]} -> {bf16[^1]}");
        Assert.True(Math.Abs(bf16[^1] - fp32[^1]) <= 0.03 * fp32[^1], $"LoRA's last loss: bf16 {bf16[^1]}, float32 {fp32[^1]}");
        Assert.Equal(Array.ConvertAll(before.ToArray<BFloat16>(), v => v.Bits), Array.ConvertAll(model.Model.Layers[0].SelfAttn.QProj.Weight.ToArray<BFloat16>(), v => v.Bits));
    }

    /// <summary>
    /// QLoRA as its paper configures it: NF4 with double quantization and <c>bnb_4bit_compute_dtype=bfloat16</c> over a
    /// float32 Llama (the 4-bit layers hand back float32, as bitsandbytes does: rotary's float32 query and key then meet
    /// a float32 value), with and without bf16 autocast; the adapters learn as with a float32 compute dtype.
    /// </summary>
    [Fact]
    public void QloraWithABf16ComputeDTypeTrainsALlama()
    {
        double[] Run(DType compute, bool bf16)
        {
            var model = TinyLlama(3);
            Kiln.Quantization.Quantizer.Quantize(model, new Kiln.Quantization.BitsAndBytesConfig { LoadIn4Bit = true, Bnb4BitUseDoubleQuant = true, Bnb4BitComputeDType = compute });
            Kiln.Peft.Peft.GetPeftModel(model, new Kiln.Peft.LoraConfig { R = 8, LoraAlpha = 16, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj"] });
            var trainer = new Trainer(model, new TrainingArguments { OutputDir = _dir, MaxSteps = 30, PerDeviceTrainBatchSize = 8, LearningRate = 1e-2, LoggingSteps = 10, SaveStrategy = "no", DisableTqdm = true, Bf16 = bf16 },
                Counting(32, 10, 4), new DataCollatorForLanguageModeling(padTokenId: 0));
            trainer.Train();
            return trainer.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]).ToArray();
        }
        var fp32 = Run(DType.Float32, false);
        foreach (bool bf16 in new[] { false, true })
        {
            var losses = Run(DType.BFloat16, bf16);
            Assert.True(losses[^1] < 0.97 * losses[0], $"QLoRA bf16 compute (autocast {bf16}): loss {losses[0]} -> {losses[^1]}");
            Assert.True(Math.Abs(losses[^1] - fp32[^1]) <= 0.03 * fp32[^1], $"QLoRA's last loss: bf16 compute {losses[^1]}, float32 {fp32[^1]}");
        }
    }
}
