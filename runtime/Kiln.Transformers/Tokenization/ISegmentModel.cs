using System.Collections.Generic;

namespace Kiln.Transformers.Tokenization;

/// <summary>The model half of a tokenizer: text between added tokens to ids, ids back to text (normalizer and pre-tokenizer included).</summary>
internal interface ISegmentModel
{
    /// <summary>Appends the ids of <paramref name="segment"/> (text holding no added token).</summary>
    void Encode(string segment, List<int> ids);

    /// <summary>The text of consecutive model ids (no added tokens among them).</summary>
    string Decode(IReadOnlyList<int> ids);

    /// <summary>The id of a vocabulary entry, or null.</summary>
    int? IdOf(string token);

    /// <summary>Entries in the model's vocabulary.</summary>
    int VocabSize { get; }
}
