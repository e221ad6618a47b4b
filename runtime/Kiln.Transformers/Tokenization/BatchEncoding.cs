namespace Kiln.Transformers.Tokenization;

/// <summary>Token ids of a batch padded to one length, and which positions are real tokens.</summary>
/// <param name="InputIds">[batch, length] int64.</param>
/// <param name="AttentionMask">[batch, length] int64: 1 for a token, 0 for padding.</param>
public sealed record BatchEncoding(Tensor InputIds, Tensor AttentionMask);
