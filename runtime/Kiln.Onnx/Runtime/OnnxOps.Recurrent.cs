using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    // ONNX stacks LSTM gates i, o, f, c and GRU gates z, r, h; Kiln's fused layers (PyTorch's order) take i, f, g, o and
    // r, z, n. Entry b names the ONNX block that Kiln's block b comes from.
    static readonly int[] LstmFromOnnx = [0, 2, 3, 1];
    static readonly int[] GruFromOnnx = [1, 0, 2];

    static void AddRecurrent(Dictionary<string, Op> t)
    {
        // Each direction runs Kiln's fused layer over the input projection X·Wᵀ + biases, as nn.LSTM / nn.GRU do.
        t["LSTM"] = ctx =>
        {
            var (x, directions, h, batchFirst, lengths) = Recurrent(ctx, gates: 4);
            if (!DefaultActivations(ctx, ["Sigmoid", "Tanh", "Tanh"]) || ctx.Int("input_forget", 0) != 0 || ctx.Optional(7) is not null)
                return Stepwise(ctx, RecurrentKind.Lstm, x, directions, h, batchFirst, lengths);
            var ys = new Tensor[directions.Count];
            var hs = new Tensor[directions.Count];
            var cs = new Tensor[directions.Count];
            for (int d = 0; d < directions.Count; d++)
            {
                var w = Blocks(ctx.In(1).Select(0, d), LstmFromOnnx, h);
                var r = Blocks(ctx.In(2).Select(0, d), LstmFromOnnx, h);
                var proj = x.Matmul(w.T);
                if (ctx.Optional(3) is { } b)
                    proj = proj + Blocks(b.Select(0, d).Narrow(0, 0, 4 * h), LstmFromOnnx, h) + Blocks(b.Select(0, d).Narrow(0, 4 * h, 4 * h), LstmFromOnnx, h);
                var h0 = State(ctx, 5, d, x, h, batchFirst);
                var c0 = State(ctx, 6, d, x, h, batchFirst);
                bool reverse = directions[d];
                var hc = Tensor.LstmLayerOp(proj, h0, c0, r, null, reverse, lengths);
                ys[d] = Zeroed(hc.Narrow(2, 0, h), lengths);
                // Past a sequence's end the fused layer holds its state: these steps hold Y_h and Y_c.
                var last = hc.Select(0, reverse ? 0 : x.Size(0) - 1);
                hs[d] = last.Narrow(1, 0, h);
                cs[d] = last.Narrow(1, h, h);
            }
            return [Sequence(ys, batchFirst), Tensor.Stack(hs, batchFirst ? 1 : 0), Tensor.Stack(cs, batchFirst ? 1 : 0)];
        };
        t["GRU"] = ctx =>
        {
            var (x, directions, h, batchFirst, lengths) = Recurrent(ctx, gates: 3);
            if (!DefaultActivations(ctx, ["Sigmoid", "Tanh"]) || ctx.Int("linear_before_reset", 0) == 0)
                return Stepwise(ctx, RecurrentKind.Gru, x, directions, h, batchFirst, lengths);
            var ys = new Tensor[directions.Count];
            var hs = new Tensor[directions.Count];
            for (int d = 0; d < directions.Count; d++)
            {
                var w = Blocks(ctx.In(1).Select(0, d), GruFromOnnx, h);
                var r = Blocks(ctx.In(2).Select(0, d), GruFromOnnx, h);
                var proj = x.Matmul(w.T);
                Tensor? recurrentBias = null;
                if (ctx.Optional(3) is { } b)
                {
                    proj = proj + Blocks(b.Select(0, d).Narrow(0, 0, 3 * h), GruFromOnnx, h);
                    recurrentBias = Blocks(b.Select(0, d).Narrow(0, 3 * h, 3 * h), GruFromOnnx, h);
                }
                var h0 = State(ctx, 5, d, x, h, batchFirst);
                bool reverse = directions[d];
                var y = Tensor.GruLayerOp(proj, h0, r, recurrentBias, reverse, lengths);
                ys[d] = Zeroed(y, lengths);
                hs[d] = y.Select(0, reverse ? 0 : x.Size(0) - 1);
            }
            return [Sequence(ys, batchFirst), Tensor.Stack(hs, batchFirst ? 1 : 0)];
        };
        t["RNN"] = ctx =>
        {
            var (x, directions, h, batchFirst, lengths) = Recurrent(ctx, gates: 1);
            return Stepwise(ctx, RecurrentKind.Rnn, x, directions, h, batchFirst, lengths);
        };
    }

    /// <summary>Whether the node keeps ONNX's default activations and no clip (what the fused layers compute).</summary>
    static bool DefaultActivations(NodeContext ctx, string[] defaults)
    {
        if (ctx.Has("clip")) return false;
        if (!ctx.Node.StringLists.TryGetValue("activations", out var acts)) return true;
        for (int i = 0; i < acts.Length; i++)
            if (!string.Equals(acts[i], defaults[i % defaults.Length], System.StringComparison.OrdinalIgnoreCase)) return false;
        return true;
    }

    /// <summary>
    /// The checks and settings LSTM, GRU and RNN share: X as [T, N, I], the directions (true = reverse), the hidden size, the
    /// layout and <c>sequence_lens</c> as int64 (null when absent).
    /// </summary>
    static (Tensor X, List<bool> Directions, int Hidden, bool BatchFirst, Tensor? Lengths) Recurrent(NodeContext ctx, int gates)
    {
        int h = checked((int)ctx.Int("hidden_size", 0));
        if (h <= 0) throw ctx.Error("hidden_size must be a positive attribute");
        var directions = ctx.String("direction", "forward") switch
        {
            "forward" => new List<bool> { false },
            "reverse" => new List<bool> { true },
            "bidirectional" => new List<bool> { false, true },
            var other => throw ctx.Error($"direction '{other}' is not forward, reverse or bidirectional"),
        };
        bool batchFirst = ctx.Int("layout", 0) == 1;
        var x = ctx.In(0);
        if (x.Dim != 3) throw ctx.Error($"X should be 3-D, got [{string.Join(", ", x.ShapeArray)}]");
        if (batchFirst) x = x.Transpose(0, 1);
        var w = ctx.In(1);
        if (w.Dim != 3 || w.Size(0) != directions.Count || w.Size(1) != gates * h || w.Size(2) != x.Size(2))
            throw ctx.Error($"W [{string.Join(", ", w.ShapeArray)}] should be [{directions.Count}, {gates * h}, {x.Size(2)}]");
        var r = ctx.In(2);
        if (r.Dim != 3 || r.Size(0) != directions.Count || r.Size(1) != gates * h || r.Size(2) != h)
            throw ctx.Error($"R [{string.Join(", ", r.ShapeArray)}] should be [{directions.Count}, {gates * h}, {h}]");
        var lengths = ctx.Optional(4)?.To(DType.Int64);
        if (lengths is not null && (lengths.Dim != 1 || lengths.Size(0) != x.Size(1)))
            throw ctx.Error($"sequence_lens [{string.Join(", ", lengths.ShapeArray)}] should be [{x.Size(1)}], one length per batch entry");
        return (x, directions, h, batchFirst, lengths);
    }

    /// <summary>ONNX's Y is zero past each sequence's end (the fused layers hold the state there).</summary>
    static Tensor Zeroed(Tensor y, Tensor? lengths) => lengths is null ? y : y * Tensor.StepMask(lengths, y.Size(0), y.DType, y.Device);

    /// <summary>Direction <paramref name="d"/>'s initial state [N, H] from input <paramref name="i"/> ([D, N, H], or [N, D, H] with layout 1), zeros when omitted.</summary>
    static Tensor State(NodeContext ctx, int i, int d, Tensor x, int h, bool batchFirst) =>
        ctx.Optional(i)?.Select(batchFirst ? 1 : 0, d).Contiguous() ?? Tensor.Zeros([x.Size(1), h], x.DType);

    /// <summary>The gate blocks of <paramref name="t"/> (stacked along dim 0, <paramref name="h"/> rows each) in Kiln's order.</summary>
    static Tensor Blocks(Tensor t, int[] fromOnnx, int h)
    {
        var parts = new Tensor[fromOnnx.Length];
        for (int b = 0; b < parts.Length; b++) parts[b] = t.Narrow(0, fromOnnx[b] * h, h);
        return Tensor.Cat(parts, 0);
    }

    /// <summary>Y: [T, directions, N, H] (or [N, T, directions, H] with layout 1).</summary>
    static Tensor Sequence(Tensor[] perDirection, bool batchFirst)
    {
        var y = Tensor.Stack(perDirection, 1);
        return batchFirst ? y.Permute(2, 0, 1, 3) : y;
    }
}
