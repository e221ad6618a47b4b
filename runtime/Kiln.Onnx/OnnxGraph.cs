using System;
using System.Collections.Generic;
using System.IO;
using Google.Protobuf;

namespace Kiln.Onnx;

/// <summary>
/// An ONNX model's main graph (or a control-flow operator's body), read: its nodes in order, its inputs and outputs, and every initializer as a Kiln tensor
/// (float32/64, float16, bfloat16, int32/64, int8, uint8, bool; from <c>raw_data</c> or the typed fields). Importers walk
/// it to map anonymous initializers to module parameters (a MatMul's transposed weight, say).
/// </summary>
public sealed class OnnxGraph
{
    readonly Dictionary<string, List<OnnxNode>> _consumers = new();
    readonly Dictionary<string, OnnxNode> _producer = new();

    OnnxGraph(List<OnnxNode> nodes, Dictionary<string, Tensor> initializers, List<string> inputs, List<string> outputs, long opset, string producer)
    {
        Nodes = nodes; Initializers = initializers; Inputs = inputs; Outputs = outputs; Opset = opset; Producer = producer;
        foreach (var n in nodes)
        {
            foreach (var i in n.Inputs)
            {
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = new List<OnnxNode>();
                list.Add(n);
            }
            foreach (var o in n.Outputs) _producer[o] = n;
        }
    }

    /// <summary>The operators, in the file's (topological) order.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }
    /// <summary>The initializers by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Initializers { get; }
    /// <summary>The graph inputs that are not initializers.</summary>
    public IReadOnlyList<string> Inputs { get; }
    /// <summary>The graph outputs.</summary>
    public IReadOnlyList<string> Outputs { get; }
    /// <summary>The default domain's opset version.</summary>
    public long Opset { get; }
    /// <summary>The producer's name and version (<c>pytorch 1.10</c>).</summary>
    public string Producer { get; }

    /// <summary>The nodes that read value <paramref name="name"/>.</summary>
    public IReadOnlyList<OnnxNode> ConsumersOf(string name) => _consumers.TryGetValue(name, out var l) ? l : Array.Empty<OnnxNode>();

    /// <summary>The node that writes value <paramref name="name"/>, or null (a graph input or an initializer).</summary>
    public OnnxNode? ProducerOf(string name) => _producer.GetValueOrDefault(name);

    /// <summary>Reads the ONNX file at <paramref name="path"/>.</summary>
    public static OnnxGraph Load(string path)
    {
        using var s = File.OpenRead(path);
        return Load(s, path);
    }

    /// <summary>Reads an ONNX model from <paramref name="stream"/> (<paramref name="source"/> names it in errors).</summary>
    public static OnnxGraph Load(Stream stream, string source = "onnx model")
    {
        global::Onnx.ModelProto model;
        try { model = global::Onnx.ModelProto.Parser.ParseFrom(stream); }
        catch (InvalidProtocolBufferException e)
        {
            throw new KilnException("onnx", $"onnx: {source} is not a valid ONNX model: {e.Message}", KilnErrorKind.Format);
        }
        var g = model.Graph ?? throw new KilnException("onnx", $"onnx: {source} has no graph", KilnErrorKind.Format);
        long opset = 0;
        foreach (var o in model.OpsetImport) if (o.Domain is "" or "ai.onnx") opset = o.Version;
        return FromProto(g, opset, $"{model.ProducerName} {model.ProducerVersion}".Trim(), source);
    }

    /// <summary>A graph (the main one, or a control-flow operator's body) read from its proto.</summary>
    static OnnxGraph FromProto(global::Onnx.GraphProto g, long opset, string producer, string source)
    {
        var inits = new Dictionary<string, Tensor>();
        foreach (var t in g.Initializer) inits[t.Name] = OnnxTensor.ToTensor(t, source);
        var nodes = new List<OnnxNode>(g.Node.Count);
        foreach (var n in g.Node)
        {
            var ints = new Dictionary<string, long>();
            var floats = new Dictionary<string, float>();
            var intLists = new Dictionary<string, long[]>();
            var floatLists = new Dictionary<string, float[]>();
            var strings = new Dictionary<string, string>();
            var stringLists = new Dictionary<string, string[]>();
            var tensors = new Dictionary<string, Tensor>();
            var graphs = new Dictionary<string, OnnxGraph>();
            var types = new Dictionary<string, global::Onnx.TypeProto>();
            foreach (var a in n.Attribute)
            {
                switch (a.Type)
                {
                    case global::Onnx.AttributeProto.Types.AttributeType.Int: ints[a.Name] = a.I; break;
                    case global::Onnx.AttributeProto.Types.AttributeType.Float: floats[a.Name] = a.F; break;
                    case global::Onnx.AttributeProto.Types.AttributeType.Ints: intLists[a.Name] = [.. a.Ints]; break;
                    case global::Onnx.AttributeProto.Types.AttributeType.Floats: floatLists[a.Name] = [.. a.Floats]; break;
                    case global::Onnx.AttributeProto.Types.AttributeType.String: strings[a.Name] = a.S.ToStringUtf8(); break;
                    case global::Onnx.AttributeProto.Types.AttributeType.Strings:
                        var list = new string[a.Strings.Count];
                        for (int i = 0; i < list.Length; i++) list[i] = a.Strings[i].ToStringUtf8();
                        stringLists[a.Name] = list;
                        break;
                    case global::Onnx.AttributeProto.Types.AttributeType.Tensor: tensors[a.Name] = OnnxTensor.ToTensor(a.T, source); break;
                    case global::Onnx.AttributeProto.Types.AttributeType.Graph: graphs[a.Name] = FromProto(a.G, opset, producer, source); break;
                    case global::Onnx.AttributeProto.Types.AttributeType.TypeProto: types[a.Name] = a.Tp; break;
                }
            }
            nodes.Add(new OnnxNode(n.OpType, n.Name, [.. n.Input], [.. n.Output], ints, floats)
            {
                IntLists = intLists,
                FloatLists = floatLists,
                Strings = strings,
                StringLists = stringLists,
                Tensors = tensors,
                Graphs = graphs,
                Types = types,
                Domain = n.Domain ?? "",
            });
        }
        var inputs = new List<string>();
        var inputTypes = new List<global::Onnx.TypeProto?>();
        foreach (var i in g.Input)
            if (!inits.ContainsKey(i.Name)) { inputs.Add(i.Name); inputTypes.Add(i.Type); }
        var outputs = new List<string>();
        var outputTypes = new List<global::Onnx.TypeProto?>();
        foreach (var o in g.Output) { outputs.Add(o.Name); outputTypes.Add(o.Type); }
        return new OnnxGraph(nodes, inits, inputs, outputs, opset, producer) { InputTypes = inputTypes, OutputTypes = outputTypes };
    }

    /// <summary>The declared type of each input (null where the file declares none): tensor, sequence or optional.</summary>
    internal IReadOnlyList<global::Onnx.TypeProto?> InputTypes { get; private init; } = [];
    /// <summary>The declared type of each output.</summary>
    internal IReadOnlyList<global::Onnx.TypeProto?> OutputTypes { get; private init; } = [];
}
