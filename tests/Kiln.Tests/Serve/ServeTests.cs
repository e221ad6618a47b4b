using System;
using System.ClientModel;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Samples.Serve;
using Kiln.Tests.Transformers;
using Kiln.Transformers;
using Kiln.Transformers.Tokenization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using Xunit;

namespace Kiln.Tests.Serve;

/// <summary>
/// samples/Serve on loopback with a tiny random Llama and Qwen3's real tokenizer (chat template included): OpenAI's
/// official .NET client gets the same greedy text as <c>Generate</c> on the templated prompt, streamed or not; embeddings
/// are unit vectors; bad requests are 400 with OpenAI's error body; a client that hangs up mid-stream does not stall
/// the server.
/// </summary>
public sealed class ServeTests : IAsyncLifetime
{
    WebApplication? _app;
    string _base = "";
    LlamaForCausalLM _model = null!;
    PreTrainedTokenizer _tokenizer = null!;

    public async Task InitializeAsync()
    {
        _tokenizer = AutoTokenizer.FromPretrained(TokenizerFixtures.Folder("qwen3"));
        Generator.ManualSeed(5);
        _model = new LlamaForCausalLM(new LlamaConfig
        {
            VocabSize = _tokenizer.VocabSize,
            HiddenSize = 16,
            IntermediateSize = 32,
            NumHiddenLayers = 1,
            NumAttentionHeads = 2,
            NumKeyValueHeads = 1,
            HeadDim = 8,
            MaxPositionEmbeddings = 512,
        });
        _model.Eval();
        _app = ServeApp.Create(_model, _tokenizer, new ServeOptions { ModelId = "tiny", MaxTokens = 64 }, "http://127.0.0.1:0");
        await _app.StartAsync();
        _base = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }

    string Direct(string prompt, int tokens)
    {
        var ids = _tokenizer.Encode(prompt);
        var config = new GenerationConfig { MaxNewTokens = tokens, EosTokenIds = _tokenizer.EosTokenId is int e ? [e] : [] };
        var output = _model.Generate(Tensor.From(Array.ConvertAll(ids, i => (long)i), 1, ids.Length), config).ToArray<long>();
        return _tokenizer.Decode(output.Skip(ids.Length).Select(i => (int)i).ToArray(), skipSpecialTokens: true);
    }

    [Fact]
    public async Task TheOfficialOpenAiClientChatsStreamsAndEmbeds()
    {
        var client = new OpenAIClient(new ApiKeyCredential("not-checked"), new OpenAIClientOptions { Endpoint = new Uri(_base + "/v1") });
        var chat = client.GetChatClient("tiny");
        OpenAI.Chat.ChatMessage[] messages = [new OpenAI.Chat.SystemChatMessage("Be brief."), new OpenAI.Chat.UserChatMessage("Name a colour.")];
        var options = new OpenAI.Chat.ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        string want = Direct(_tokenizer.ApplyChatTemplate([new ChatMessage("system", "Be brief."), new ChatMessage("user", "Name a colour.")]), 12);
        Assert.NotEmpty(want);

        var completion = (await chat.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(want, completion.Content[0].Text);
        Assert.Equal("tiny", completion.Model);
        Assert.True(completion.Usage.OutputTokenCount is > 0 and <= 12);

        var streamed = new StringBuilder();
        int updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            updates++;
        }
        Assert.Equal(want, streamed.ToString());
        Assert.True(updates > 2, $"{updates} updates");

        var embedding = (await client.GetEmbeddingClient("tiny").GenerateEmbeddingAsync("a short sentence")).Value.ToFloats().ToArray();
        Assert.Equal(16, embedding.Length);
        Assert.Equal(1.0, Math.Sqrt(embedding.Sum(v => (double)v * v)), 4);
    }

    [Fact]
    public async Task CompletionsAndBadRequests()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_base) };
        async Task<(HttpStatusCode Status, JsonElement Body)> Post(string path, string json)
        {
            var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return (response.StatusCode, doc.RootElement.Clone());
        }
        var (ok, body) = await Post("/v1/completions", """{"model": "tiny", "prompt": "Once upon a time", "max_tokens": 6, "temperature": 0}""");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(Direct("Once upon a time", 6), body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("text_completion", body.GetProperty("object").GetString());

        foreach (var (json, param) in new[]
        {
            ("""{"prompt": "x", "max_tokens": 0}""", "max_tokens"),
            ("""{"prompt": "x", "max_tokens": 100000}""", "max_tokens"),
            ("""{"prompt": "x", "temperature": 7}""", "temperature"),
            ("""{"prompt": 42}""", "prompt"),
        })
        {
            var (status, error) = await Post("/v1/completions", json);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("invalid_request_error", error.GetProperty("error").GetProperty("type").GetString());
            Assert.Equal(param, error.GetProperty("error").GetProperty("param").GetString());
        }
        var (badJson, badBody) = await Post("/v1/chat/completions", "{not json");
        Assert.Equal(HttpStatusCode.BadRequest, badJson);
        Assert.Contains("not valid JSON", badBody.GetProperty("error").GetProperty("message").GetString());
        var (noMessages, _) = await Post("/v1/chat/completions", """{"messages": []}""");
        Assert.Equal(HttpStatusCode.BadRequest, noMessages);
        var (badRole, _) = await Post("/v1/chat/completions", """{"messages": [{"role": "wizard", "content": "hi"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, badRole);
        var (noInput, _) = await Post("/v1/embeddings", """{"input": []}""");
        Assert.Equal(HttpStatusCode.BadRequest, noInput);
    }

    [Fact]
    public async Task ConcurrentRequestsAreDecodedTogetherAndEachGetsItsOwnText()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_base) };
        string[] prompts = ["Once upon a time", "The sea", "Numbers: 1, 2, 3", "A cat and a dog", "Why is the sky blue?", "C# is"];
        var answers = await Task.WhenAll(prompts.Select(async p =>
        {
            var response = await http.PostAsync("/v1/completions", new StringContent(
                JsonSerializer.Serialize(new { prompt = p, max_tokens = 24, temperature = 0 }), Encoding.UTF8, "application/json"));
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString();
        }));
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(Direct(prompts[i], 24), answers[i]);
        var batcher = _app!.Services.GetRequiredService<Scheduler>().Batcher;
        Assert.True(batcher.LargestBatch > 1, $"largest decode batch {batcher.LargestBatch}");
        Assert.Equal(batcher.Cache.BlockCount, batcher.Cache.FreeBlocks);
    }

    [Fact]
    public async Task AClientThatHangsUpDoesNotStallTheServer()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_base) };
        using (var cts = new CancellationTokenSource())
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            { Content = new StringContent("""{"prompt": "Tell a long story", "max_tokens": 64, "stream": true}""", Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
            string? first = await reader.ReadLineAsync(cts.Token);
            Assert.StartsWith("data: {", first);
            cts.Cancel();   // hang up after the first event
        }
        // The next request is served normally.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var response2 = await http.PostAsync("/v1/completions", new StringContent("""{"prompt": "Hi", "max_tokens": 3, "temperature": 0}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response2.StatusCode);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(60));
        var models = JsonDocument.Parse(await http.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal("tiny", models.GetProperty("data")[0].GetProperty("id").GetString());
    }
}
