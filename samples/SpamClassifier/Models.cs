using System;
using Kiln.NN;

namespace Kiln.Samples.Spam;

/// <summary>A classifier of padded id batches [B, T] with their true lengths (int64 [B]).</summary>
public interface ISequenceClassifier
{
    Tensor Logits(Tensor ids, Tensor lengths);
}

/// <summary>
/// Embedding → LSTM over each sequence's own length (packing's semantics in one fused pass: padding never enters the
/// recurrence; the lengths are a tensor, so an ONNX export takes them as an input) → final state → the classes.
/// </summary>
public sealed class LstmClassifier(int vocabulary, int classes, int width = 64) : Module, ISequenceClassifier
{
    readonly Embedding embed = new(vocabulary, width, paddingIdx: 0);
    readonly LSTM lstm = new(width, width, batchFirst: true);
    readonly Dropout dropout = new(0.2);
    readonly Linear head = new(width, classes);

    public Tensor Logits(Tensor ids, Tensor lengths)
    {
        var (_, (h, _)) = lstm.Forward(embed.Forward(ids), lengths: lengths);
        return head.Forward(dropout.Forward(h.Select(0, 0)));
    }
}

/// <summary>Embedding + learned positions → one Transformer encoder layer with a padding mask → mean over real tokens → the classes.</summary>
public sealed class TransformerClassifier(int vocabulary, int maxLength, int classes, int width = 64) : Module, ISequenceClassifier
{
    readonly Embedding embed = new(vocabulary, width, paddingIdx: 0);
    readonly Embedding positions = new(maxLength, width);
    readonly TransformerEncoderLayer encoder = new(width, 4, dimFeedforward: 128, dropout: 0.1, batchFirst: true);
    readonly Linear head = new(width, classes);

    public Tensor Logits(Tensor ids, Tensor lengths)
    {
        // Positions [1, T] broadcast over the batch (an ONNX export then keeps the batch free).
        var pos = Tensor.Arange(0, ids.Size(1), 1, DType.Int64).Unsqueeze(0);
        var x = embed.Forward(ids) + positions.Forward(pos);
        var pad = ids.Eq(0);                                        // true where padding: attention ignores those keys
        var h = encoder.Forward(x, null, pad);
        var keep = pad.LogicalNot().To(DType.Float32).Unsqueeze(2);
        var pooled = (h * keep).Sum(1) / keep.Sum(1).Clamp(min: 1);
        return head.Forward(pooled);
    }
}
