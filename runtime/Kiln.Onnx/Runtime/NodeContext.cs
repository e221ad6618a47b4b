using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

/// <summary>What an operator sees while it runs: its node (attributes), its input values (null for an omitted
/// optional input) and the model's opset, with helpers that turn bad input into an error naming the node.</summary>
internal sealed class NodeContext(OnnxNode node, Tensor?[] inputs, long opset)
{
    public OnnxNode Node { get; } = node;
    public long Opset { get; } = opset;
    public int InputCount => inputs.Length;

    /// <summary>Input <paramref name="i"/>, required.</summary>
    public Tensor In(int i) => i < inputs.Length && inputs[i] is { } t ? t : throw Error($"input {i} is required");

    /// <summary>Input <paramref name="i"/>, or null when omitted.</summary>
    public Tensor? Optional(int i) => i < inputs.Length ? inputs[i] : null;

    public long Int(string name, long fallback) => Node.Ints.TryGetValue(name, out var v) ? v : fallback;
    public float Float(string name, float fallback) => Node.Floats.TryGetValue(name, out var v) ? v : fallback;
    public string String(string name, string fallback) => Node.Strings.TryGetValue(name, out var v) ? v : fallback;
    public long[]? Ints(string name) => Node.IntLists.TryGetValue(name, out var v) ? v : null;
    public bool Has(string name) => Node.Ints.ContainsKey(name) || Node.Floats.ContainsKey(name) || Node.IntLists.ContainsKey(name)
        || Node.FloatLists.ContainsKey(name) || Node.Strings.ContainsKey(name) || Node.Tensors.ContainsKey(name) || Node.StringLists.ContainsKey(name);

    /// <summary>An integer tensor input (shapes, axes, pads) as longs.</summary>
    public long[] Longs(Tensor t) => t.To(DType.Int64).Contiguous().ToArray<long>();

    /// <summary>A negative axis counted from the end, checked against <paramref name="rank"/>.</summary>
    public int Axis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1)) throw Error($"axis {axis} is out of range for rank {rank}");
        return (int)a;
    }

    public KilnException Error(string message) =>
        new("onnx", $"onnx {Node.OpType}{(Node.Name.Length > 0 ? $" '{Node.Name}'" : "")}: {message}", KilnErrorKind.Argument);

    public KilnException Unsupported(string what) =>
        new("onnx", $"onnx {Node.OpType}{(Node.Name.Length > 0 ? $" '{Node.Name}'" : "")}: {what} is not supported", KilnErrorKind.Unsupported);
}
