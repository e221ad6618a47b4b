using System.Collections.Generic;

namespace Kiln.Onnx;

/// <summary>One operator of an ONNX graph: its type, the value names it reads and writes, its integer and float attributes.</summary>
/// <param name="OpType">The operator (<c>MatMul</c>, <c>Add</c>, ...).</param>
/// <param name="Name">The node's name (may be empty).</param>
/// <param name="Inputs">Names of the values it reads (an initializer, a graph input or another node's output; "" for an omitted optional input).</param>
/// <param name="Outputs">Names of the values it writes.</param>
/// <param name="Ints">Integer attributes (<c>transB</c>, <c>axis</c>, ...).</param>
/// <param name="Floats">Float attributes (<c>alpha</c>, <c>epsilon</c>, ...).</param>
public sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, long> Ints, IReadOnlyDictionary<string, float> Floats)
{
    /// <summary>Integer-list attributes (<c>perm</c>, <c>kernel_shape</c>, <c>pads</c>, ...).</summary>
    public IReadOnlyDictionary<string, long[]> IntLists { get; init; } = new Dictionary<string, long[]>();
    /// <summary>Float-list attributes.</summary>
    public IReadOnlyDictionary<string, float[]> FloatLists { get; init; } = new Dictionary<string, float[]>();
    /// <summary>String attributes (<c>auto_pad</c>, <c>mode</c>, ...).</summary>
    public IReadOnlyDictionary<string, string> Strings { get; init; } = new Dictionary<string, string>();
    /// <summary>String-list attributes (the recurrent operators' <c>activations</c>).</summary>
    public IReadOnlyDictionary<string, string[]> StringLists { get; init; } = new Dictionary<string, string[]>();
    /// <summary>Tensor attributes (<c>Constant</c>'s <c>value</c>, <c>ConstantOfShape</c>'s fill value).</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; init; } = new Dictionary<string, Tensor>();
    /// <summary>Graph attributes: the bodies of <c>If</c> (then_branch, else_branch), <c>Loop</c>, <c>Scan</c>, <c>SequenceMap</c>.</summary>
    public IReadOnlyDictionary<string, OnnxGraph> Graphs { get; init; } = new Dictionary<string, OnnxGraph>();
    /// <summary>Type attributes (<c>Optional</c>'s <c>type</c>).</summary>
    internal IReadOnlyDictionary<string, global::Onnx.TypeProto> Types { get; init; } = new Dictionary<string, global::Onnx.TypeProto>();
    /// <summary>The operator's domain ("" for the default ONNX domain).</summary>
    public string Domain { get; init; } = "";
}
