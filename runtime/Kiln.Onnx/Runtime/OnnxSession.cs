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
        Collect(graph, missing);
        Unsupported = [.. missing];
    }

    /// <summary>The operator types Kiln does not run in <paramref name="graph"/> and the bodies of its control flow.</summary>
    static void Collect(OnnxGraph graph, SortedSet<string> missing)
    {
        foreach (var n in graph.Nodes)
        {
            if (!OnnxOps.Supports(n)) missing.Add(n.OpType);
            foreach (var body in n.Graphs.Values) Collect(body, missing);
        }
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

    /// <summary>Runs the graph on <paramref name="inputs"/> (by input name) and returns every graph output by name; every
    /// input and output a tensor (<see cref="RunValues"/> takes and gives sequences and optionals too).</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var feeds = new Dictionary<string, object?>();
        foreach (var (name, t) in inputs) feeds[name] = t;
        var outputs = new Dictionary<string, Tensor>();
        foreach (var (name, v) in RunValues(feeds))
            outputs[name] = v as Tensor ?? throw new KilnException("onnx", $"onnx: output '{name}' is {NodeContext.Describe(v)}, not a tensor: use RunValues", KilnErrorKind.Argument);
        return outputs;
    }

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> by name, each a <see cref="Tensor"/>, an <see cref="OnnxSequence"/> or an
    /// <see cref="OnnxOptional"/>, and returns every graph output by name in the same kinds.
    /// </summary>
    public Dictionary<string, object?> RunValues(IReadOnlyDictionary<string, object?> inputs)
    {
        using var _ = Autograd.NoGrad();
        foreach (var name in _graph.Inputs)
            if (!inputs.ContainsKey(name))
                throw new KilnException("onnx", $"onnx: input '{name}' was not given (the model takes {string.Join(", ", _graph.Inputs)})", KilnErrorKind.Argument);
        var known = new HashSet<string>(_graph.Inputs);
        foreach (var name in inputs.Keys)
            if (!known.Contains(name)) throw new KilnException("onnx", $"onnx: the model has no input '{name}' (it takes {string.Join(", ", _graph.Inputs)})", KilnErrorKind.Argument);
        var ordered = new object?[_graph.Inputs.Count];
        for (int i = 0; i < ordered.Length; i++) ordered[i] = inputs[_graph.Inputs[i]];
        var values = GraphRunner.Run(_graph, ordered, null, "the graph");
        var outputs = new Dictionary<string, object?>();
        for (int i = 0; i < values.Length; i++) outputs[_graph.Outputs[i]] = values[i];
        return outputs;
    }
}
