using System;
using System.Collections.Generic;

namespace Kiln.Data;

/// <summary>Ways to turn a list of samples into one batch (<c>collate_fn</c>).</summary>
public static class Collate
{
    /// <summary>Stacks tensors along a new first dim.</summary>
    public static Tensor Tensors(IReadOnlyList<Tensor> samples) => Stack(samples);

    /// <summary>Stack for a batch; samples of different shapes get the hint a DataLoader user needs.</summary>
    static Tensor Stack(IReadOnlyList<Tensor> samples)
    {
        for (int i = 1; i < samples.Count; i++)
            if (!Compiler.Shapes.ShapeRules.SameShape(samples[i].ShapeArray, samples[0].ShapeArray))
                throw new KilnException("collate", $"collate: sample {i} has shape {Compiler.Shapes.ShapeText.Format(samples[i].ShapeArray)} but sample 0 has {Compiler.Shapes.ShapeText.Format(samples[0].ShapeArray)}, so they cannot be stacked into one batch. "
                    + "Ragged samples (text, variable-length sequences) need a collate that pads them: pass Collate.PadSequences (or your own collate) to the DataLoader, or resize the samples in a transform", KilnErrorKind.Shape);
        return Tensor.Stack(samples, 0);
    }

    /// <summary>Stacks each position of tensor tuples (what <see cref="TensorDataset"/> yields).</summary>
    public static Tensor[] TensorTuples(IReadOnlyList<Tensor[]> samples)
    {
        if (samples.Count == 0) return Array.Empty<Tensor>();
        var r = new Tensor[samples[0].Length];
        var column = new Tensor[samples.Count];
        for (int j = 0; j < r.Length; j++)
        {
            for (int i = 0; i < samples.Count; i++)
            {
                if (samples[i].Length != r.Length)
                    throw new KilnException("collate", $"collate: sample {i} has {samples[i].Length} fields, sample 0 has {r.Length}", KilnErrorKind.Shape);
                column[i] = samples[i][j];
            }
            r[j] = Stack(column);
        }
        return r;
    }

    /// <summary>
    /// Records (or classes, structs, tuples) field by field, as PyTorch collates dicts and named tuples: see
    /// <see cref="RecordBatch"/> for how each field type is batched.
    /// </summary>
    public static RecordBatch Records<T>(IReadOnlyList<T> samples)
    {
        var boxed = new object?[samples.Count];
        for (int i = 0; i < boxed.Length; i++) boxed[i] = samples[i];
        return RecordBatch.From(typeof(T), boxed);
    }

    /// <summary>(input, target) pairs: each side stacked.</summary>
    public static (Tensor, Tensor) Pairs(IReadOnlyList<(Tensor, Tensor)> samples)
    {
        var a = new Tensor[samples.Count];
        var b = new Tensor[samples.Count];
        for (int i = 0; i < samples.Count; i++) (a[i], b[i]) = samples[i];
        return (Tensor.Stack(a, 0), Tensor.Stack(b, 0));
    }

    /// <summary>(tensor, class label) pairs: inputs stacked, labels as an int64 tensor.</summary>
    public static (Tensor, Tensor) Labeled(IReadOnlyList<(Tensor, long)> samples)
    {
        var a = new Tensor[samples.Count];
        var labels = new long[samples.Count];
        for (int i = 0; i < samples.Count; i++) (a[i], labels[i]) = samples[i];
        return (Tensor.Stack(a, 0), Tensor.From(labels, labels.Length));
    }

    /// <summary>Numbers as a 1-D tensor (float32 for floating values, int64 for integers).</summary>
    public static Tensor Numbers(IReadOnlyList<double> samples)
    {
        var a = new float[samples.Count];
        for (int i = 0; i < a.Length; i++) a[i] = (float)samples[i];
        return Tensor.From(a, a.Length);
    }

    /// <summary>Integers as a 1-D int64 tensor.</summary>
    public static Tensor Integers(IReadOnlyList<long> samples)
    {
        var a = new long[samples.Count];
        for (int i = 0; i < a.Length; i++) a[i] = samples[i];
        return Tensor.From(a, a.Length);
    }

    /// <summary>
    /// Variable-length sequences [Lᵢ, ...] padded to the longest: the padded batch [N, L, ...] (filled with
    /// <paramref name="paddingValue"/>) and an attention mask [N, L] that is true at real positions.
    /// </summary>
    public static (Tensor Padded, Tensor Mask) PadSequences(IReadOnlyList<Tensor> samples, double paddingValue = 0)
    {
        if (samples.Count == 0) throw new KilnException("pad_sequence", "pad_sequence: received an empty list of sequences");
        int longest = 0;
        foreach (var s in samples)
        {
            if (s.Dim == 0) throw new KilnException("pad_sequence", "pad_sequence: sequences must have at least one dim (the length)", KilnErrorKind.Shape);
            if (s.Dim != samples[0].Dim || s.DType != samples[0].DType)
                throw new KilnException("pad_sequence", $"pad_sequence: sequences must share rank and dtype; got [{string.Join(", ", s.Shape)}] {s.DType} and [{string.Join(", ", samples[0].Shape)}] {samples[0].DType}", KilnErrorKind.DType);
            longest = Math.Max(longest, s.Size(0));
        }
        var rows = new Tensor[samples.Count];
        var mask = new bool[samples.Count * longest];
        for (int i = 0; i < samples.Count; i++)
        {
            var s = samples[i];
            int len = s.Size(0);
            var pad = new int[2 * s.Dim];
            pad[^1] = longest - len;   // F.pad order: last dim first, so the length dim is the final pair
            rows[i] = len == longest ? s : NN.F.Pad(s, pad, "constant", paddingValue);
            for (int j = 0; j < len; j++) mask[i * longest + j] = true;
        }
        return (Tensor.Stack(rows, 0), Tensor.From(mask, samples.Count, longest));
    }
}
