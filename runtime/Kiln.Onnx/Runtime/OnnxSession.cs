using System;
using System.Collections.Generic;
using System.IO;

namespace Kiln.Onnx.Runtime;

/// <summary>
/// Runs an ONNX model on Kiln tensors (an inference session, as ONNX Runtime's <c>InferenceSession</c>): the graph's
/// nodes in order, each through Kiln's operators (<see cref="OnnxOps"/> lists those it knows). An operator Kiln does not
/// implement, or an input of the wrong name or rank, is a <see cref="KilnException"/> naming the node.
/// </summary>
public sealed class OnnxSession
{
    readonly OnnxGraph _graph;

    OnnxSession(OnnxGraph graph)
    {
        _graph = graph;
        var missing = new SortedSet<string>();
        foreach (var n in graph.Nodes) if (!OnnxOps.Supports(n)) missing.Add(n.OpType);
        Unsupported = [.. missing];
    }

    /// <summary>Loads the model at <paramref name="path"/>.</summary>
    public static OnnxSession Load(string path) => new(OnnxGraph.Load(path));

    /// <summary>Loads a model from <paramref name="stream"/>.</summary>
    public static OnnxSession Load(Stream stream, string source = "onnx model") => new(OnnxGraph.Load(stream, source));

    /// <summary>The graph that runs.</summary>
    public OnnxGraph Graph => _graph;
    /// <summary>The inputs the caller feeds (initializers excluded).</summary>
    public IReadOnlyList<string> InputNames => _graph.Inputs;
    /// <summary>The outputs <see cref="Run"/> returns.</summary>
    public IReadOnlyList<string> OutputNames => _graph.Outputs;
    /// <summary>Operator types in the graph that Kiln does not run (empty when the whole model runs).</summary>
    public IReadOnlyList<string> Unsupported { get; }

    /// <summary>Runs the graph on <paramref name="inputs"/> (by input name) and returns every graph output by name.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        using var _ = Autograd.NoGrad();
        var values = new Dictionary<string, Tensor>(_graph.Initializers);
        foreach (var name in _graph.Inputs)
        {
            if (!inputs.TryGetValue(name, out var t))
                throw new KilnException("onnx", $"onnx: input '{name}' was not given (the model takes {string.Join(", ", _graph.Inputs)})", KilnErrorKind.Argument);
            values[name] = t;
        }
        foreach (var name in inputs.Keys)
            if (!values.ContainsKey(name)) throw new KilnException("onnx", $"onnx: the model has no input '{name}' (it takes {string.Join(", ", _graph.Inputs)})", KilnErrorKind.Argument);
        foreach (var node in _graph.Nodes)
        {
            var args = new Tensor?[node.Inputs.Count];
            for (int i = 0; i < args.Length; i++)
            {
                string n = node.Inputs[i];
                if (n.Length == 0) continue;
                args[i] = values.TryGetValue(n, out var v) ? v
                    : throw new KilnException("onnx", $"onnx {node.OpType}: value '{n}' is used before any node writes it", KilnErrorKind.Format);
            }
            var results = OnnxOps.Run(new NodeContext(node, args, _graph.Opset));
            for (int i = 0; i < node.Outputs.Count && i < results.Length; i++)
                if (node.Outputs[i].Length > 0 && results[i] is { } r) values[node.Outputs[i]] = r;
        }
        var outputs = new Dictionary<string, Tensor>();
        foreach (var o in _graph.Outputs)
            outputs[o] = values.TryGetValue(o, out var v) ? v : throw new KilnException("onnx", $"onnx: no node writes the graph output '{o}'", KilnErrorKind.Format);
        return outputs;
    }
}
