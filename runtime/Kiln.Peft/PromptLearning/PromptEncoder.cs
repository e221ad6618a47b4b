using Kiln.NN;

namespace Kiln.Peft;

/// <summary>
/// What produces the virtual tokens [num_virtual_tokens, width] (PEFT's <c>PromptEmbedding</c>, <c>PrefixEncoder</c>,
/// <c>PromptEncoder</c>): a learned table, optionally reparameterised — prefix projection (Linear, Tanh, Linear) or
/// P-tuning's MLP / bidirectional LSTM + MLP. A loaded adapter holds the encoder's output directly (<see cref="Direct"/>):
/// PEFT saves that, not the encoder.
/// </summary>
public sealed class PromptEncoder : Module
{
    readonly PromptLearningConfig _config;

    /// <summary>The encoder <paramref name="config"/> describes (random init).</summary>
    public PromptEncoder(PromptLearningConfig config, bool direct = false)
    {
        _config = config;
        Direct = direct;
        int n = config.NumVirtualTokens, d = config.TokenDim, h = config.EncoderHiddenSize;
        int width = OutputWidth(config);
        bool plain = direct || config.PeftType == PromptLearningType.PromptTuning || (config.PeftType == PromptLearningType.PrefixTuning && !config.PrefixProjection);
        RegisterModule("embedding", new Embedding(n, plain ? width : d));
        if (plain) return;
        if (config.PeftType == PromptLearningType.PrefixTuning)
            RegisterModule("transform", new Sequential(new Linear(d, h), new Tanh(), new Linear(h, width)));
        else if (config.EncoderReparameterizationType == PromptEncoderType.Mlp)
            RegisterModule("mlp_head", new Sequential(new Linear(d, h), new ReLU(), new Linear(h, h), new ReLU(), new Linear(h, d)));
        else
        {
            RegisterModule("lstm_head", new LSTM(d, h, config.EncoderNumLayers, dropout: config.EncoderDropout, bidirectional: true, batchFirst: true));
            RegisterModule("mlp_head", new Sequential(new Linear(2 * h, 2 * h), new ReLU(), new Linear(2 * h, d)));
        }
    }

    /// <summary>True when the table is the prompt itself (no reparameterisation).</summary>
    public bool Direct { get; }
    /// <summary>The table.</summary>
    public Embedding Embedding => Child<Embedding>("embedding");

    /// <summary>Width of each virtual token's output: token_dim, or layers·2·token_dim for prefix tuning.</summary>
    public static int OutputWidth(PromptLearningConfig c) => c.PeftType == PromptLearningType.PrefixTuning ? c.NumLayers * 2 * c.TokenDim : c.TokenDim;

    /// <summary>The virtual tokens [num_virtual_tokens, width] (PEFT's <c>get_prompt_embedding_to_save</c>).</summary>
    public Tensor Prompt()
    {
        var table = Embedding.Weight;
        if (Direct || Member("embedding") is null) return table;
        if (Member("transform") is Sequential transform) return transform.Forward(table);
        if (Member("lstm_head") is LSTM lstm) return ((Sequential)Member("mlp_head")!).Forward(lstm.Forward(table.Unsqueeze(0)).Output).Squeeze(0);
        if (Member("mlp_head") is Sequential mlp) return mlp.Forward(table);
        return table;
    }
}
