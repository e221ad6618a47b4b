using System.Collections.Generic;
using Kiln.Compilation;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// BERT's encoder (Hugging Face's <c>BertModel</c>): embeddings, <c>encoder.layer.N</c>, and the pooler
/// (tanh(dense(first token))). Sentence embeddings: <see cref="Pooling.Mean"/> over the last hidden state.
/// </summary>
public sealed class BertModel : Module, IGradientCheckpointing, IBlockCompilation
{
    readonly CompiledBlocks<BertLayer, BertLayer.Compiled> _compiled = new((layer, mode) => layer.Compile(mode), c => c.Model);

    /// <summary>An encoder of <paramref name="config"/>'s sizes (random weights until loaded); <paramref name="addPoolingLayer"/> as HF's.</summary>
    public BertModel(BertConfig config, bool addPoolingLayer = true)
    {
        config.Validate(nameof(BertConfig), KilnErrorKind.Argument);
        Config = config;
        Embeddings = RegisterModule("embeddings", new BertEmbeddings(config));
        var layers = new List<BertLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new BertLayer(config));
        Encoder = RegisterModule("encoder", new BertEncoder(layers));
        if (addPoolingLayer) Pooler = RegisterModule("pooler", new BertPooler(config));
        HfInit.Apply(this, config.InitializerRange);
    }

    /// <summary>The config the model was built from.</summary>
    public BertConfig Config { get; }
    /// <summary>The embeddings.</summary>
    public BertEmbeddings Embeddings { get; }
    /// <summary>The layers (<c>encoder.layer</c>).</summary>
    public BertEncoder Encoder { get; }
    /// <summary>The pooler, or null.</summary>
    public BertPooler? Pooler { get; }

    /// <inheritdoc/>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// Writes this encoder as a Hugging Face folder (<c>save_pretrained</c>: config.json + model.safetensors with
    /// transformers' key names) that <see cref="AutoModel.FromPretrained"/> and transformers' <c>BertModel</c> load.
    /// </summary>
    public void SavePretrained(string directory) => PretrainedWeights.Save(this, Config.ToJson(), directory);

    /// <summary>
    /// Runs each encoder layer by its generated kernels from now on (see <see cref="IBlockCompilation"/>): float32
    /// forwards; other dtypes run eagerly.
    /// </summary>
    public void Compile(CompileMode mode = CompileMode.Default) => _compiled.Compile(mode);

    /// <inheritdoc/>
    public bool IsCompiled => _compiled.IsCompiled;

    /// <summary>
    /// The last hidden state [batch, length, hidden] and the pooled first token [batch, hidden] (null without a pooler) of
    /// <paramref name="inputIds"/> [batch, length]; <paramref name="attentionMask"/> (1 token, 0 padding) hides padded keys;
    /// <paramref name="hiddenStates"/> collects the embeddings and every layer's output.
    /// </summary>
    public (Tensor LastHiddenState, Tensor? PoolerOutput) Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null, List<Tensor>? hiddenStates = null)
    {
        if (inputIds.Dim != 2)
            throw new KilnException("BertModel", $"BertModel: input_ids should be [batch, length], got [{string.Join(", ", inputIds.Shape)}]", KilnErrorKind.Shape);
        int b = inputIds.Size(0), s = inputIds.Size(1);
        foreach (var (name, t) in new[] { ("attention_mask", attentionMask), ("token_type_ids", tokenTypeIds) })
            if (t is not null && (t.Dim != 2 || t.Size(0) != b || t.Size(1) != s))
                throw new KilnException("BertModel", $"BertModel: {name} [{string.Join(", ", t.Shape)}] should match input_ids [{b}, {s}]", KilnErrorKind.Shape);
        var h = Embeddings.Forward(inputIds, tokenTypeIds);
        hiddenStates?.Add(h);
        Tensor? mask = null;
        if (attentionMask is not null)
        {
            // (1 - mask) · the dtype's lowest value, broadcast over heads and queries, as HF extends it.
            var keep = attentionMask.To(DType.Int64).ToArray<long>();
            float masked = CausalMask.Lowest(h.DType);
            var add = new float[keep.Length];
            for (int i = 0; i < keep.Length; i++) add[i] = keep[i] == 0 ? masked : 0f;
            mask = Tensor.From(add, b, 1, 1, s).To(h.Device).To(h.DType);
        }
        int index = 0;
        foreach (var layer in Encoder.Layer)
        {
            h = _compiled.Run(index++, layer, h, GradientCheckpointing && Training && Autograd.IsGradEnabled, x => layer.Forward(x, mask), (c, x) => c.Forward(x, mask));
            hiddenStates?.Add(h);
        }
        return (h, Pooler?.Forward(h));
    }
}

/// <summary>BERT's layer stack (<c>encoder.layer</c>).</summary>
public sealed class BertEncoder : Module
{
    internal BertEncoder(List<BertLayer> layers) => Layer = RegisterModule("layer", new ModuleList<BertLayer>(layers));

    /// <summary>The layers.</summary>
    public ModuleList<BertLayer> Layer { get; }
}

/// <summary>BERT's pooler: tanh(dense(hidden state of the first token)).</summary>
public sealed class BertPooler : Module<Tensor, Tensor>
{
    /// <summary>A pooler of <paramref name="config"/>'s width.</summary>
    public BertPooler(BertConfig config) => RegisterModule("dense", new Linear(config.HiddenSize, config.HiddenSize));

    /// <summary>The projection.</summary>
    public Linear Dense => Child<Linear>("dense");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor hidden) => Dense.Forward(hidden.Select(1, 0)).Tanh();
}
