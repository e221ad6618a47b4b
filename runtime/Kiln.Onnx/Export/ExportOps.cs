using System;
using System.Collections.Generic;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Onnx;
using static Kiln.Onnx.Export.OnnxGraphWriter;

namespace Kiln.Onnx.Export;

/// <summary>
/// Each recorded Kiln op (the op registry's names, with their <see cref="OpArgs"/>) written as ONNX opset-17 nodes.
/// The inverse of <see cref="Runtime.OnnxOps"/>: what one runs the other writes.
/// </summary>
public static class ExportOps
{
    delegate string Writer(ExportContext c, GradNode n);

    static readonly Dictionary<string, Writer> Table = Build();

    /// <summary>The Kiln ops the exporter writes.</summary>
    public static IReadOnlyCollection<string> Names => Table.Keys;

    internal static string Emit(ExportContext c, GradNode n)
    {
        if (!Table.TryGetValue(n.OpName, out var w)) throw c.Unsupported(n, "this operation has no ONNX export yet");
        try { return w(c, n); }
        catch (InvalidCastException) { throw c.Unsupported(n, $"recorded with {n.Args.GetType().Name}, not the arguments its export reads"); }
    }

    static Dictionary<string, Writer> Build()
    {
        var t = new Dictionary<string, Writer>();
        // Elementwise, inputs as recorded (ONNX broadcasts as Kiln does).
        foreach (var (kiln, onnx) in new[] { ("add", "Add"), ("sub", "Sub"), ("mul", "Mul"), ("div", "Div"), ("maximum", "Max"), ("minimum", "Min"), ("pow", "Pow"), ("matmul", "MatMul"), ("bmm", "MatMul") })
            t[kiln] = (c, n) => c.Writer.Node(onnx, ArithmeticOperands(c, n));
        foreach (var (kiln, onnx) in new[] { ("abs", "Abs"), ("acos", "Acos"), ("asin", "Asin"), ("atan", "Atan"), ("ceil", "Ceil"), ("cos", "Cos"), ("erf", "Erf"),
            ("exp", "Exp"), ("floor", "Floor"), ("log", "Log"), ("neg", "Neg"), ("reciprocal", "Reciprocal"), ("relu", "Relu"), ("round", "Round"), ("sigmoid", "Sigmoid"),
            ("sign", "Sign"), ("sin", "Sin"), ("sqrt", "Sqrt"), ("tan", "Tan"), ("tanh", "Tanh"), ("softsign", "Softsign"), ("hardswish", "HardSwish"),
            ("sinh", "Sinh"), ("cosh", "Cosh"), ("asinh", "Asinh"), ("acosh", "Acosh"), ("atanh", "Atanh") })
            t[kiln] = (c, n) => c.Writer.Node(onnx, [In(c, n, 0)]);
        // Comparisons (recorded while tracing: masks computed from integer inputs). ONNX compares operands of one type.
        foreach (var (kiln, onnx) in new[] { ("eq", "Equal"), ("lt", "Less"), ("le", "LessOrEqual"), ("gt", "Greater"), ("ge", "GreaterOrEqual") })
            t[kiln] = (c, n) => c.Writer.Node(onnx, ComparedOperands(c, n));
        t["ne"] = (c, n) => c.Writer.Node("Not", [c.Writer.Node("Equal", ComparedOperands(c, n))]);
        foreach (var identity in new[] { "contiguous", "clone", "alias" })
            t[identity] = (c, n) => c.Writer.Node("Identity", [In(c, n, 0)]);
        t["to"] = (c, n) => c.Writer.Node("Cast", [In(c, n, 0)], node => node.Attribute.Add(Int("to", ElementType(n.SavedOutput!.DType))));
        t["where"] = (c, n) => c.Writer.Node("Where", [Cast(c, In(c, n, 0), DType.Bool), In(c, n, 1), In(c, n, 2)]);
        t["rsqrt"] = (c, n) => c.Writer.Node("Reciprocal", [c.Writer.Node("Sqrt", [In(c, n, 0)])]);
        t["silu"] = (c, n) => { var x = In(c, n, 0); return c.Writer.Node("Mul", [x, c.Writer.Node("Sigmoid", [x])]); };
        t["swiglu"] = (c, n) => { var x = In(c, n, 0); return c.Writer.Node("Mul", [c.Writer.Node("Mul", [x, c.Writer.Node("Sigmoid", [x])]), In(c, n, 1)]); };
        t["selu"] = (c, n) => c.Writer.Node("Selu", [In(c, n, 0)]);
        t["hardsigmoid"] = (c, n) => c.Writer.Node("HardSigmoid", [In(c, n, 0)], node => { node.Attribute.Add(Float("alpha", 1f / 6)); node.Attribute.Add(Float("beta", 0.5f)); });
        t["log1p"] = (c, n) => c.Writer.Node("Log", [c.Writer.Node("Add", [In(c, n, 0), Scalar(c, n, 1)])]);
        t["expm1"] = (c, n) => c.Writer.Node("Sub", [c.Writer.Node("Exp", [In(c, n, 0)]), Scalar(c, n, 1)]);
        t["exp2"] = (c, n) => c.Writer.Node("Pow", [Scalar(c, n, 2), In(c, n, 0)]);
        t["erfc"] = (c, n) => c.Writer.Node("Sub", [Scalar(c, n, 1), c.Writer.Node("Erf", [In(c, n, 0)])]);
        t["logit"] = (c, n) => { var x = In(c, n, 0); return c.Writer.Node("Log", [c.Writer.Node("Div", [x, c.Writer.Node("Sub", [Scalar(c, n, 1), x])])]); };
        t["logsigmoid"] = (c, n) => c.Writer.Node("Neg", [c.Writer.Node("Softplus", [c.Writer.Node("Neg", [In(c, n, 0)])])]);
        t["mish"] = (c, n) => { var x = In(c, n, 0); return c.Writer.Node("Mul", [x, c.Writer.Node("Tanh", [c.Writer.Node("Softplus", [x])])]); };
        t["gelu"] = (c, n) => n.Args is GeluArgs { Approximate: "tanh" } ? GeluTanh(c, n) : GeluErf(c, n);
        t["gelu_tanh"] = GeluTanh;
        t["pow_scalar"] = (c, n) => c.Writer.Node("Pow", [In(c, n, 0), Scalar(c, n, ((PowScalarArgs)n.Args).Exponent)]);
        t["softplus"] = (c, n) =>
        {
            var a = (SoftplusArgs)n.Args;
            if (a.Beta == 1) return c.Writer.Node("Softplus", [In(c, n, 0)]);
            var scaled = c.Writer.Node("Mul", [In(c, n, 0), Scalar(c, n, a.Beta)]);
            return c.Writer.Node("Div", [c.Writer.Node("Softplus", [scaled]), Scalar(c, n, a.Beta)]);
        };
        t["clamp"] = (c, n) =>
        {
            var a = (ClampArgs)n.Args;
            return c.Writer.Node("Clip", [In(c, n, 0), a.Min is { } lo ? Scalar(c, n, lo) : "", a.Max is { } hi ? Scalar(c, n, hi) : ""]);
        };
        t["softmax"] = (c, n) => c.Writer.Node("Softmax", [In(c, n, 0)], node => node.Attribute.Add(Int("axis", ((DimArgs)n.Args).Dim)));
        t["log_softmax"] = (c, n) => c.Writer.Node("LogSoftmax", [In(c, n, 0)], node => node.Attribute.Add(Int("axis", ((DimArgs)n.Args).Dim)));
        t["addmm"] = (c, n) =>
        {
            var a = (AddmmArgs)n.Args;
            return c.Writer.Node("Gemm", [In(c, n, 1), In(c, n, 2), In(c, n, 0)], node => { node.Attribute.Add(Float("alpha", (float)a.Alpha)); node.Attribute.Add(Float("beta", (float)a.Beta)); });
        };
        t["transpose"] = (c, n) =>
        {
            var a = (TransposeArgs)n.Args;
            int rank = n.InputShape(0).Length;
            var perm = new long[rank];
            for (int i = 0; i < rank; i++) perm[i] = i;
            int d0 = a.Dim0 < 0 ? a.Dim0 + rank : a.Dim0, d1 = a.Dim1 < 0 ? a.Dim1 + rank : a.Dim1;
            (perm[d0], perm[d1]) = (perm[d1], perm[d0]);
            return c.Writer.Node("Transpose", [In(c, n, 0)], node => node.Attribute.Add(Ints("perm", perm)));
        };
        t["permute"] = (c, n) =>
        {
            var dims = ((PermuteArgs)n.Args).Dims;
            var perm = new long[dims.Count];
            for (int i = 0; i < perm.Length; i++) perm[i] = dims[i] < 0 ? dims[i] + perm.Length : dims[i];
            return c.Writer.Node("Transpose", [In(c, n, 0)], node => node.Attribute.Add(Ints("perm", perm)));
        };
        t["reshape"] = t["view"] = (c, n) => c.Writer.Node("Reshape", [In(c, n, 0), c.Writer.Longs(BatchShape(c, n, Output(n), copyBatchAs: 0))]);
        t["expand"] = (c, n) => c.Writer.Node("Expand", [In(c, n, 0), c.Writer.Longs(BatchShape(c, n, Output(n), copyBatchAs: 1))]);
        // Views record no arguments: the axes come from the input and output shapes.
        t["unsqueeze"] = (c, n) => c.Writer.Node("Unsqueeze", [In(c, n, 0), c.Writer.Longs(SizeOneAxes(Output(n), n.InputShape(0)))]);
        t["squeeze"] = (c, n) => c.Writer.Node("Squeeze", [In(c, n, 0), c.Writer.Longs(SizeOneAxes(n.InputShape(0), Output(n)))]);
        t["rope"] = (c, n) =>
        {
            // x·cos + concat(-x2, x1)·sin over the last dim (opset 17 has no rotary op).
            var x = In(c, n, 0);
            var shape = n.InputShape(0);
            long half = shape[^1] / 2, axis = shape.Length - 1;
            var x1 = c.Writer.Node("Slice", [x, c.Writer.Longs(0L), c.Writer.Longs(half), c.Writer.Longs(axis)]);
            var x2 = c.Writer.Node("Slice", [x, c.Writer.Longs(half), c.Writer.Longs(2 * half), c.Writer.Longs(axis)]);
            var rotated = c.Writer.Node("Concat", [c.Writer.Node("Neg", [x2]), x1], node => node.Attribute.Add(Int("axis", axis)));
            return c.Writer.Node("Add", [c.Writer.Node("Mul", [x, In(c, n, 1)]), c.Writer.Node("Mul", [rotated, In(c, n, 2)])]);
        };
        t["sdpa"] = Attention;
        t["lstm_layer"] = RecurrentExport.Lstm;
        t["gru_layer"] = RecurrentExport.Gru;
        t["cat"] = (c, n) =>
        {
            var parts = new List<string>();
            for (int i = 0; i < n.InputCount; i++) parts.Add(In(c, n, i));
            return c.Writer.Node("Concat", parts, node => node.Attribute.Add(Int("axis", ((DimArgs)n.Args).Dim)));
        };
        t["narrow"] = (c, n) =>
        {
            var a = (NarrowArgs)n.Args;
            return c.Writer.Node("Slice", [In(c, n, 0), c.Writer.Longs(a.Start), c.Writer.Longs(a.Start + a.Length), c.Writer.Longs(a.Dim)]);
        };
        t["slice"] = (c, n) =>
        {
            var a = (SliceArgs)n.Args;
            int rank = n.InputShape(0).Length, dim = a.Dim < 0 ? a.Dim + rank : a.Dim;
            long count = Output(n)[dim];
            return c.Writer.Node("Slice", [In(c, n, 0), c.Writer.Longs(a.Start), c.Writer.Longs(a.Start + (count - 1) * a.Step + 1), c.Writer.Longs(dim), c.Writer.Longs(a.Step)]);
        };
        t["select"] = (c, n) =>
        {
            var a = (SelectArgs)n.Args;
            return c.Writer.Node("Gather", [In(c, n, 0), c.Writer.Constant(Tensor.Full([], a.Index, DType.Int64), "index")], node => node.Attribute.Add(Int("axis", a.Dim)));
        };
        t["index_select"] = (c, n) => c.Writer.Node("Gather", [In(c, n, 0), In(c, n, 1)], node => node.Attribute.Add(Int("axis", ((DimArgs)n.Args).Dim)));
        t["sum"] = (c, n) => Reduce(c, n, "ReduceSum", axesAsInput: true);
        t["mean"] = (c, n) => Reduce(c, n, "ReduceMean", axesAsInput: false);
        t["conv2d"] = (c, n) =>
        {
            var a = (ConvArgs)n.Args;
            var g = a.Geometry;
            var inputs = new List<string> { In(c, n, 0), In(c, n, 1) };
            if (a.HasBias) inputs.Add(In(c, n, 2));
            return c.Writer.Node("Conv", inputs, node =>
            {
                node.Attribute.Add(Ints("kernel_shape", g.KH, g.KW));
                node.Attribute.Add(Ints("strides", g.SH, g.SW));
                node.Attribute.Add(Ints("pads", g.PH, g.PW, g.PH, g.PW));
                node.Attribute.Add(Ints("dilations", g.DH, g.DW));
                node.Attribute.Add(Int("group", a.Groups));
            });
        };
        t["max_pool2d"] = (c, n) =>
        {
            var a = (PoolArgs)n.Args;
            var g = a.Geometry;
            return c.Writer.Node("MaxPool", [In(c, n, 0)], node =>
            {
                node.Attribute.Add(Ints("kernel_shape", g.KH, g.KW));
                node.Attribute.Add(Ints("strides", g.SH, g.SW));
                node.Attribute.Add(Ints("pads", g.PH, g.PW, g.PH, g.PW));
                node.Attribute.Add(Ints("dilations", g.DH, g.DW));
                node.Attribute.Add(Int("ceil_mode", a.CeilMode ? 1 : 0));
            });
        };
        t["batch_norm"] = BatchNorm;
        t["layer_norm"] = LayerNorm;
        return t;
    }

    static string In(ExportContext c, GradNode n, int i) => c.Input(n, i);

    /// <summary>The axes of <paramref name="longer"/> that <paramref name="shorter"/> lacks (size-1 dims added or removed).</summary>
    static long[] SizeOneAxes(int[] longer, int[] shorter)
    {
        // Greedy: a dim that does not match the next one of the shorter shape is an added 1 (where several 1s could
        // match, any choice gives the same tensor).
        var axes = new List<long>();
        for (int i = 0, j = 0; i < longer.Length; i++)
        {
            if (j < shorter.Length && longer[i] == shorter[j]) j++;
            else axes.Add(i);
        }
        return [.. axes];
    }

    /// <summary>
    /// Scaled dot-product attention as ONNX opset-17 nodes: softmax(q·kᵀ·scale + mask) · v, the causal flag as a constant
    /// -∞ above the diagonal (top-left aligned, as Kiln's kernel and PyTorch). A mask the forward did not record (built
    /// from integer inputs, say) is written as the example's constant.
    /// </summary>
    static string Attention(ExportContext c, GradNode n)
    {
        var a = (AttentionArgs)n.Args;
        int[] q = n.InputShape(0), k = n.InputShape(1);
        ShapeRules.Attention(q, k, n.InputShape(2), a.Grouped, out int group);
        var perm = new long[k.Length];
        for (int i = 0; i < perm.Length; i++) perm[i] = i;
        (perm[^1], perm[^2]) = (perm[^2], perm[^1]);
        var keys = c.Writer.Node("Transpose", [RepeatHeads(c, In(c, n, 1), k, group)], node => node.Attribute.Add(Ints("perm", perm)));
        var scores = c.Writer.Node("Mul", [c.Writer.Node("MatMul", [In(c, n, 0), keys]), Scalar(c, n, a.Scale)]);
        if (n.InputCount > 4) scores = c.Writer.Node("Add", [scores, In(c, n, 4)]);
        if (a.Causal)
        {
            int l = q[^2], s = k[^2];
            var above = new float[l * s];
            for (int i = 0; i < l; i++) for (int j = i + 1; j < s; j++) above[i * s + j] = float.NegativeInfinity;
            var mask = Tensor.From(above, l, s);
            scores = c.Writer.Node("Add", [scores, c.Writer.Constant(n.SavedOutput!.DType == DType.Float32 ? mask : mask.To(n.SavedOutput.DType), "causal")]);
        }
        var weights = c.Writer.Node("Softmax", [scores], node => node.Attribute.Add(Int("axis", -1)));
        return c.Writer.Node("MatMul", [weights, RepeatHeads(c, In(c, n, 2), n.InputShape(2), group)]);
    }

    /// <summary>
    /// Grouped-query attention's key/value heads [..., H, S, E] repeated for their groups as [..., H·group, S, E] (opset 17 has
    /// no grouped attention): Unsqueeze, Expand, Reshape, with the sequence length left free.
    /// </summary>
    static string RepeatHeads(ExportContext c, string x, int[] shape, int group)
    {
        if (group == 1) return x;
        int r = shape.Length;
        var split = c.Writer.Node("Unsqueeze", [x, c.Writer.Longs((long)(r - 2))]);
        var reps = new long[r + 1];
        for (int i = 0; i < reps.Length; i++) reps[i] = 1;
        reps[r - 2] = group;
        var repeated = c.Writer.Node("Expand", [split, c.Writer.Longs(reps)]);
        var target = new long[r];   // 0: copy the leading dim as it comes (a free batch stays free)
        target[r - 3] = (long)shape[r - 3] * group;
        target[r - 2] = -1;
        target[r - 1] = shape[r - 1];
        return c.Writer.Node("Reshape", [repeated, c.Writer.Longs(target)]);
    }

    static int[] Output(GradNode n) => n.SavedOutput?.ShapeArray ?? throw new KilnException("onnx export", $"onnx export: {n.OpName}: its output was released", KilnErrorKind.State);

    static string Scalar(ExportContext c, GradNode n, double v) => c.Writer.Scalar(v, n.SavedOutput?.DType ?? DType.Float32);

    /// <summary>
    /// A comparison's two operands in one type, as ONNX requires: a number written in the forward (0-d: ids.Eq(0), a
    /// mask's <c>logical_not</c> as mask == 0) takes the other operand's type; otherwise both the promoted type.
    /// </summary>
    static string[] ComparedOperands(ExportContext c, GradNode n)
    {
        DType a = n.InputDType(0), b = n.InputDType(1);
        int ra = n.InputShape(0).Length, rb = n.InputShape(1).Length;
        DType common = rb == 0 && ra > 0 ? a : ra == 0 && rb > 0 ? b : DTypes.Promote(a, b);
        string x = In(c, n, 0), y = In(c, n, 1);
        return [a == common ? x : Cast(c, x, common), b == common ? y : Cast(c, y, common)];
    }

    /// <summary>
    /// An arithmetic op's two operands in its result's type, as ONNX requires one type: Kiln promotes (x * 4 multiplies a
    /// float tensor by an int64 number), so an operand of another type is cast to the promoted one, as PyTorch's exporter does.
    /// </summary>
    static string[] ArithmeticOperands(ExportContext c, GradNode n)
    {
        DType result = n.SavedOutput?.DType ?? DTypes.Promote(n.InputDType(0), n.InputDType(1));
        string x = In(c, n, 0), y = In(c, n, 1);
        return [n.InputDType(0) == result ? x : Cast(c, x, result), n.InputDType(1) == result ? y : Cast(c, y, result)];
    }

    static string Cast(ExportContext c, string value, DType to) => c.Writer.Node("Cast", [value], node => node.Attribute.Add(Int("to", ElementType(to))));

    /// <summary>
    /// A shape for Reshape/Expand with a free batch axis: dim 0 equal to the example's batch becomes
    /// <paramref name="copyBatchAs"/> (Reshape's 0 copies the input's dim 0; Expand's 1 keeps it). A Reshape that folds or
    /// unfolds the batch with neighbouring dims ([N, T, C] ↔ [N·T, C] as Linear does on 3-D input, or [T, N, C] ↔ [T·N, C]
    /// for sequence-first recurrent layers) gets -1 where the batch went: the dims both shapes share at the start and the
    /// end stay fixed, and of the output dims between them the one equal to the batch (else the first divisible by it).
    /// </summary>
    static long[] BatchShape(ExportContext c, GradNode n, int[] shape, long copyBatchAs)
    {
        var r = new long[shape.Length];
        for (int i = 0; i < r.Length; i++) r[i] = shape[i];
        var input = n.InputShape(0);
        int b = c.BatchSize;
        if (!c.DynamicBatch || r.Length == 0 || input.Length == 0) return r;
        if (shape[0] == b && input[0] == b) { r[0] = copyBatchAs; return r; }
        if (copyBatchAs != 0) return r;
        int pre = 0, min = Math.Min(shape.Length, input.Length);
        while (pre < min && shape[pre] == input[pre]) pre++;
        int suf = 0;
        while (suf < min - pre && shape[^(suf + 1)] == input[^(suf + 1)]) suf++;
        bool batchInside = false;
        for (int i = pre; i < input.Length - suf; i++) batchInside |= input[i] % b == 0;
        if (!batchInside) return r;
        int at = -1;
        for (int i = pre; i < shape.Length - suf; i++) if (shape[i] == b) at = i;
        for (int i = pre; at < 0 && i < shape.Length - suf; i++) if (shape[i] % b == 0) at = i;
        if (at >= 0) r[at] = -1;
        return r;
    }

    static string Reduce(ExportContext c, GradNode n, string op, bool axesAsInput)
    {
        var a = (ReduceArgs)n.Args;
        int rank = n.InputShape(0).Length;
        long[] axes;
        if (a.Dims is null || a.Dims.Count == 0)
        {
            axes = new long[rank];
            for (int i = 0; i < rank; i++) axes[i] = i;
        }
        else
        {
            axes = new long[a.Dims.Count];
            for (int i = 0; i < axes.Length; i++) axes[i] = a.Dims[i] < 0 ? a.Dims[i] + rank : a.Dims[i];
        }
        var x = In(c, n, 0);
        if (axesAsInput) return c.Writer.Node(op, [x, c.Writer.Longs(axes)], node => node.Attribute.Add(Int("keepdims", a.KeepDim ? 1 : 0)));
        return c.Writer.Node(op, [x], node => { node.Attribute.Add(Ints("axes", axes)); node.Attribute.Add(Int("keepdims", a.KeepDim ? 1 : 0)); });
    }

    /// <summary>0.5·x·(1 + erf(x/√2)).</summary>
    static string GeluErf(ExportContext c, GradNode n)
    {
        var x = In(c, n, 0);
        var erf = c.Writer.Node("Erf", [c.Writer.Node("Div", [x, Scalar(c, n, Math.Sqrt(2))])]);
        return c.Writer.Node("Mul", [c.Writer.Node("Mul", [x, Scalar(c, n, 0.5)]), c.Writer.Node("Add", [erf, Scalar(c, n, 1)])]);
    }

    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    static string GeluTanh(ExportContext c, GradNode n)
    {
        var x = In(c, n, 0);
        var cube = c.Writer.Node("Mul", [c.Writer.Node("Mul", [x, x]), x]);
        var inner = c.Writer.Node("Mul", [c.Writer.Node("Add", [x, c.Writer.Node("Mul", [cube, Scalar(c, n, 0.044715)])]), Scalar(c, n, Math.Sqrt(2 / Math.PI))]);
        return c.Writer.Node("Mul", [c.Writer.Node("Mul", [x, Scalar(c, n, 0.5)]), c.Writer.Node("Add", [c.Writer.Node("Tanh", [inner]), Scalar(c, n, 1)])]);
    }

    /// <summary>Eval-mode batch norm folded as Kiln computes it: y = x·(rstd·γ) + (β − mean·rstd·γ), per channel.</summary>
    static string BatchNorm(ExportContext c, GradNode n)
    {
        var a = (BatchNormArgs)n.Args;
        if (a.BatchStatistics) throw c.Unsupported(n, "batch statistics (export in eval mode with running statistics)");
        var x = c.Value(n, 0)!;
        var mean = c.Value(n, 3)!.To(DType.Float64);
        var rstd = c.Value(n, 4)!.To(DType.Float64);
        var scale = a.HasWeight ? rstd * c.Value(n, 1)!.Detach().To(DType.Float64) : rstd;
        var shift = (a.HasBias ? c.Value(n, 2)!.Detach().To(DType.Float64) : Tensor.ZerosLike(mean)) - mean * scale;
        var shape = new int[x.Dim - 1];
        Array.Fill(shape, 1);
        shape[0] = x.Size(1);
        var s = c.Writer.Constant(scale.To(x.DType).Reshape(shape), "bn_scale");
        var b = c.Writer.Constant(shift.To(x.DType).Reshape(shape), "bn_shift");
        return c.Writer.Node("Add", [c.Writer.Node("Mul", [In(c, n, 0), s]), b]);
    }

    /// <summary>LayerNormalization over the trailing dims holding the normalized size; eps recovered from the saved statistics.</summary>
    static string LayerNorm(ExportContext c, GradNode n)
    {
        var a = (NormalizationArgs)n.Args;
        var shape = n.InputShape(0);
        int axis = shape.Length;
        long size = 1;
        while (size < a.Size && axis > 0) size *= shape[--axis];
        if (size != a.Size) throw c.Unsupported(n, $"a normalized size of {a.Size} that is not a run of trailing dims of [{string.Join(", ", shape)}]");
        var normalized = shape[axis..];
        string scale = a.HasWeight ? In(c, n, 1) : c.Writer.Constant(Tensor.Ones(normalized), "ln_scale");
        var inputs = new List<string> { In(c, n, 0), scale };
        if (a.HasBias) inputs.Add(In(c, n, 2));
        double eps = Epsilon(c.Value(n, 0)!, c.Value(n, 4)!, a.Size);
        return c.Writer.Node("LayerNormalization", inputs, node => { node.Attribute.Add(Int("axis", axis)); node.Attribute.Add(Float("epsilon", (float)eps)); });
    }

    /// <summary>
    /// The eps a layer norm ran with, from its first row: 1/rstd² − var. Snapped to the usual values (1e-5, 1e-6,
    /// 1e-12, ...) when the estimate is within its float32 noise of one.
    /// </summary>
    static double Epsilon(Tensor x, Tensor rstd, int size)
    {
        var row = x.Reshape(-1).Narrow(0, 0, size).To(DType.Float64).ToArray<double>();
        double mean = 0, variance = 0;
        foreach (var v in row) mean += v;
        mean /= size;
        foreach (var v in row) variance += (v - mean) * (v - mean);
        variance /= size;
        double r = rstd.Reshape(-1).To(DType.Float64).ToArray<double>()[0];
        double eps = 1 / (r * r) - variance;
        // rstd is float32: the estimate is good to a few 1e-7 of the variance.
        double noise = 4e-7 * variance + 1e-9, best = double.NaN;
        foreach (var common in new[] { 1e-5, 1e-6, 1e-12, 1e-8, 1e-3 })
            if (double.IsNaN(best) || Math.Abs(eps - common) < Math.Abs(eps - best)) best = common;
        if (Math.Abs(eps - best) <= 10 * noise) return best;
        return Math.Max(eps, 0);
    }
}
