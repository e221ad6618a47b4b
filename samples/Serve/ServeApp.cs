using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Transformers;
using Kiln.Transformers.Tokenization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kiln.Samples.Serve;

/// <summary>Limits and names the server applies.</summary>
public sealed record ServeOptions
{
    public string ModelId { get; init; } = "kiln";
    public int MaxTokens { get; init; } = 256;
    public int MaxPromptTokens { get; init; } = 1024;
    public int MaxActive { get; init; } = 8;
    public int MaxQueued { get; init; } = 64;
    public int MaxEmbeddingInputs { get; init; } = 64;
    /// <summary>Blocks of 16 positions in the paged KV cache all running requests share.</summary>
    public int KvBlocks { get; init; } = 512;
}

/// <summary>
/// An OpenAI-compatible HTTP API over a Kiln causal language model: <c>/v1/models</c>, <c>/v1/completions</c>,
/// <c>/v1/chat/completions</c> (server-sent events with <c>"stream": true</c>) and <c>/v1/embeddings</c> (the model's
/// normalised mean-pooled last hidden state). Bad requests get 400 with OpenAI's error body, a full queue 429; a client
/// that disconnects cancels its generation.
/// </summary>
public static class ServeApp
{
    public static WebApplication Create(ICausalLM model, PreTrainedTokenizer tokenizer, ServeOptions options, string? urls = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (urls is not null) builder.WebHost.UseUrls(urls);
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning);
        // Made by the container (not handed to it) so the app disposes it: its loop and thread end with the app.
        builder.Services.AddSingleton(_ => new Scheduler(model, tokenizer, options.MaxActive, options.MaxQueued, options.KvBlocks));
        var app = builder.Build();
        var scheduler = app.Services.GetRequiredService<Scheduler>();
        var embeddingLock = new SemaphoreSlim(1);

        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = options.ModelId, @object = "model", created = 0L, owned_by = "kiln" } } }, Json.Options));

        app.MapPost("/v1/completions", async (HttpContext http) =>
        {
            var (request, error) = await Read<CompletionRequest>(http);
            if (error is not null) return error;
            string? prompt = request!.Prompt.ValueKind switch
            {
                JsonValueKind.String => request.Prompt.GetString(),
                JsonValueKind.Array when request.Prompt.GetArrayLength() == 1 && request.Prompt[0].ValueKind == JsonValueKind.String => request.Prompt[0].GetString(),
                _ => null,
            };
            if (prompt is null) return Bad("prompt must be a string (or a list of one string)", "prompt");
            return await Generate(http, request, prompt, chat: false);
        });

        app.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            var (request, error) = await Read<CompletionRequest>(http);
            if (error is not null) return error;
            if (request!.Messages is not { Count: > 0 } messages) return Bad("messages must be a non-empty list", "messages");
            foreach (var m in messages)
                if (m.Role is not ("system" or "user" or "assistant") || m.Content is null) return Bad($"each message needs a role (system, user, assistant) and string content; got role '{m.Role}'", "messages");
            string prompt;
            try
            {
                prompt = tokenizer.ChatTemplate is not null
                    ? tokenizer.ApplyChatTemplate(messages.Select(m => new ChatMessage(m.Role, m.Content)))
                    : string.Concat(messages.Select(m => $"{m.Role}: {m.Content}\n")) + "assistant:";
            }
            catch (KilnException e) { return Bad(e.Message, "messages"); }
            return await Generate(http, request, prompt, chat: true);
        });

        app.MapPost("/v1/embeddings", async (HttpContext http) =>
        {
            var (request, error) = await Read<EmbeddingRequest>(http);
            if (error is not null) return error;
            var inputs = request!.Input.ValueKind switch
            {
                JsonValueKind.String => [request.Input.GetString()!],
                JsonValueKind.Array when request.Input.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) => request.Input.EnumerateArray().Select(e => e.GetString()!).ToArray(),
                _ => null,
            };
            if (inputs is not { Length: > 0 } || inputs.Length > options.MaxEmbeddingInputs)
                return Bad($"input must be a string or a list of 1 to {options.MaxEmbeddingInputs} strings", "input");
            var data = new List<object>();
            int tokens = 0;
            await embeddingLock.WaitAsync(http.RequestAborted);
            try
            {
                for (int i = 0; i < inputs.Length; i++)
                {
                    var ids = tokenizer.Encode(inputs[i]);
                    if (ids.Length == 0 || ids.Length > options.MaxPromptTokens) return Bad($"input {i} has {ids.Length} tokens (1 to {options.MaxPromptTokens})", "input");
                    tokens += ids.Length;
                    data.Add(new { @object = "embedding", index = i, embedding = Embed(model, ids) });
                }
            }
            finally { embeddingLock.Release(); }
            return Results.Json(new { @object = "list", data, model = options.ModelId, usage = new { prompt_tokens = tokens, total_tokens = tokens } }, Json.Options);
        });

        async Task<IResult> Generate(HttpContext http, CompletionRequest request, string prompt, bool chat)
        {
            int maxTokens = request.MaxCompletionTokens ?? request.MaxTokens ?? 16;
            if (maxTokens < 1 || maxTokens > options.MaxTokens) return Bad($"max_tokens must be between 1 and {options.MaxTokens}, got {maxTokens}", "max_tokens");
            double temperature = request.Temperature ?? 1.0, topP = request.TopP ?? 1.0;
            if (temperature is < 0 or > 2) return Bad($"temperature must be between 0 and 2, got {temperature}", "temperature");
            if (topP is <= 0 or > 1) return Bad($"top_p must be in (0, 1], got {topP}", "top_p");
            var stops = request.Stop.ValueKind switch
            {
                JsonValueKind.String => [request.Stop.GetString()!],
                JsonValueKind.Array => request.Stop.EnumerateArray().Select(e => e.GetString() ?? "").Where(s => s.Length > 0).ToArray(),
                _ => Array.Empty<string>(),
            };
            var ids = tokenizer.Encode(prompt);
            if (ids.Length == 0 || ids.Length > options.MaxPromptTokens) return Bad($"the prompt has {ids.Length} tokens (1 to {options.MaxPromptTokens})", chat ? "messages" : "prompt");
            var config = new GenerationConfig
            {
                MaxNewTokens = maxTokens,
                DoSample = temperature > 0,
                Temperature = temperature > 0 ? temperature : 1.0,
                TopP = topP,
                TopK = 0,
                EosTokenIds = tokenizer.EosTokenId is int eos ? [eos] : [],
                StopStrings = stops,
                Seed = request.Seed,
            };
            var job = new GenerationJob(Array.ConvertAll(ids, i => (long)i), config, http.RequestAborted);
            if (!scheduler.TrySubmit(job))
                return Results.Json(new ErrorBody(new ErrorDetail("the server is busy: too many requests are waiting", "rate_limit_exceeded")), Json.Options, statusCode: 429);
            string id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
            long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (!request.Stream)
            {
                var text = new System.Text.StringBuilder();
                try { await foreach (var piece in job.Pieces.Reader.ReadAllAsync(http.RequestAborted)) text.Append(piece); }
                catch (OperationCanceledException) { return Results.Empty; }
                var usage = new Usage(ids.Length, job.CompletionTokens, ids.Length + job.CompletionTokens);
                object choice = chat
                    ? new { index = 0, message = new { role = "assistant", content = text.ToString() }, finish_reason = job.FinishReason }
                    : new { index = 0, text = text.ToString(), finish_reason = job.FinishReason };
                return Results.Json(new { id, @object = chat ? "chat.completion" : "text_completion", created, model = options.ModelId, choices = new[] { choice }, usage }, Json.Options);
            }
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            async Task Send(object chunk)
            {
                await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk, Json.Options) + "\n\n", http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
            string kind = chat ? "chat.completion.chunk" : "text_completion";
            try
            {
                if (chat) await Send(new { id, @object = kind, created, model = options.ModelId, choices = new[] { new { index = 0, delta = new { role = "assistant", content = "" }, finish_reason = (string?)null } } });
                await foreach (var piece in job.Pieces.Reader.ReadAllAsync(http.RequestAborted))
                    await Send(chat
                        ? new { id, @object = kind, created, model = options.ModelId, choices = new object[] { new { index = 0, delta = new { content = piece }, finish_reason = (string?)null } } }
                        : new { id, @object = kind, created, model = options.ModelId, choices = new object[] { new { index = 0, text = piece, finish_reason = (string?)null } } });
                await Send(chat
                    ? new { id, @object = kind, created, model = options.ModelId, choices = new object[] { new { index = 0, delta = new { }, finish_reason = job.FinishReason } } }
                    : new { id, @object = kind, created, model = options.ModelId, choices = new object[] { new { index = 0, text = "", finish_reason = job.FinishReason } } });
                await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted);
            }
            catch (OperationCanceledException) { }   // the client went away: the scheduler drops the job at its next turn
            return Results.Empty;
        }

        return app;
    }

    static async Task<(T? Request, IResult? Error)> Read<T>(HttpContext http) where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(http.Request.Body, Json.Options, http.RequestAborted);
            return value is null ? (null, Bad("the body must be a JSON object", null)) : (value, null);
        }
        catch (JsonException e) { return (null, Bad($"the body is not valid JSON for this endpoint: {e.Message}", null)); }
    }

    static IResult Bad(string message, string? param) =>
        Results.Json(new ErrorBody(new ErrorDetail(message, "invalid_request_error", param)), Json.Options, statusCode: 400);

    static float[] Embed(ICausalLM model, int[] ids)
    {
        using var _ = Autograd.NoGrad();
        var hidden = new List<Tensor>();
        model.Forward(Tensor.From(Array.ConvertAll(ids, i => (long)i), 1, ids.Length), null, hidden);
        var pooled = hidden[^1].Mean(1).Reshape(-1);
        var norm = Math.Sqrt(pooled.Pow(2).Sum().Item<float>());
        return (pooled / Math.Max(norm, 1e-12)).ToArray<float>();
    }
}
