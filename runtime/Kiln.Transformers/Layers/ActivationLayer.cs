using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// A Hugging Face activation chosen by name (<c>hidden_act</c>; <see cref="Activations.Names"/>) as a layer, as
/// transformers' <c>ACT2FN</c> hands out modules. It has no parameters; inside a compiled block it runs as an eager
/// island on the output of the compiled projection before it.
/// </summary>
public sealed class ActivationLayer : Module<Tensor, Tensor>
{
    /// <summary>The activation named <paramref name="name"/>; an unknown name is an error naming the ones supported.</summary>
    public ActivationLayer(string name)
    {
        System.ArgumentNullException.ThrowIfNull(name);
        if (System.Array.IndexOf(Activations.Names, name) < 0) throw Activations.Unsupported(name);
        Name = name;
    }

    /// <summary>The activation's Hugging Face name.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Activations.Apply(Name, x);
}
