using System.Collections.Generic;

namespace Kiln.Onnx.Export;

/// <summary>
/// The walk over a recorded graph: each autograd node becomes ONNX nodes once (post-order, so producers come first),
/// and each input of a node resolves to a value name — another node's output, a graph input, a parameter or buffer
/// (initializer under its state-dict name), or a constant the forward made (an initializer of its value).
/// </summary>
internal sealed class ExportContext(OnnxGraphWriter writer, Dictionary<Tensor, string> inputs, Dictionary<Tensor, string> parameters, bool dynamicBatch, int batchSize)
{
    readonly Dictionary<GradNode, string> _emitted = new(ReferenceEqualityComparer.Instance);

    public OnnxGraphWriter Writer { get; } = writer;
    /// <summary>Whether dim 0 is a free batch axis, and the example's batch size (shapes equal to it there are rewritten).</summary>
    public bool DynamicBatch { get; } = dynamicBatch;
    public int BatchSize { get; } = batchSize;

    /// <summary>Emits <paramref name="root"/> and everything it reads; returns its output's name.</summary>
    public string Emit(GradNode root)
    {
        // Iterative post-order: deep models must not overflow the stack.
        var stack = new Stack<(GradNode Node, bool Expanded)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (node, expanded) = stack.Pop();
            if (_emitted.ContainsKey(node)) continue;
            if (expanded)
            {
                _emitted[node] = ExportOps.Emit(this, node);
                continue;
            }
            stack.Push((node, true));
            for (int i = node.InputCount - 1; i >= 0; i--)
                if (node.NextNode(i) is { } next && !_emitted.ContainsKey(next)) stack.Push((next, false));
        }
        return _emitted[root];
    }

    /// <summary>The value name of input <paramref name="i"/> of <paramref name="node"/> ("" when the op had none there).</summary>
    public string Input(GradNode node, int i)
    {
        if (node.NextNode(i) is { } producer) return _emitted[producer];
        var t = node.NextLeaf(i) ?? node.SavedInput(i);
        if (t is null) return "";
        if (inputs.TryGetValue(t, out var name)) return name;
        if (parameters.TryGetValue(t, out var p)) return Writer.Initializer(p, t.Detach());
        if (ReshapedInput(t) is { } reshaped) return reshaped;
        // A number the forward wrote (x * 0.5) is a 0-d tensor Kiln promotes; ONNX wants the operand's own type.
        var value = t.Detach();
        if (value.Dim == 0 && value.DType.IsFloatingPoint() && node.SavedOutput is { } o && o.DType.IsFloatingPoint() && o.DType != value.DType)
            value = value.To(o.DType);
        return Writer.Constant(value);
    }

    /// <summary>
    /// Views of integer inputs are not recorded (nothing to differentiate): a reshape of a graph input (the token ids an
    /// embedding flattens) is recognised by its shared storage and written as a Reshape of that input, dim 0 free.
    /// </summary>
    string? ReshapedInput(Tensor t)
    {
        if (ViewedInput(t) is not { } name) return null;
        var shape = new long[t.Dim];
        for (int d = 0; d < shape.Length; d++) shape[d] = t.Size(d);
        if (DynamicBatch && shape.Length > 0) shape[0] = -1;
        return Writer.Node("Reshape", [name, Writer.Longs(shape)]);
    }

    /// <summary>The graph input <paramref name="t"/> is a reshaped view of (the same storage, all of it), or null.</summary>
    string? ViewedInput(Tensor t)
    {
        if (!t.IsContiguous) return null;
        foreach (var (input, name) in inputs)
            if (ReferenceEquals(input.Storage, t.Storage) && input.IsContiguous && input.Numel == t.Numel && input.DType == t.DType) return name;
        return null;
    }

    /// <summary>Whether input <paramref name="i"/> is a constant of zeros the forward made (no graph value, input or parameter).</summary>
    public bool IsZeroConstant(GradNode node, int i)
    {
        if (node.NextNode(i) is not null || node.NextLeaf(i) is not null) return false;
        var t = node.SavedInput(i);
        if (t is null || inputs.ContainsKey(t) || parameters.ContainsKey(t) || ViewedInput(t) is not null) return false;
        using var _ = Autograd.NoGrad();
        return t.Abs().Max().Item<double>() == 0;
    }

    /// <summary>The value input <paramref name="i"/> held (constants folded into attributes or other constants).</summary>
    public Tensor? Value(GradNode node, int i) => node.NextLeaf(i) ?? node.SavedInput(i);

    public KilnException Unsupported(GradNode node, string what) =>
        new("onnx export", $"onnx export: {node.OpName}: {what}", KilnErrorKind.Unsupported);
}
