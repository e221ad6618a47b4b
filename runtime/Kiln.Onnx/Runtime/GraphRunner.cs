using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

/// <summary>
/// Runs a graph's nodes in order in a scope of their own (over the enclosing scope for a control-flow body): the
/// main graph of a session and every body of If, Loop, Scan and SequenceMap go through here.
/// </summary>
internal static class GraphRunner
{
    /// <summary>The graph's outputs, in order, given its inputs in order (a body's formal inputs; the caller checks counts).</summary>
    public static object?[] Run(OnnxGraph graph, IReadOnlyList<object?> inputs, ValueScope? outer, string what)
    {
        var scope = new ValueScope(outer);
        foreach (var (name, value) in graph.Initializers) scope.Set(name, value);
        if (inputs.Count != graph.Inputs.Count)
            throw new KilnException("onnx", $"onnx: {what} takes {graph.Inputs.Count} inputs ({string.Join(", ", graph.Inputs)}), {inputs.Count} were given", KilnErrorKind.Argument);
        for (int i = 0; i < inputs.Count; i++) scope.Set(graph.Inputs[i], inputs[i]);
        foreach (var node in graph.Nodes)
        {
            var args = new object?[node.Inputs.Count];
            for (int i = 0; i < args.Length; i++)
            {
                string n = node.Inputs[i];
                if (n.Length == 0) continue;
                if (!scope.TryGet(n, out args[i]))
                    throw new KilnException("onnx", $"onnx {node.OpType}: value '{n}' is used before any node writes it", KilnErrorKind.Format);
            }
            var results = OnnxOps.Run(new NodeContext(node, args, graph.Opset, scope));
            for (int i = 0; i < node.Outputs.Count && i < results.Length; i++)
                if (node.Outputs[i].Length > 0) scope.Set(node.Outputs[i], results[i]);
        }
        var outputs = new object?[graph.Outputs.Count];
        for (int i = 0; i < outputs.Length; i++)
            if (!scope.TryGet(graph.Outputs[i], out outputs[i]))
                throw new KilnException("onnx", $"onnx: no node of {what} writes its output '{graph.Outputs[i]}'", KilnErrorKind.Format);
        return outputs;
    }
}
