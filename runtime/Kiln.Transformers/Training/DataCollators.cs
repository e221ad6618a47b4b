using System;
using System.Collections.Generic;

namespace Kiln.Transformers.Training;

/// <summary>Pads a list of examples into one <see cref="TrainingBatch"/> (right padding, the pad id, a mask).</summary>
public abstract class DataCollator
{
    /// <summary>A collator padding with <paramref name="padTokenId"/>; <paramref name="maxLength"/> truncates longer examples.</summary>
    protected DataCollator(int padTokenId, int? maxLength)
    {
        if (maxLength is <= 0) throw new KilnException("data_collator", $"data_collator: max_length must be positive, got {maxLength}", KilnErrorKind.Argument);
        PadTokenId = padTokenId; MaxLength = maxLength;
    }

    /// <summary>The padding id.</summary>
    public int PadTokenId { get; }
    /// <summary>The longest an example may be, or null.</summary>
    public int? MaxLength { get; }

    /// <summary>The batch of <paramref name="examples"/>.</summary>
    public abstract TrainingBatch Collate(IReadOnlyList<TokenizedExample> examples);

    /// <summary>Ids and mask [b, longest], right-padded.</summary>
    protected (long[] Ids, long[] Mask, int Length) Pad(IReadOnlyList<TokenizedExample> examples)
    {
        if (examples.Count == 0) throw new KilnException("data_collator", "data_collator: an empty batch", KilnErrorKind.Argument);
        int length = 0;
        foreach (var e in examples)
        {
            if (e.InputIds.Length == 0) throw new KilnException("data_collator", "data_collator: an example has no tokens", KilnErrorKind.Argument);
            length = Math.Max(length, Math.Min(e.InputIds.Length, MaxLength ?? int.MaxValue));
        }
        var ids = new long[examples.Count * length];
        var mask = new long[ids.Length];
        Array.Fill(ids, PadTokenId);
        for (int r = 0; r < examples.Count; r++)
        {
            int n = Math.Min(examples[r].InputIds.Length, length);
            for (int j = 0; j < n; j++) { ids[r * length + j] = examples[r].InputIds[j]; mask[r * length + j] = 1; }
        }
        return (ids, mask, length);
    }
}

/// <summary>
/// Causal language modelling batches (<c>DataCollatorForLanguageModeling(mlm=False)</c>): labels are the ids themselves
/// with padding set to -100 (the model shifts them by one when taking the loss).
/// </summary>
public sealed class DataCollatorForLanguageModeling(int padTokenId, int? maxLength = null) : DataCollator(padTokenId, maxLength)
{
    /// <inheritdoc/>
    public override TrainingBatch Collate(IReadOnlyList<TokenizedExample> examples)
    {
        var (ids, mask, length) = Pad(examples);
        var labels = new long[ids.Length];
        for (int i = 0; i < ids.Length; i++) labels[i] = mask[i] == 0 ? -100 : ids[i];
        int b = examples.Count;
        return new TrainingBatch(Tensor.From(ids, b, length), Tensor.From(mask, b, length), Tensor.From(labels, b, length));
    }
}

/// <summary>Sequence classification batches (<c>DataCollatorWithPadding</c>): padded ids and mask, one class id per example.</summary>
public sealed class DataCollatorWithPadding(int padTokenId, int? maxLength = null) : DataCollator(padTokenId, maxLength)
{
    /// <inheritdoc/>
    public override TrainingBatch Collate(IReadOnlyList<TokenizedExample> examples)
    {
        var (ids, mask, length) = Pad(examples);
        var labels = new long[examples.Count];
        for (int r = 0; r < labels.Length; r++)
            labels[r] = examples[r].Label ?? throw new KilnException("data_collator", $"data_collator: example {r} has no label", KilnErrorKind.Argument);
        int b = examples.Count;
        return new TrainingBatch(Tensor.From(ids, b, length), Tensor.From(mask, b, length), Tensor.From(labels, b));
    }
}
