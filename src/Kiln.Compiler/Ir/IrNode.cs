using System;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.Compiler.Ir
{
    /// <summary>
    /// One value of a model's forward graph: the op that computes it from earlier values (by id), and the C# expressions
    /// (over the model <c>m</c>) that reach its layer or give its settings. Equatable by value, so a generator pipeline can
    /// tell an unchanged graph from a changed one.
    /// </summary>
    public sealed class IrNode : IEquatable<IrNode>
    {
        /// <summary>Creates a node.</summary>
        public IrNode(int id, string op, IReadOnlyList<int> inputs, string? member = null, string? attr = null, string? attr2 = null,
            IReadOnlyList<string>? parameters = null)
        {
            Id = id; Op = op; Inputs = inputs.ToArray(); Member = member; Attr = attr; Attr2 = attr2;
            Parameters = parameters?.ToArray() ?? Array.Empty<string>();
        }

        /// <summary>The value's id: its position in the graph (inputs always have smaller ids).</summary>
        public int Id { get; }
        /// <summary>The op (<see cref="IrOps"/>).</summary>
        public string Op { get; }
        /// <summary>The ids of the values it reads.</summary>
        public IReadOnlyList<int> Inputs { get; }
        /// <summary>The layer, as a C# expression over the model <c>m</c> (<c>m.layer1</c>); null for ops without one.</summary>
        public string? Member { get; }
        /// <summary>The activation's name, Flatten's start dim, or dropout's probability (a C# expression).</summary>
        public string? Attr { get; }
        /// <summary>Dropout's training flag (a C# expression), or an expression island's text.</summary>
        public string? Attr2 { get; }
        /// <summary>Tensors of the model an expression island reads (C# expressions over <c>m</c>); their gradients go to them.</summary>
        public IReadOnlyList<string> Parameters { get; }

        /// <inheritdoc/>
        public bool Equals(IrNode? o) => o is not null && o.Id == Id && o.Op == Op && o.Inputs.SequenceEqual(Inputs)
            && o.Member == Member && o.Attr == Attr && o.Attr2 == Attr2 && o.Parameters.SequenceEqual(Parameters);
        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as IrNode);
        /// <inheritdoc/>
        public override int GetHashCode() => (Id + "|" + Op + "|" + string.Join(",", Inputs) + "|" + Member + "|" + Attr + "|" + Attr2 + "|" + string.Join(",", Parameters)).GetHashCode();
        /// <inheritdoc/>
        public override string ToString() => $"%{Id} = {Op}({string.Join(", ", Inputs.Select(i => "%" + i))}){(Member is null ? "" : " " + Member)}{(Attr is null ? "" : " " + Attr)}";
    }

    /// <summary>The ops of the forward graph.</summary>
    public static class IrOps
    {
        /// <summary>The Forward parameter.</summary>
        public const string Input = "input";
        /// <summary>A Linear layer: GEMM with bias (<see cref="IrNode.Attr"/> <see cref="WeightInOut"/> for a weight stored [in, out]).</summary>
        public const string Linear = "linear";
        /// <summary>A <see cref="Linear"/> node's <see cref="IrNode.Attr"/> when its layer stores the weight [in, out] (GPT-2's Conv1D, <c>Kiln.NN.ITransposedLinear</c>).</summary>
        public const string WeightInOut = "in_out";
        /// <summary>A Conv2d layer.</summary>
        public const string Conv2d = "conv2d";
        /// <summary>A MaxPool2d layer.</summary>
        public const string MaxPool2d = "max_pool2d";
        /// <summary>Flatten from a start dim (<see cref="IrNode.Attr"/>) to the last.</summary>
        public const string Flatten = "flatten";
        /// <summary>A one-input elementwise op (<see cref="IrNode.Attr"/>: relu, gelu, gelu_tanh, tanh, sigmoid, silu, exp, log, sqrt, rsqrt, abs, neg).</summary>
        public const string Activation = "activation";
        /// <summary>
        /// A two-operand elementwise op (<see cref="IrNode.Attr"/>: add, sub, mul, div, swiglu) on two values of one shape, or on one
        /// value and the number in <see cref="IrNode.Attr2"/> (Attr rsub/rdiv when the number comes first).
        /// </summary>
        public const string Binary = "binary";
        /// <summary>Dropout (probability and training flag as expressions).</summary>
        public const string Dropout = "dropout";
        /// <summary>The sum of two values of one shape (residual connections).</summary>
        public const string Add = "add";
        /// <summary>An input node's <see cref="IrNode.Attr2"/> for a <c>Tensor?</c> parameter without a default.</summary>
        public const string NullableInput = "nullable";
        /// <summary>An input node's <see cref="IrNode.Attr2"/> for a <c>Tensor? p = null</c> parameter.</summary>
        public const string OptionalInput = "optional";
        /// <summary>A LayerNorm layer over the last dim.</summary>
        public const string LayerNorm = "layer_norm";
        /// <summary>An RMSNorm layer over the last dim (the layer-norm kernel without centring).</summary>
        public const string RmsNorm = "rms_norm";
        /// <summary>A BatchNorm1d/2d layer (batch statistics and running-statistics update in training, running ones in eval).</summary>
        public const string BatchNorm = "batch_norm";
        /// <summary>An Embedding layer's lookup of integer indices (no gradient to them).</summary>
        public const string Embedding = "embedding";
        /// <summary>Softmax or log-softmax (<see cref="IrNode.Attr"/>) along a constant dim (<see cref="IrNode.Attr2"/>).</summary>
        public const string Softmax = "softmax";
        /// <summary>Cross entropy (log-softmax and NLL in one kernel, mean reduction) of logits and int64 class targets.</summary>
        public const string CrossEntropy = "cross_entropy";
        /// <summary>Self-attention of a MultiheadAttention layer (projections included).</summary>
        public const string SelfAttention = "self_attention";

        /// <summary>
        /// Code without a fused form, run by the eager engine inside the compiled model: a layer (<see cref="IrNode.Member"/>;
        /// <see cref="IrNode.Attr"/> the method called; its parameters found when the model runs), or a tensor expression
        /// (<see cref="IrNode.Attr"/> its name). <see cref="IrNode.Attr2"/>, when set, is the call's C# text with the input
        /// values as <see cref="Placeholder"/>s (a layer called with its input alone has none).
        /// </summary>
        public const string Island = "island";

        /// <summary>Whether an op is computed element by element (the fusion planner merges runs of them into one loop).</summary>
        public static bool IsElementwise(string op) => op == Activation || op == Dropout || op == Add || op == Binary;

        /// <summary>A binary node's op without the reversed-operand prefix (rsub → sub).</summary>
        public static string BinaryName(IrNode n) => ConstantFirst(n) ? n.Attr!.Substring(1) : n.Attr!;

        /// <summary>Whether a binary node's number operand comes first (<c>2 - x</c>).</summary>
        public static bool ConstantFirst(IrNode n) => n.Op == Binary && n.Attr2 is not null && (n.Attr == "rsub" || n.Attr == "rdiv");

        /// <summary>Whether an op reads trainable parameters of its layer.</summary>
        public static bool HasParameters(string op) => op == Linear || op == Conv2d || op == LayerNorm || op == RmsNorm || op == BatchNorm || op == Embedding || op == SelfAttention || op == Island;

        /// <summary>Whether <paramref name="n"/> reads its input at <paramref name="position"/> without differentiating it, so it may be integer (token ids, class targets).</summary>
        public static bool ReadsIndices(IrNode n, int position) => n.Op == Island || n.Op == Embedding && position == 0 || n.Op == CrossEntropy && position == 1;

        /// <summary>Where input <paramref name="k"/> goes in an expression island's text.</summary>
        public static string Placeholder(int k) => "%%" + k + "%%";

        /// <summary>An expression island's text with each input's placeholder replaced.</summary>
        public static string FillTemplate(string template, int inputs, System.Func<int, string> value)
        {
            for (int k = 0; k < inputs; k++) template = template.Replace(Placeholder(k), value(k));
            return template;
        }

        /// <summary>Whether a node reads trainable parameters (an expression island has none).</summary>
        public static bool HasParameters(IrNode n) => n.Op == Island ? n.Member is not null || n.Parameters.Count > 0 : HasParameters(n.Op);
    }
}
