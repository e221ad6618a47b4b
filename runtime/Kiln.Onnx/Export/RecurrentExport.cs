using System;
using Kiln.Compiler.Ops;
using Onnx;
using static Kiln.Onnx.Export.OnnxGraphWriter;

namespace Kiln.Onnx.Export;

/// <summary>
/// Kiln's fused recurrent layer ops as ONNX LSTM/GRU nodes. Kiln records one node per layer direction over the input
/// projection already computed ([T, N, G·H], biases added), so the ONNX node reads that projection as its input with an
/// input weight that only reorders the gate blocks (ONNX's LSTM order is i, o, f, c where Kiln's is i, f, g, o; GRU's
/// z, r, h where Kiln's is r, z, n); the recurrent weight is the parameter gathered into ONNX's order, so it stays an
/// initializer under its own name. Sequence lengths become <c>sequence_lens</c>; past a sequence's end ONNX writes zeros
/// where Kiln's layers hold the state, so those steps are filled back in (the final h forward, the initial h in reverse).
/// </summary>
internal static class RecurrentExport
{
    /// <summary>lstm_layer → LSTM: output [T, N, 2H] as Kiln's (each step's h, then c).</summary>
    public static string Lstm(ExportContext c, GradNode n)
    {
        var a = (LstmArgs)n.Args;
        if (n.InputCount > 4 && c.Value(n, 4) is not null) throw c.Unsupported(n, "a projected LSTM (proj_size > 0) has no ONNX LSTM form");
        int h = a.HiddenSize;
        int[] order = [0, 3, 1, 2];   // ONNX block b reads Kiln block order[b]
        var (w, r) = Weights(c, n, whh: 3, gates: 4, h, order);
        string hInit = InitialState(c, n, 1), cInit = InitialState(c, n, 2);
        string lengths = SequenceLengths(c, n, 6);
        string yh = "", yc = c.Writer.Fresh("lstm_c");
        var y = c.Writer.Node("LSTM", [c.Input(n, 0), w, r, "", lengths, hInit, cInit], node =>
        {
            node.Output.Add(yh = c.Writer.Fresh("lstm_h"));
            node.Output.Add(yc);
            node.Attribute.Add(Int("hidden_size", h));
            node.Attribute.Add(String("direction", a.Reverse ? "reverse" : "forward"));
        });
        // Y [T, 1, N, H] → [T, N, H]. ONNX returns only the last cell state: every step carries it (Kiln's LSTM reads
        // the cell state of the last step only, for the final (h, c)).
        var hs = Held(c, c.Writer.Node("Squeeze", [y, c.Writer.Longs(1)]), lengths, a.Reverse ? hInit : yh);
        var cs = c.Writer.Node("Expand", [yc, c.Writer.Node("Shape", [hs])]);
        return c.Writer.Node("Concat", [hs, cs], node => node.Attribute.Add(Int("axis", 2)));
    }

    /// <summary>gru_layer → GRU (linear_before_reset, as PyTorch's): output [T, N, H].</summary>
    public static string Gru(ExportContext c, GradNode n)
    {
        var a = (GruArgs)n.Args;
        int h = n.InputShape(0)[2] / 3;
        int[] order = [1, 0, 2];
        var (w, r) = Weights(c, n, whh: 2, gates: 3, h, order);
        string bias = "";
        if (a.HasBias)
        {
            // B = [input biases (in the projection already: zeros), recurrent bias in ONNX's gate order].
            var zeros = c.Writer.Constant(Tensor.Zeros([3 * h], n.SavedOutput!.DType), "zeros");
            var rb = c.Writer.Node("Gather", [c.Input(n, 3), c.Writer.Longs(GateRows(order, h))], node => node.Attribute.Add(Int("axis", 0)));
            bias = c.Writer.Node("Unsqueeze", [c.Writer.Node("Concat", [zeros, rb], node => node.Attribute.Add(Int("axis", 0))), c.Writer.Longs(0)]);
        }
        string hInit = InitialState(c, n, 1), lengths = SequenceLengths(c, n, 5), yh = "";
        var y = c.Writer.Node("GRU", [c.Input(n, 0), w, r, bias, lengths, hInit], node =>
        {
            node.Output.Add(yh = c.Writer.Fresh("gru_h"));
            node.Attribute.Add(Int("hidden_size", h));
            node.Attribute.Add(Int("linear_before_reset", 1));
            node.Attribute.Add(String("direction", a.Reverse ? "reverse" : "forward"));
        });
        return Held(c, c.Writer.Node("Squeeze", [y, c.Writer.Longs(1)]), lengths, a.Reverse ? hInit : yh);
    }

    /// <summary>The recorded lengths (input <paramref name="i"/>) as ONNX's int32 <c>sequence_lens</c>, or "" without them.</summary>
    static string SequenceLengths(ExportContext c, GradNode n, int i) =>
        n.InputCount > i ? c.Writer.Node("Cast", [c.Input(n, i)], node => node.Attribute.Add(Int("to", (long)TensorProto.Types.DataType.Int32))) : "";

    /// <summary>
    /// Y [T, N, H] with the steps past each sequence's end set to <paramref name="fill"/> ([1, N, H]; "" = zeros, which ONNX
    /// wrote already): Where(t &lt; length, Y, fill), the mask built from Y's own step count so no length is pinned.
    /// </summary>
    static string Held(ExportContext c, string y, string lengths, string fill)
    {
        if (lengths.Length == 0 || fill.Length == 0) return y;
        var w = c.Writer;
        var steps = w.Node("Gather", [w.Node("Shape", [y]), w.Constant(Tensor.Full([], 0, DType.Int64), "zero")], node => node.Attribute.Add(Int("axis", 0)));
        var range = w.Node("Range", [w.Constant(Tensor.Full([], 0, DType.Int32), "zero"), w.Node("Cast", [steps], node => node.Attribute.Add(Int("to", (long)TensorProto.Types.DataType.Int32))),
            w.Constant(Tensor.Full([], 1, DType.Int32), "one")]);
        var runs = w.Node("Less", [w.Node("Unsqueeze", [range, w.Longs(1)]), w.Node("Unsqueeze", [lengths, w.Longs(0)])]);
        return w.Node("Where", [w.Node("Unsqueeze", [runs, w.Longs(2)]), y, fill]);
    }

    /// <summary>W: a [1, G·H, G·H] block permutation (the projection in ONNX's gate order); R: W_hh's rows gathered alike.</summary>
    static (string W, string R) Weights(ExportContext c, GradNode n, int whh, int gates, int h, int[] order)
    {
        int size = gates * h;
        var permutation = new float[size * size];
        for (int b = 0; b < gates; b++)
            for (int i = 0; i < h; i++) permutation[(b * h + i) * size + order[b] * h + i] = 1;
        var dtype = n.SavedOutput!.DType;
        var w = Tensor.From(permutation, 1, size, size);
        string wName = c.Writer.Constant(dtype == DType.Float32 ? w : w.To(dtype), "gate_order");
        var rows = c.Writer.Node("Gather", [c.Input(n, whh), c.Writer.Longs(GateRows(order, h))], node => node.Attribute.Add(Int("axis", 0)));
        return (wName, c.Writer.Node("Unsqueeze", [rows, c.Writer.Longs(0)]));
    }

    static long[] GateRows(int[] order, int h)
    {
        var rows = new long[order.Length * h];
        for (int b = 0; b < order.Length; b++)
            for (int i = 0; i < h; i++) rows[b * h + i] = order[b] * h + i;
        return rows;
    }

    /// <summary>
    /// The initial state [N, H] as ONNX's [1, N, H], or "" (ONNX's default, zeros) when it is the zeros the layer made
    /// itself — a constant of the example's batch would pin the batch size.
    /// </summary>
    static string InitialState(ExportContext c, GradNode n, int i) =>
        c.IsZeroConstant(n, i) ? "" : c.Writer.Node("Unsqueeze", [c.Input(n, i), c.Writer.Longs(0)]);
}
