using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

/// <summary>
/// The ONNX operators Kiln runs, one entry per operator type, each a function from a <see cref="NodeContext"/> to the
/// node's outputs written with Kiln's own tensor operations (so an imported graph computes what the same Kiln code would).
/// The table is split by family: <c>OnnxOps.Math.cs</c> (elementwise), <c>OnnxOps.Shape.cs</c> (shapes, indexing, casts),
/// <c>OnnxOps.Reduce.cs</c> (reductions, softmax), <c>OnnxOps.Nn.cs</c> (matmul, convolution, pooling, normalization),
/// <c>OnnxOps.Indexing.cs</c> (scatter/gather, one-hot, losses), <c>OnnxOps.Recurrent.cs</c> (LSTM, GRU).
/// </summary>
public static partial class OnnxOps
{
    delegate Tensor?[] Op(NodeContext ctx);

    static readonly Dictionary<string, Op> Table = Build();

    static Dictionary<string, Op> Build()
    {
        var t = new Dictionary<string, Op>();
        AddMath(t);
        AddShape(t);
        AddReduce(t);
        AddNn(t);
        AddIndexing(t);
        AddRecurrent(t);
        return t;
    }

    /// <summary>The operator types Kiln runs (default ONNX domain).</summary>
    public static IReadOnlyCollection<string> Names => Table.Keys;

    internal static bool Supports(OnnxNode node) => node.Domain is "" or "ai.onnx" && Table.ContainsKey(node.OpType);

    internal static Tensor?[] Run(NodeContext ctx)
    {
        if (ctx.Node.Domain is not ("" or "ai.onnx")) throw ctx.Unsupported($"domain '{ctx.Node.Domain}'");
        if (!Table.TryGetValue(ctx.Node.OpType, out var op)) throw ctx.Unsupported("this operator");
        try { return op(ctx); }
        catch (KilnException e) when (e.Op != "onnx")
        {
            throw new KilnException("onnx", $"onnx {ctx.Node.OpType}{(ctx.Node.Name.Length > 0 ? $" '{ctx.Node.Name}'" : "")}: {e.Message}", e, e.Kind);
        }
    }

    static Tensor?[] One(Tensor t) => [t];

    /// <summary>A 0-d tensor of <paramref name="dtype"/>.</summary>
    static Tensor Const(double value, DType dtype) => Tensor.Full([], value, dtype);

    static int[] ToInts(long[] v)
    {
        var r = new int[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = checked((int)v[i]);
        return r;
    }
}
