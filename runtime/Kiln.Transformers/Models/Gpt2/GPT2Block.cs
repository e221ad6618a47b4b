using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>One GPT-2 block: x + attn(ln_1(x)), then + mlp(ln_2(·)).</summary>
public sealed class GPT2Block : Module
{
    /// <summary>Block <paramref name="layerIdx"/> of <paramref name="config"/>'s sizes.</summary>
    public GPT2Block(GPT2Config config, int layerIdx)
    {
        Ln1 = RegisterModule("ln_1", new LayerNorm(config.NEmbd, config.LayerNormEpsilon));
        Attn = RegisterModule("attn", new GPT2Attention(config, layerIdx));
        Ln2 = RegisterModule("ln_2", new LayerNorm(config.NEmbd, config.LayerNormEpsilon));
        Mlp = RegisterModule("mlp", new GPT2Mlp(config));
    }

    /// <summary>The norm before attention.</summary>
    public LayerNorm Ln1 { get; }
    /// <summary>The attention.</summary>
    public GPT2Attention Attn { get; }
    /// <summary>The norm before the MLP.</summary>
    public LayerNorm Ln2 { get; }
    /// <summary>The MLP.</summary>
    public GPT2Mlp Mlp { get; }

    internal Tensor Forward(Tensor x, Tensor? mask, KvCache? cache, int layer)
    {
        var h = x + Attn.Forward(Ln1.Forward(x), mask, cache, layer);
        return h + Mlp.Forward(Ln2.Forward(h));
    }
}

/// <summary>GPT-2's MLP: <c>c_fc</c> → the config's activation → <c>c_proj</c>.</summary>
public sealed class GPT2Mlp : Module<Tensor, Tensor>
{
    readonly string _activation;

    /// <summary>An MLP of <paramref name="config"/>'s sizes.</summary>
    public GPT2Mlp(GPT2Config config)
    {
        _activation = config.ActivationFunction;
        RegisterModule("c_fc", new Conv1D(config.NEmbd, config.NInner));
        RegisterModule("c_proj", new Conv1D(config.NInner, config.NEmbd));
    }

    /// <summary>The widening projection.</summary>
    public Conv1D CFc => Child<Conv1D>("c_fc");
    /// <summary>The narrowing projection.</summary>
    public Conv1D CProj => Child<Conv1D>("c_proj");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => CProj.Forward(Activations.Apply(_activation, CFc.Forward(x)));
}
