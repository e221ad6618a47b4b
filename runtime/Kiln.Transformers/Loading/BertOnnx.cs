using System.Collections.Generic;
using Kiln.Onnx;

namespace Kiln.Transformers;

/// <summary>
/// A BERT encoder exported to ONNX (torch.onnx's export of Hugging Face's BertModel, as sentence-transformers ships
/// all-MiniLM-L6-v2) imported into <see cref="BertModel"/>. Named initializers keep their PyTorch names; each Linear's
/// weight is an anonymous transposed MatMul operand, found by following the graph: MatMul(x, W) feeding Add(bias) is the
/// layer of that bias, with weight Wᵀ. The config comes from the tensors' shapes and the attention reshape's head count.
/// </summary>
public static class BertOnnx
{
    /// <summary>Reads the ONNX file at <paramref name="path"/> into a BERT encoder.</summary>
    public static BertModel Load(string path, BertConfig? config = null) => Import(OnnxGraph.Load(path), config, path);

    /// <summary>Imports <paramref name="graph"/> (<paramref name="source"/> names it in errors); <paramref name="config"/> overrides what is inferred.</summary>
    public static BertModel Import(OnnxGraph graph, BertConfig? config = null, string source = "onnx model")
    {
        var named = graph.Initializers;
        config ??= InferConfig(graph, source);
        var model = new BertModel(config);
        var keys = new HashSet<string>(model.StateDict().Keys);
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, t) in named)
            if (keys.Contains(name)) state[name] = t;
        foreach (var node in graph.Nodes)
        {
            if (node.OpType != "MatMul" || !named.TryGetValue(node.Inputs[1], out var w) || keys.Contains(node.Inputs[1])) continue;
            foreach (var add in graph.ConsumersOf(node.Outputs[0]))
            {
                if (add.OpType != "Add") continue;
                string bias = add.Inputs[0] == node.Outputs[0] ? add.Inputs[1] : add.Inputs[0];
                if (!bias.EndsWith(".bias", System.StringComparison.Ordinal) || !keys.Contains(bias)) continue;
                state[bias[..^".bias".Length] + ".weight"] = w.T.Contiguous();
            }
        }
        try { model.LoadStateDict(state, strict: true); }
        catch (KilnException e) { throw new KilnException("onnx", $"onnx: {source}: the graph does not map onto BertModel: {e.Message}", KilnErrorKind.Format); }
        model.Eval();
        return model;
    }

    static BertConfig InferConfig(OnnxGraph graph, string source)
    {
        var n = graph.Initializers;
        Tensor Need(string name) => n.TryGetValue(name, out var t) ? t
            : throw new KilnException("onnx", $"onnx: {source}: no initializer '{name}': not a BERT encoder export (pass a BertConfig to map another layout)", KilnErrorKind.Format);
        var words = Need("embeddings.word_embeddings.weight");
        int layers = 0;
        while (n.ContainsKey($"encoder.layer.{layers}.attention.self.query.bias")) layers++;
        int hidden = words.Size(1);
        return new BertConfig
        {
            VocabSize = words.Size(0),
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = Heads(graph, source),
            IntermediateSize = Need("encoder.layer.0.intermediate.dense.bias").Size(0),
            MaxPositionEmbeddings = Need("embeddings.position_embeddings.weight").Size(0),
            TypeVocabSize = Need("embeddings.token_type_embeddings.weight").Size(0),
        };
    }

    // The key projection's output is reshaped to [batch, length, heads, head_dim]: the shape's Concat holds heads and
    // head_dim as constant initializers.
    static int Heads(OnnxGraph graph, string source)
    {
        foreach (var node in graph.Nodes)
        {
            const string keyBias = "encoder.layer.0.attention.self.key.bias";
            if (node.OpType != "Add" || (node.Inputs[0] != keyBias && node.Inputs[1] != keyBias)) continue;
            foreach (var reshape in graph.ConsumersOf(node.Outputs[0]))
            {
                if (reshape.OpType != "Reshape" || graph.ProducerOf(reshape.Inputs[1]) is not { OpType: "Concat" } concat || concat.Inputs.Count != 4) continue;
                if (graph.Initializers.TryGetValue(concat.Inputs[2], out var heads) && heads.Numel == 1) return (int)heads.ToArray<long>()[0];
            }
        }
        throw new KilnException("onnx", $"onnx: {source}: the number of attention heads could not be read from the graph; pass a BertConfig", KilnErrorKind.Format);
    }
}
