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
/// initializer under its own name.
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
        string yh = "", yc = c.Writer.Fresh("lstm_c");
        var y = c.Writer.Node("LSTM", [c.Input(n, 0), w, r, "", "", hInit, cInit], node =>
        {
            node.Output.Add(yh = c.Writer.Fresh("lstm_h"));
            node.Output.Add(yc);
            node.Attribute.Add(Int("hidden_size", h));
            node.Attribute.Add(String("direction", a.Reverse ? "reverse" : "forward"));
        });
        // Y [T, 1, N, H] → [T, N, H]. ONNX returns only the last cell state: every step carries it (Kiln's LSTM reads
        // the cell state of the last step only, for the final (h, c)).
        var hs = c.Writer.Node("Squeeze", [y, c.Writer.Longs(1)]);
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
        var y = c.Writer.Node("GRU", [c.Input(n, 0), w, r, bias, "", InitialState(c, n, 1)], node =>
        {
            node.Attribute.Add(Int("hidden_size", h));
            node.Attribute.Add(Int("linear_before_reset", 1));
            node.Attribute.Add(String("direction", a.Reverse ? "reverse" : "forward"));
        });
        return c.Writer.Node("Squeeze", [y, c.Writer.Longs(1)]);
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
