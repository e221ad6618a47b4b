using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

/// <summary>What an operator sees while it runs: its node (attributes), its input values (a <see cref="Tensor"/>, an
/// <see cref="OnnxSequence"/> or an <see cref="OnnxOptional"/>; null for an omitted optional input), the model's opset
/// and the values in scope (which a control-flow body may read), with helpers that turn bad input into an error naming
/// the node.</summary>
internal sealed class NodeContext(OnnxNode node, object?[] inputs, long opset, ValueScope? scope = null)
{
    public OnnxNode Node { get; } = node;
    public long Opset { get; } = opset;
    public int InputCount => inputs.Length;
    /// <summary>The values of the graph this node runs in (and of the graphs around it).</summary>
    public ValueScope Scope { get; } = scope ?? new ValueScope(null);

    /// <summary>Input <paramref name="i"/>, required, a tensor.</summary>
    public Tensor In(int i) => Optional(i) ?? throw Error($"input {i} is required");

    /// <summary>Input <paramref name="i"/>, a tensor, or null when omitted.</summary>
    public Tensor? Optional(int i) => Value(i) switch
    {
        null => null,
        Tensor t => t,
        var other => throw Error($"input {i} is {Describe(other)}, where a tensor was expected"),
    };

    /// <summary>Input <paramref name="i"/> as given (tensor, sequence or optional), or null when omitted.</summary>
    public object? Value(int i) => i < inputs.Length ? inputs[i] : null;

    /// <summary>Input <paramref name="i"/>, required, a sequence.</summary>
    public OnnxSequence Sequence(int i) => Value(i) switch
    {
        OnnxSequence s => s,
        null => throw Error($"input {i} is required"),
        var other => throw Error($"input {i} is {Describe(other)}, where a sequence was expected"),
    };

    /// <summary>What a value is, for messages.</summary>
    public static string Describe(object? v) => v switch
    {
        null => "absent",
        Tensor t => $"a tensor [{string.Join(", ", t.ShapeArray)}]",
        OnnxSequence s => $"a sequence of {s.Count}",
        OnnxOptional o => o.HasValue ? $"an optional holding {Describe(o.Value)}" : "an empty optional",
        _ => v.GetType().Name,
    };

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
