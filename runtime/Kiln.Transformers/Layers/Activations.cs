using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>Hugging Face's activation names (<c>ACT2FN</c>) as Kiln functions.</summary>
public static class Activations
{
    /// <summary>The names this version applies.</summary>
    public static readonly string[] Names = ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish", "tanh"];

    /// <summary>Applies activation <paramref name="name"/> to <paramref name="x"/>.</summary>
    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "gelu" => F.Gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => F.Gelu(x, "tanh"),
        "relu" => x.Relu(),
        "silu" or "swish" => x.Silu(),
        "tanh" => x.Tanh(),
        _ => throw Unsupported(name),
    };

    /// <summary>The error for an activation name this version does not apply.</summary>
    internal static KilnException Unsupported(string name) =>
        new("activation", $"activation '{name}' is not supported (supported: {string.Join(", ", Names)})", KilnErrorKind.Unsupported);

    internal static void Check(string name, string file, string field)
    {
        if (System.Array.IndexOf(Names, name) < 0)
            throw new KilnException("config", $"{file}: {field} '{name}' is not supported (supported: {string.Join(", ", Names)})", KilnErrorKind.Unsupported);
    }
}
