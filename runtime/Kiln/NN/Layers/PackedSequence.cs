using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

/// <summary>
/// Variable-length sequences packed time step by time step (<c>nn.utils.rnn.PackedSequence</c>): <see cref="Data"/> holds,
/// for each step t, the rows of the sequences still running at t (longest first); <see cref="BatchSizes"/> how many.
/// Recurrent layers read it without running past any sequence's end.
/// </summary>
/// <param name="Data">[sum of lengths, *] rows, time-major.</param>
/// <param name="BatchSizes">int64 [T]: sequences running at each step.</param>
/// <param name="SortedIndices">int64 [B]: the batch order by decreasing length (null when the input was sorted).</param>
/// <param name="UnsortedIndices">int64 [B]: its inverse (null when the input was sorted).</param>
public sealed record PackedSequence(Tensor Data, Tensor BatchSizes, Tensor? SortedIndices, Tensor? UnsortedIndices)
{
    /// <summary>Each sequence's length, in the original batch order.</summary>
    public long[] Lengths()
    {
        var sizes = BatchSizes.ToArray<long>();
        int batch = (int)sizes[0];
        var sortedLengths = new long[batch];
        foreach (long s in sizes) for (int b = 0; b < s; b++) sortedLengths[b]++;
        if (SortedIndices is null) return sortedLengths;
        var order = SortedIndices.ToArray<long>();
        var lengths = new long[batch];
        for (int i = 0; i < batch; i++) lengths[order[i]] = sortedLengths[i];
        return lengths;
    }
}

/// <summary>Packing and padding of variable-length sequences (<c>nn.utils.rnn</c>).</summary>
public static class RnnUtils
{
    /// <summary>
    /// Packs a padded batch [T, B, *] ([B, T, *] with <paramref name="batchFirst"/>) of sequences of the given lengths
    /// (<c>pack_padded_sequence</c>). With <paramref name="enforceSorted"/> the lengths must already decrease.
    /// </summary>
    public static PackedSequence PackPaddedSequence(Tensor input, long[] lengths, bool batchFirst = false, bool enforceSorted = true)
    {
        const string op = "pack_padded_sequence";
        if (input.Dim < 2) throw new KilnException(op, $"{op}: expected a padded batch [T, B, *], got shape {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        var seq = batchFirst ? input.Transpose(0, 1) : input;
        int steps = seq.Size(0), batch = seq.Size(1);
        if (lengths.Length != batch) throw new KilnException(op, $"{op}: {lengths.Length} lengths for a batch of {batch}");
        foreach (long l in lengths)
            if (l <= 0 || l > steps) throw new KilnException(op, $"{op}: lengths must lie in [1, {steps}] (every sequence needs at least one element), got {l}", KilnErrorKind.Shape);
        int[] order = Enumerable.Range(0, batch).ToArray();
        if (enforceSorted)
        {
            for (int i = 1; i < batch; i++)
                if (lengths[i] > lengths[i - 1])
                    throw new KilnException(op, $"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass `enforceSorted: false` to pack unsorted sequences.");
        }
        else order = order.OrderByDescending(i => lengths[i]).ToArray(); // stable: ties keep their batch order
        var rows = new List<long>();      // flat row indices into [T·B] of seq
        var batchSizes = new long[lengths.Max()];
        for (int t = 0; t < batchSizes.Length; t++)
            foreach (int b in order)
                if (lengths[b] > t) { rows.Add((long)t * batch + b); batchSizes[t]++; }
        using var flat = seq.Reshape([steps * batch, .. seq.ShapeArray[2..]]);
        using var index = Tensor.From(rows.ToArray(), rows.Count).To(input.Device);
        var data = flat.IndexSelect(0, index);
        Tensor? sorted = null, unsorted = null;
        if (!enforceSorted)
        {
            sorted = Tensor.From(order.Select(i => (long)i).ToArray(), batch);
            var inverse = new long[batch];
            for (int i = 0; i < batch; i++) inverse[order[i]] = i;
            unsorted = Tensor.From(inverse, batch);
        }
        return new PackedSequence(data, Tensor.From(batchSizes, batchSizes.Length), sorted, unsorted);
    }

    /// <summary>
    /// Pads a packed batch back to [T, B, *] ([B, T, *] with <paramref name="batchFirst"/>) in the original batch order,
    /// and returns the lengths (<c>pad_packed_sequence</c>).
    /// </summary>
    public static (Tensor Padded, long[] Lengths) PadPackedSequence(PackedSequence packed, bool batchFirst = false, double paddingValue = 0, int? totalLength = null)
    {
        const string op = "pad_packed_sequence";
        var lengths = packed.Lengths();
        int steps = (int)lengths.Max();
        if (totalLength is int total)
        {
            if (total < steps) throw new KilnException(op, $"{op}: Expected total_length to be at least the length of the longest sequence ({steps}), got {total}");
            steps = total;
        }
        var sizes = packed.BatchSizes.ToArray<long>();
        int batch = lengths.Length;
        var order = packed.SortedIndices?.ToArray<long>() ?? Enumerable.Range(0, batch).Select(i => (long)i).ToArray();
        int dataRows = packed.Data.Size(0);
        // Each padded position reads its data row; positions past a sequence's end read one appended padding row.
        var gather = new long[(long)steps * batch];
        Array.Fill(gather, dataRows);
        int k = 0;
        for (int t = 0; t < sizes.Length; t++)
            for (int i = 0; i < sizes[t]; i++) gather[t * batch + order[i]] = k++;
        var feature = packed.Data.ShapeArray[1..];
        using var pad = Tensor.Full([1, .. feature], paddingValue, packed.Data.DType, packed.Data.Device);
        using var extended = Tensor.Cat([packed.Data, pad], 0);
        using var index = Tensor.From(gather, gather.Length).To(packed.Data.Device);
        using var placed = extended.IndexSelect(0, index);
        using var shaped = placed.Reshape([steps, batch, .. feature]);
        return (batchFirst ? shaped.Transpose(0, 1).Contiguous() : shaped.Contiguous(), lengths);
    }

    /// <summary>
    /// Sequences [Lᵢ, *] padded with <paramref name="paddingValue"/> to the longest, stacked as [L, B, *] ([B, L, *] with
    /// <paramref name="batchFirst"/>) (<c>pad_sequence</c>); <paramref name="paddingSide"/> "left" puts the padding first.
    /// </summary>
    public static Tensor PadSequence(IReadOnlyList<Tensor> sequences, bool batchFirst = false, double paddingValue = 0, string paddingSide = "right")
    {
        using var scope = Tensor.Scope();
        const string op = "pad_sequence";
        if (paddingSide is not ("right" or "left"))
            throw new KilnException(op, $"{op}: Expected padding_side to be one of left or right, but got {paddingSide}.", KilnErrorKind.Argument);
        Tensor batch;
        if (paddingSide == "right")
        {
            var (padded, mask) = Data.Collate.PadSequences(sequences, paddingValue);
            mask.Dispose();
            batch = padded;
        }
        else
        {
            // Left padding is right padding of the reversed sequences, reversed back.
            var reversed = new Tensor[sequences.Count];
            for (int i = 0; i < reversed.Length; i++)
            {
                if (sequences[i].Dim == 0) throw new KilnException(op, $"{op}: sequences must have at least one dim (the length)", KilnErrorKind.Shape);
                reversed[i] = sequences[i].Flip(0);
            }
            var (padded, mask) = Data.Collate.PadSequences(reversed, paddingValue);
            using (padded) using (mask) batch = padded.Flip(1);
            foreach (var r in reversed) r.Dispose();
        }
        if (batchFirst) return scope.Keep(batch);
        using (batch) return scope.Keep(batch.Transpose(0, 1).Contiguous());
    }

    /// <summary>
    /// The sequences of a padded batch [T, B, *] ([B, T, *] with <paramref name="batchFirst"/>), each cut to its length
    /// (<c>unpad_sequence</c>).
    /// </summary>
    public static Tensor[] UnpadSequence(Tensor paddedSequences, long[] lengths, bool batchFirst = false)
    {
        const string op = "unpad_sequence";
        if (paddedSequences.Dim < 2) throw new KilnException(op, $"{op}: expected a padded batch [T, B, *], got shape {ShapeText.Format(paddedSequences.ShapeArray)}", KilnErrorKind.Shape);
        int batchDim = batchFirst ? 0 : 1, timeDim = 1 - batchDim;
        if (lengths.Length != paddedSequences.Size(batchDim))
            throw new KilnException(op, $"{op}: {lengths.Length} lengths for a batch of {paddedSequences.Size(batchDim)}", KilnErrorKind.Shape);
        var result = new Tensor[lengths.Length];
        for (int b = 0; b < lengths.Length; b++)
        {
            if (lengths[b] < 0 || lengths[b] > paddedSequences.Size(timeDim))
                throw new KilnException(op, $"{op}: length {lengths[b]} of sequence {b} is outside [0, {paddedSequences.Size(timeDim)}]", KilnErrorKind.Index);
            using var row = paddedSequences.Select(batchDim, b);
            result[b] = row.Narrow(0, 0, (int)lengths[b]);
        }
        return result;
    }

    /// <summary>The sequences of a packed batch, in their original order (<c>unpack_sequence</c>).</summary>
    public static Tensor[] UnpackSequence(PackedSequence packed)
    {
        var (padded, lengths) = PadPackedSequence(packed, batchFirst: true);
        using (padded) return UnpadSequence(padded, lengths, batchFirst: true);
    }

    /// <summary>Packs a list of sequences [L_i, *] (<c>pack_sequence</c>).</summary>
    public static PackedSequence PackSequence(IReadOnlyList<Tensor> sequences, bool enforceSorted = true)
    {
        var (padded, _) = Data.Collate.PadSequences(sequences);
        using (padded)
        using (var seqFirst = padded.Transpose(0, 1))
            return PackPaddedSequence(seqFirst, sequences.Select(s => (long)s.Size(0)).ToArray(), enforceSorted: enforceSorted);
    }
}
