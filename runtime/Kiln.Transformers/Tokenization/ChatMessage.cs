namespace Kiln.Transformers.Tokenization;

/// <summary>One turn of a conversation for <see cref="PreTrainedTokenizer.ApplyChatTemplate(System.Collections.Generic.IEnumerable{ChatMessage}, bool, System.Collections.Generic.IReadOnlyDictionary{string, object?}?)"/>.</summary>
/// <param name="Role"><c>system</c>, <c>user</c> or <c>assistant</c>.</param>
/// <param name="Content">The text.</param>
public sealed record ChatMessage(string Role, string Content);
