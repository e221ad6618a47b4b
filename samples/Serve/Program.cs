// An OpenAI-compatible server for a Hugging Face-format causal language model (any folder AutoModelForCausalLM and
// AutoTokenizer read: config.json, model.safetensors, tokenizer.json):
//   dotnet run -c Release --project samples/Serve -- --model path/to/model [--urls http://127.0.0.1:8000] [--max-tokens 256]
//   dotnet run -c Release --project samples/Serve -- --load-test     (loopback throughput and latency, a small random model)
// then POST /v1/chat/completions as with OpenAI's API (any OpenAI client with its base URL set to http://127.0.0.1:8000/v1).
using System;
using Kiln.Samples.Serve;
using Kiln.Transformers;
using Kiln.Transformers.Tokenization;

// Kernel threads: one core is left to the HTTP side by default — on 2 cores, a parallel GEMM whose second thread is
// descheduled by request handling stalls at every block (32 clients: 1,817 tokens/s on 1 thread, 988 on 2).
Kiln.Threads.Count = int.Parse(Arg("--threads") ?? Math.Max(1, Environment.ProcessorCount - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
if (Array.IndexOf(args, "--load-test") >= 0)
{
    await LoadTest.Run();
    return 0;
}
string? dir = Arg("--model");
if (dir is null)
{
    Console.Error.WriteLine("usage: Serve --model <folder with config.json, model.safetensors, tokenizer.json> [--urls URL] [--max-tokens N] [--max-active N] [--kv-blocks N] [--threads N]");
    return 2;
}
var model = (ICausalLM)AutoModelForCausalLM.FromPretrained(dir);
var tokenizer = AutoTokenizer.FromPretrained(dir);
var options = new ServeOptions
{
    ModelId = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(dir)),
    MaxTokens = int.Parse(Arg("--max-tokens") ?? "256"),
    MaxActive = int.Parse(Arg("--max-active") ?? "8"),
    KvBlocks = int.Parse(Arg("--kv-blocks") ?? "512"),
};
var app = ServeApp.Create(model, tokenizer, options, Arg("--urls") ?? "http://127.0.0.1:8000");
app.Run();
return 0;

string? Arg(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
