using System;

namespace Kiln.Samples.Rag;

/// <summary>Exact cosine search over unit-length rows: one matrix product and a top-k per query batch.</summary>
public sealed class VectorIndex(Tensor embeddings)
{
    public int Count => embeddings.Size(0);

    /// <summary>For each query row, the indices of the <paramref name="k"/> most similar entries, best first, and their cosines.</summary>
    public (long[][] Indices, float[][] Scores) Search(Tensor queries, int k)
    {
        using var _ = Autograd.NoGrad();
        var top = queries.Matmul(embeddings.T).TopK(Math.Min(k, Count), 1);
        int q = queries.Size(0), kk = top.Indices.Size(1);
        var idx = top.Indices.Contiguous().ToArray<long>();
        var val = top.Values.Contiguous().ToArray<float>();
        var indices = new long[q][];
        var scores = new float[q][];
        for (int i = 0; i < q; i++)
        {
            indices[i] = idx.AsSpan(i * kk, kk).ToArray();
            scores[i] = val.AsSpan(i * kk, kk).ToArray();
        }
        return (indices, scores);
    }
}
