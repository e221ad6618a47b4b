namespace Kiln.Transformers.Tokenization;

/// <summary>
/// A token added beside the model's vocabulary (tokenizer.json's <c>added_tokens</c>): matched in the raw text before the
/// model sees it. <paramref name="Special"/> tokens are the ones <c>skip_special_tokens</c> drops when decoding.
/// </summary>
/// <param name="Content">Its text.</param>
/// <param name="Id">Its id.</param>
/// <param name="Special">Whether it is a special token.</param>
/// <param name="LStrip">Whether whitespace before it is swallowed.</param>
/// <param name="RStrip">Whether whitespace after it is swallowed.</param>
public sealed record AddedToken(string Content, int Id, bool Special, bool LStrip = false, bool RStrip = false);
