using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kiln.Samples.Serve;

// The parts of OpenAI's API this server speaks, in its JSON names (snake_case).

public sealed record ChatMessageDto(string Role, string Content);

public sealed class CompletionRequest
{
    public string? Model { get; init; }
    public JsonElement Prompt { get; init; }
    public List<ChatMessageDto>? Messages { get; init; }
    public int? MaxTokens { get; init; }
    public int? MaxCompletionTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public bool Stream { get; init; }
    public JsonElement Stop { get; init; }
    public ulong? Seed { get; init; }
}

public sealed class EmbeddingRequest
{
    public string? Model { get; init; }
    public JsonElement Input { get; init; }
}

public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

public sealed record ErrorBody(ErrorDetail Error);

public sealed record ErrorDetail(string Message, string Type, string? Param = null, string? Code = null);

/// <summary>The JSON options of every request and response: OpenAI's snake_case names, nulls left out.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
