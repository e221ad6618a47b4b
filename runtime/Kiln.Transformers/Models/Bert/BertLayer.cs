using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// One BERT encoder layer, post-norm: attention (<c>attention.self.query/key/value</c>, <c>attention.output.dense</c> +
/// <c>attention.output.LayerNorm</c> over the residual), then <c>intermediate.dense</c> → activation → <c>output.dense</c>
/// + <c>output.LayerNorm</c>.
/// </summary>
public sealed class BertLayer : Module
{
    readonly int _heads, _headDim;
    readonly string _activation;

    /// <summary>A layer of <paramref name="config"/>'s sizes.</summary>
    public BertLayer(BertConfig config)
    {
        _heads = config.NumAttentionHeads; _headDim = config.HeadDim; _activation = config.HiddenAct;
        int h = config.HiddenSize;
        var attention = RegisterModule("attention", new Block());
        var self = attention.Add("self", new Block());
        self.Add("query", new Linear(h, h));
        self.Add("key", new Linear(h, h));
        self.Add("value", new Linear(h, h));
        var attnOut = attention.Add("output", new Block());
        attnOut.Add("dense", new Linear(h, h));
        AttentionNorm = attnOut.Add("LayerNorm", new LayerNorm(h, config.LayerNormEps));
        RegisterModule("intermediate", new Block()).Add("dense", new Linear(h, config.IntermediateSize));
        var output = RegisterModule("output", new Block());
        output.Add("dense", new Linear(config.IntermediateSize, h));
        OutputNorm = output.Add("LayerNorm", new LayerNorm(h, config.LayerNormEps));
    }

    /// <summary><c>attention.self.query</c>.</summary>
    public Linear Query => (Linear)GetSubmodule("attention.self.query");
    /// <summary><c>attention.self.key</c>.</summary>
    public Linear Key => (Linear)GetSubmodule("attention.self.key");
    /// <summary><c>attention.self.value</c>.</summary>
    public Linear Value => (Linear)GetSubmodule("attention.self.value");
    /// <summary><c>attention.output.dense</c>.</summary>
    public Linear AttentionDense => (Linear)GetSubmodule("attention.output.dense");
    /// <summary><c>attention.output.LayerNorm</c>.</summary>
    public LayerNorm AttentionNorm { get; }
    /// <summary><c>intermediate.dense</c>.</summary>
    public Linear IntermediateDense => (Linear)GetSubmodule("intermediate.dense");
    /// <summary><c>output.dense</c>.</summary>
    public Linear OutputDense => (Linear)GetSubmodule("output.dense");
    /// <summary><c>output.LayerNorm</c>.</summary>
    public LayerNorm OutputNorm { get; }

    /// <summary>The layer over <paramref name="x"/> [batch, length, hidden]; <paramref name="mask"/> additive [batch, 1, 1, length] or null.</summary>
    public Tensor Forward(Tensor x, Tensor? mask)
    {
        int b = x.Size(0), s = x.Size(1);
        Tensor Heads(Linear l) => l.Forward(x).View(b, s, _heads, _headDim).Transpose(1, 2);
        var attn = F.ScaledDotProductAttention(Heads(Query), Heads(Key), Heads(Value), attnMask: mask);
        var a = AttentionNorm.Forward(AttentionDense.Forward(attn.Transpose(1, 2).Reshape(b, s, _heads * _headDim)) + x);
        return OutputNorm.Forward(OutputDense.Forward(Activations.Apply(_activation, IntermediateDense.Forward(a))) + a);
    }

    /// <summary>A named container for Hugging Face's nesting (attention.self, attention.output, ...).</summary>
    sealed class Block : Module
    {
        public T Add<T>(string name, T module) where T : Module => RegisterModule(name, module);
    }
}
