namespace Kiln.Transformers;

/// <summary>Sentence embeddings from token states, as sentence-transformers pools them.</summary>
public static class Pooling
{
    /// <summary>
    /// The mean of <paramref name="hidden"/> [batch, length, dim] over the real tokens of <paramref name="attentionMask"/>
    /// [batch, length] (all when null) → [batch, dim]; <paramref name="normalize"/> scales each to unit length.
    /// </summary>
    public static Tensor Mean(Tensor hidden, Tensor? attentionMask = null, bool normalize = false)
    {
        if (hidden.Dim != 3)
            throw new KilnException("mean_pooling", $"mean_pooling: hidden states should be [batch, length, dim], got [{string.Join(", ", hidden.Shape)}]", KilnErrorKind.Shape);
        Tensor mean;
        if (attentionMask is null) mean = hidden.Mean(new[] { 1 });
        else
        {
            if (attentionMask.Dim != 2 || attentionMask.Size(0) != hidden.Size(0) || attentionMask.Size(1) != hidden.Size(1))
                throw new KilnException("mean_pooling", $"mean_pooling: attention_mask [{string.Join(", ", attentionMask.Shape)}] should be [{hidden.Size(0)}, {hidden.Size(1)}]", KilnErrorKind.Shape);
            var m = attentionMask.To(hidden.DType).Unsqueeze(-1);
            mean = (hidden * m).Sum(new[] { 1 }) / m.Sum(new[] { 1 }).Clamp(min: 1e-9);
        }
        if (!normalize) return mean;
        return mean / mean.Norm(2, new[] { 1 }, keepDim: true).Clamp(min: 1e-12);
    }
}
