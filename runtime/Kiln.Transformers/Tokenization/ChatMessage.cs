namespace Kiln.Transformers.Tokenization;

/// <summary>One turn of a conversation for <see cref="PreTrainedTokenizer.ApplyChatTemplate"/>.</summary>
/// <param name="Role"><c>system</c>, <c>user</c> or <c>assistant</c>.</param>
/// <param name="Content">The text.</param>
public sealed record ChatMessage(string Role, string Content);
