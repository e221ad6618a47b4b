namespace Kiln.Transformers;

/// <summary>
/// Where a decoder keeps the keys and values of positions it has already seen, so each new token attends to them without
/// recomputing them (Hugging Face's <c>Cache</c>). <see cref="StaticKvCache"/> preallocates one batch's positions;
/// <see cref="PagedBatch"/> is one step over sequences whose positions live in a <see cref="PagedKvCache"/>'s blocks.
/// </summary>
public abstract class KvCache
{
    private protected KvCache() { }

    /// <summary>Rows the cache serves.</summary>
    public abstract int Batch { get; }

    /// <summary>Positions filled so far (for a paged step: the longest row's).</summary>
    public abstract int Length { get; }

    /// <summary>
    /// Writes layer <paramref name="layer"/>'s new keys and values [batch, kv heads, n, head dim] after the filled positions
    /// and returns all of them as [batch, kv heads, filled + n, head dim]; the last layer's call advances <see cref="Length"/>.
    /// </summary>
    internal abstract (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values);

    /// <summary>
    /// Position ids of n new tokens: from the attention mask <paramref name="keep"/> [batch·(Length + n)] as generate
    /// derives them (see <see cref="CausalMask.Positions"/>); <paramref name="padded"/> says whether any position is padding.
    /// </summary>
    internal virtual long[] Positions(long[]? keep, int b, int n, out bool padded) => CausalMask.Positions(keep, b, n, Length, out padded);
}
