using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

/// <summary>
/// The ONNX operators Kiln runs, one entry per operator type, each a function from a <see cref="NodeContext"/> to the
/// node's outputs written with Kiln's own tensor operations (so an imported graph computes what the same Kiln code would).
/// The table is split by family: <c>OnnxOps.Math.cs</c> (elementwise), <c>OnnxOps.Shape.cs</c> (shapes, indexing, casts),
/// <c>OnnxOps.Reduce.cs</c> (reductions, softmax), <c>OnnxOps.Nn.cs</c> (matmul, convolution, pooling, normalization),
/// <c>OnnxOps.Indexing.cs</c> (scatter/gather, one-hot, losses), <c>OnnxOps.Recurrent.cs</c> (LSTM, GRU),
/// <c>OnnxOps.Resize.cs</c> (Resize, Upsample), <c>OnnxOps.Signal.cs</c> (windows, DFT, STFT, mel filters), <c>OnnxOps.Training.cs</c>
/// (the ai.onnx.preview.training optimizers, keyed "domain:Op"), <c>OnnxOps.Detection.cs</c> (NonMaxSuppression, RoiAlign),
/// <c>OnnxOps.Quantized.cs</c> (linear quantization and the integer / QLinear products), <c>OnnxOps.ControlFlow.cs</c> (If, Loop, Scan,
/// sequences, optionals), <c>OnnxOps.Random.cs</c> (random draws, BitShift).
/// </summary>
public static partial class OnnxOps
{
    delegate object?[] Op(NodeContext ctx);

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
        AddResize(t);
        AddSignal(t);
        AddTraining(t);
        AddDetection(t);
        AddQuantized(t);
        AddControlFlow(t);
        AddRandom(t);
        return t;
    }

    /// <summary>The operator types Kiln runs (those of another domain than the default as "domain:Op").</summary>
    public static IReadOnlyCollection<string> Names => Table.Keys;

    /// <summary>A node's key in the table: its type, prefixed by its domain unless that is the default one.</summary>
    static string Key(OnnxNode node) => node.Domain is "" or "ai.onnx" ? node.OpType : node.Domain + ":" + node.OpType;

    internal static bool Supports(OnnxNode node) => Table.ContainsKey(Key(node));

    internal static object?[] Run(NodeContext ctx)
    {
        if (!Table.TryGetValue(Key(ctx.Node), out var op))
            throw ctx.Unsupported(ctx.Node.Domain is "" or "ai.onnx" ? "this operator" : $"domain '{ctx.Node.Domain}'");
        try { return op(ctx); }
        catch (KilnException e) when (e.Op != "onnx")
        {
            throw new KilnException("onnx", $"onnx {ctx.Node.OpType}{(ctx.Node.Name.Length > 0 ? $" '{ctx.Node.Name}'" : "")}: {e.Message}", e, e.Kind);
        }
    }

    static object?[] One(object? t) => [t];

    /// <summary>A 0-d tensor of <paramref name="dtype"/>.</summary>
    static Tensor Const(double value, DType dtype) => Tensor.Full([], value, dtype);

    static int[] ToInts(long[] v)
    {
        var r = new int[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = checked((int)v[i]);
        return r;
    }
}
