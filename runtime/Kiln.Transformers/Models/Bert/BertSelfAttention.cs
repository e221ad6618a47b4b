using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>BERT's <c>attention.self</c>: query, key and value projections into heads, scaled-dot-product attention over all positions (dropout on its probabilities while training).</summary>
[Model]
public sealed partial class BertSelfAttention : Module
{
    readonly int heads, headDim;
    readonly double attentionDropout;

    /// <summary>Projections of <paramref name="config"/>'s sizes.</summary>
    public BertSelfAttention(BertConfig config)
    {
        heads = config.NumAttentionHeads; headDim = config.HeadDim;
        attentionDropout = config.AttentionProbsDropoutProb;
        int h = config.HiddenSize;
        Query = new Linear(h, h);
        Key = new Linear(h, h);
        Value = new Linear(h, h);
    }

    /// <summary>The query projection.</summary>
    [PyTorchName("query")] public Linear Query { get; private set; }
    /// <summary>The key projection.</summary>
    [PyTorchName("key")] public Linear Key { get; private set; }
    /// <summary>The value projection.</summary>
    [PyTorchName("value")] public Linear Value { get; private set; }

    /// <summary>The heads' attention over <paramref name="x"/> [batch, length, hidden], merged back to [batch, length, hidden]; <paramref name="mask"/> additive [batch, 1, 1, length] or null.</summary>
    public Tensor Forward(Tensor x, Tensor? mask)
    {
        Tensor q = Heads(Query.Forward(x)), k = Heads(Key.Forward(x)), v = Heads(Value.Forward(x));
        var attn = Training ? F.ScaledDotProductAttention(q, k, v, attnMask: mask, dropoutP: attentionDropout) : F.ScaledDotProductAttention(q, k, v, attnMask: mask);
        return attn.Transpose(1, 2).Flatten(2);
    }

    /// <summary>[batch, length, hidden] as heads [batch, heads, length, headDim].</summary>
    Tensor Heads(Tensor t) => t.Unflatten(2, heads, headDim).Transpose(1, 2);
}
