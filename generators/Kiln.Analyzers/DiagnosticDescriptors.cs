using Microsoft.CodeAnalysis;

namespace Kiln.Analyzers;

/// <summary>
/// Every diagnostic Kiln reports — the shape analyzers' and the [Model] generator's (Kiln.Generators references this
/// assembly for them) — with one ID prefix, KLN: KLN00xx shape errors, KLN01xx the compiler's notes. Shape errors carry
/// the runtime's message (the rules are shared through Kiln.Compiler), with symbolic dims written by name; each ID has a
/// section in docs/diagnostics.md and a row in this project's AnalyzerReleases file.
/// </summary>
public static class DiagnosticDescriptors
{
    const string Shapes = "Kiln.Shapes";
    const string Compiler = "Kiln.Compiler";
    // docs/diagnostics.md has one section per ID; the link resolves in the package a user has (Kiln.Compiler.DiagnosticHelp).
    static string Docs(string id) => Kiln.Compiler.DiagnosticHelp.Link(id);

    static DiagnosticDescriptor Error(string id, string title) =>
        new(id, title, "{0}", Shapes, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: Docs(id));

    /// <summary>A Linear layer's in_features differs from the last dim of what it is given.</summary>
    public static readonly DiagnosticDescriptor LinearInFeatures = Error("KLN0001", "Linear in_features does not match its input");
    /// <summary>A convolution's in_channels differs from the channels of its input, or its window does not fit.</summary>
    public static readonly DiagnosticDescriptor ConvChannels = Error("KLN0002", "Convolution input does not match the layer");
    /// <summary>Matrix product with inner dims that differ.</summary>
    public static readonly DiagnosticDescriptor MatmulInner = Error("KLN0003", "Matrix product inner dimensions differ");
    /// <summary>view/reshape/flatten to a shape with another element count.</summary>
    public static readonly DiagnosticDescriptor ReshapeCount = Error("KLN0004", "Reshape changes the element count");
    /// <summary>Elementwise operands that do not broadcast.</summary>
    public static readonly DiagnosticDescriptor Broadcast = Error("KLN0005", "Operands do not broadcast");
    /// <summary>cat/stack operands that differ outside the joined dim.</summary>
    public static readonly DiagnosticDescriptor Concat = Error("KLN0006", "Concatenated tensors do not match");
    /// <summary>Attention: heads that do not divide the model width, or a query of another width.</summary>
    public static readonly DiagnosticDescriptor Attention = Error("KLN0007", "Attention heads or width do not match");
    /// <summary>A loss whose target does not fit its input.</summary>
    public static readonly DiagnosticDescriptor LossTarget = Error("KLN0008", "Loss target does not match its input");
    /// <summary>LSTM/GRU input_size differs from its input's features.</summary>
    public static readonly DiagnosticDescriptor RecurrentInput = Error("KLN0009", "Recurrent layer input_size does not match its input");
    /// <summary>BatchNorm/LayerNorm/RMSNorm/GroupNorm features differ from the input's.</summary>
    public static readonly DiagnosticDescriptor Normalization = Error("KLN0010", "Normalization layer does not match its input");
    /// <summary>Any other shape rule (pools, embeddings, dims out of range, ...).</summary>
    public static readonly DiagnosticDescriptor OtherShape = Error("KLN0011", "Tensor shape error");

    /// <summary>A construct the shape checker and compiler do not follow; the model still runs eagerly.</summary>
    public static readonly DiagnosticDescriptor Unsupported = new("KLN0100", "Construct outside the compiled subset",
        "{0} is outside what Kiln compiles; the model's shapes are not checked past it and it runs eagerly", Compiler,
        DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: Docs("KLN0100"));

    /// <summary>KLN0102: a [Model] whose Forward the compiler does not fuse yet; Compile() runs it eagerly.</summary>
    public static readonly DiagnosticDescriptor NotCompiled = new("KLN0102", "Forward runs eagerly",
        "{0}.Compile() runs Forward eagerly: {1} is outside what Kiln compiles today (graphs of Linear, Conv2d, MaxPool2d, Flatten, LayerNorm, RMSNorm, BatchNorm, Embedding, self-attention, TransformerEncoderLayer, softmax, cross entropy, [Model] blocks, activations, dropout and elementwise arithmetic)",
        Compiler, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: Docs("KLN0102"));

    /// <summary>KLN0103: a layer without a fused form, run by the eager engine inside an otherwise compiled model.</summary>
    public static readonly DiagnosticDescriptor EagerLayer = new("KLN0103", "Layer runs eagerly inside the compiled model",
        "{0}.Compile() runs {1} eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
        Compiler, DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: Docs("KLN0103"));

    /// <summary>The diagnostic property holding a certain fix's replacement text (the fix's target is the first additional location).</summary>
    public const string ReplacementProperty = "Replacement";

    /// <summary>A [Model] class the generator cannot extend (not partial, or nested in another type).</summary>
    public static readonly DiagnosticDescriptor NotPartial = new("KLN0101", "[Model] class is not a top-level partial class",
        "[Model] class '{0}' must be a top-level partial class for Kiln's generator; it runs with reflection-based registration and is not compiled", Compiler,
        DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: Docs("KLN0101"));

    /// <summary>Picks the descriptor for a shape error by the op that raised it.</summary>
    public static DiagnosticDescriptor ForOp(string op)
    {
        switch (op)
        {
            case "linear": return LinearInFeatures;
            case "conv2d": case "conv1d": case "conv_transpose2d": return ConvChannels;
            case "matmul": case "bmm": case "mm": case "addmm": return MatmulInner;
            case "view": case "reshape": case "flatten": return ReshapeCount;
            case "add": case "sub": case "mul": case "div": case "maximum": case "minimum": case "pow": case "where": return Broadcast;
            case "cat": case "stack": return Concat;
            case "MultiheadAttention": case "sdpa": case "scaled_dot_product_attention": return Attention;
            case "nll_loss":
            case "cross_entropy":
            case "mse_loss":
            case "l1_loss":
            case "smooth_l1_loss":
            case "huber_loss":
            case "binary_cross_entropy":
            case "binary_cross_entropy_with_logits": return LossTarget;
            case "LSTM": case "GRU": case "RNN": return RecurrentInput;
            case "BatchNorm1d": case "BatchNorm2d": case "layer_norm": case "rms_norm": case "group_norm": case "GroupNorm": return Normalization;
            default: return OtherShape;
        }
    }
}
