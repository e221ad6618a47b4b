using System;
using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static void AddNn(Dictionary<string, Op> t)
    {
        t["MatMul"] = c => One(c.In(0).Matmul(c.In(1)));
        t["Gemm"] = c =>
        {
            var a = c.In(0);
            var b = c.In(1);
            if (c.Int("transA", 0) != 0) a = a.Transpose(0, 1);
            if (c.Int("transB", 0) != 0) b = b.Transpose(0, 1);
            double alpha = c.Float("alpha", 1f), beta = c.Float("beta", 1f);
            var y = a.Matmul(b);
            if (alpha != 1) y = y * alpha;
            if (c.Optional(2) is { } bias) y = y + (beta == 1 ? bias : bias * beta);
            return One(y);
        };
        t["Einsum"] = c =>
        {
            var ops = new Tensor[c.InputCount];
            for (int i = 0; i < ops.Length; i++) ops[i] = c.In(i);
            return One(Tensor.Einsum(c.String("equation", ""), ops));
        };
        t["Conv"] = c =>
        {
            var x = c.In(0);
            var w = c.In(1);
            var bias = c.Optional(2);
            int spatial = x.Dim - 2;
            if (spatial is < 1 or > 2) throw c.Unsupported($"{spatial}-D convolution");
            var win = Window(c, x, spatial, kernel: Dims(w)[2..]);
            var (xi, wi) = spatial == 1 ? (x.Unsqueeze(2), w.Unsqueeze(2)) : (x, w);
            xi = PadForWindow(xi, win, 0, out var sym);
            var y = F.Conv2d(xi, wi, bias, win.Strides, sym, win.Dilations, checked((int)c.Int("group", 1)));
            return One(spatial == 1 ? y.Squeeze(2) : y);
        };
        t["ConvTranspose"] = c =>
        {
            var x = c.In(0);
            if (x.Dim != 4) throw c.Unsupported($"{x.Dim - 2}-D transposed convolution");
            var w = c.In(1);
            if (c.String("auto_pad", "NOTSET") != "NOTSET" || c.Ints("output_shape") is not null) throw c.Unsupported("auto_pad/output_shape");
            var pads = c.Ints("pads") ?? new long[4];
            if (pads[0] != pads[2] || pads[1] != pads[3]) throw c.Unsupported("asymmetric pads");
            var strides = c.Ints("strides") is { } s ? ToInts(s) : [1, 1];
            var dil = c.Ints("dilations") is { } d ? ToInts(d) : [1, 1];
            var outPad = c.Ints("output_padding") is { } o ? ToInts(o) : [0, 0];
            return One(F.ConvTranspose2d(x, w, c.Optional(2), strides, [(int)pads[0], (int)pads[1]], outPad, checked((int)c.Int("group", 1)), dil));
        };
        t["MaxPool"] = c =>
        {
            var x = c.In(0);
            int spatial = x.Dim - 2;
            if (spatial is < 1 or > 2) throw c.Unsupported($"{spatial}-D pooling");
            if (c.Node.Outputs.Count > 1 && c.Node.Outputs[1].Length > 0) throw c.Unsupported("the Indices output");
            var win = Window(c, x, spatial, kernel: ToInts(c.Ints("kernel_shape") ?? throw c.Error("kernel_shape is required")));
            var xi = spatial == 1 ? x.Unsqueeze(2) : x;
            if (!xi.DType.IsFloatingPoint()) xi = xi.To(DType.Float32);   // exact for 8-bit values; the result goes back
            xi = PadForWindow(xi, win, double.NegativeInfinity, out var sym);
            var y = F.MaxPool2d(xi, win.Kernel, win.Strides, sym, win.Dilations, c.Int("ceil_mode", 0) != 0).To(x.DType);
            return One(spatial == 1 ? y.Squeeze(2) : y);
        };
        t["AveragePool"] = c =>
        {
            var x = c.In(0);
            int spatial = x.Dim - 2;
            if (spatial is < 1 or > 2) throw c.Unsupported($"{spatial}-D pooling");
            var win = Window(c, x, spatial, kernel: ToInts(c.Ints("kernel_shape") ?? throw c.Error("kernel_shape is required")));
            bool includePad = c.Int("count_include_pad", 0) != 0, ceil = c.Int("ceil_mode", 0) != 0;
            var xi = spatial == 1 ? x.Unsqueeze(2) : x;
            Tensor y;
            if (NeedsExplicitPad(win))
            {
                // Padding the layer cannot take: zero-pad here; without count_include_pad divide by the real cells
                // each window covers (the same pooling over ones padded with zeros).
                var padded = PadForWindow(xi, win, 0, out var none);
                y = F.AvgPool2d(padded, win.Kernel, win.Strides, none, ceil, true);
                if (!includePad)
                {
                    var ones = PadForWindow(Tensor.OnesLike(xi.Narrow(0, 0, 1).Narrow(1, 0, 1)), win, 0, out _);
                    y = y / F.AvgPool2d(ones, win.Kernel, win.Strides, none, ceil, true);
                }
            }
            else y = F.AvgPool2d(xi, win.Kernel, win.Strides, win.PadBegin, ceil, includePad);
            return One(spatial == 1 ? y.Squeeze(2) : y);
        };
        t["GlobalAveragePool"] = c =>
        {
            var x = c.In(0);
            var dims = new int[x.Dim - 2];
            for (int i = 0; i < dims.Length; i++) dims[i] = i + 2;
            return One(x.Mean(dims, true));
        };
        t["GlobalMaxPool"] = c =>
        {
            var x = c.In(0);
            var dims = new int[x.Dim - 2];
            for (int i = 0; i < dims.Length; i++) dims[i] = i + 2;
            return One(Fold(x, dims, true, (v, d) => v.Max(d, true).Values));
        };
        t["BatchNormalization"] = c =>
        {
            if (c.Int("training_mode", 0) != 0) throw c.Unsupported("training_mode");
            var x = c.In(0);
            return One(F.BatchNorm(x, c.In(3), c.In(4), c.In(1), c.In(2), false, 0.1, c.Float("epsilon", 1e-5f)));
        };
        t["InstanceNormalization"] = c =>
        {
            var x = c.In(0);
            var dims = new int[x.Dim - 2];
            for (int i = 0; i < dims.Length; i++) dims[i] = i + 2;
            double eps = c.Float("epsilon", 1e-5f);
            var mean = x.Mean(dims, true);
            var centered = x - mean;
            var variance = (centered * centered).Mean(dims, true);
            var shape = new int[x.Dim];
            Array.Fill(shape, 1);
            shape[1] = x.Size(1);
            return One(centered / (variance + eps).Sqrt() * c.In(1).Reshape(shape) + c.In(2).Reshape(shape));
        };
        t["LayerNormalization"] = c =>
        {
            var x = c.In(0);
            int axis = c.Axis(c.Int("axis", -1), x.Dim);
            var normalized = Dims(x)[axis..];
            var scale = c.In(1);
            var bias = c.Optional(2);
            double eps = c.Float("epsilon", 1e-5f);
            var y = F.LayerNorm(x, normalized, scale.Reshape(normalized), bias?.Reshape(normalized), eps);
            if (c.Node.Outputs.Count == 1) return One(y);
            // The saved statistics (training graphs): mean and 1/sqrt(var + eps) over the normalized dims, kept as size 1.
            var dims = new int[x.Dim - axis];
            for (int i = 0; i < dims.Length; i++) dims[i] = axis + i;
            var xf = x.To(DType.Float32);
            var mean = xf.Mean(dims, true);
            var centered = xf - mean;
            var invStd = ((centered * centered).Mean(dims, true) + eps).Rsqrt();
            return [y, mean, invStd];
        };
        t["Dropout"] = c =>
        {
            // Inference: the input unchanged, and a mask of ones when asked for.
            var x = c.In(0);
            if (c.Optional(2) is { } training && training.To(DType.Bool).Item<bool>()) throw c.Unsupported("training_mode");
            return c.Node.Outputs.Count > 1 ? [x, Tensor.OnesLike(x).To(DType.Bool)] : One(x);
        };
    }

    /// <summary>A pooling or convolution window in 2-D terms (1-D layers get a leading size-1 axis).</summary>
    sealed record WindowSpec(int[] Kernel, int[] Strides, int[] Dilations, int[] PadBegin, int[] PadEnd);

    static WindowSpec Window(NodeContext c, Tensor x, int spatial, int[] kernel)
    {
        int[] Attr(string name, int fill)
        {
            var v = c.Ints(name);
            var r = new int[spatial];
            for (int i = 0; i < spatial; i++) r[i] = v is null ? fill : checked((int)v[i]);
            return r;
        }
        var strides = Attr("strides", 1);
        var dil = Attr("dilations", 1);
        var begin = new int[spatial];
        var end = new int[spatial];
        string autoPad = c.String("auto_pad", "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            for (int i = 0; i < spatial; i++)
            {
                int inSize = x.Size(2 + i), outSize = (inSize + strides[i] - 1) / strides[i];
                int total = Math.Max(0, (outSize - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - inSize);
                begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                end[i] = total - begin[i];
            }
        }
        else if (autoPad is "NOTSET" && c.Ints("pads") is { } pads)
        {
            for (int i = 0; i < spatial; i++) { begin[i] = checked((int)pads[i]); end[i] = checked((int)pads[spatial + i]); }
        }
        else if (autoPad is not ("NOTSET" or "VALID")) throw c.Unsupported($"auto_pad '{autoPad}'");
        if (spatial == 1) return new WindowSpec([1, kernel[0]], [1, strides[0]], [1, dil[0]], [0, begin[0]], [0, end[0]]);
        return new WindowSpec(kernel, strides, dil, begin, end);
    }

    static bool SameArrays(int[] a, int[] b)
    {
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    /// <summary>Whether the window's padding is more than the layer accepts (asymmetric, or over half the kernel).</summary>
    static bool NeedsExplicitPad(WindowSpec w)
    {
        if (!SameArrays(w.PadBegin, w.PadEnd)) return true;
        for (int i = 0; i < w.Kernel.Length; i++) if (w.PadBegin[i] * 2 > (w.Kernel[i] - 1) * w.Dilations[i] + 1) return true;
        return false;
    }

    /// <summary>Padding the layer takes passes through (<paramref name="layerPad"/>); other padding is applied here with <paramref name="fill"/> and the layer gets none.</summary>
    static Tensor PadForWindow(Tensor x, WindowSpec w, double fill, out int[] layerPad)
    {
        if (!NeedsExplicitPad(w)) { layerPad = w.PadBegin; return x; }
        layerPad = new int[w.PadBegin.Length];
        // F.Pad takes the last dim first: (w_begin, w_end, h_begin, h_end).
        return F.Pad(x, [w.PadBegin[1], w.PadEnd[1], w.PadBegin[0], w.PadEnd[0]], "constant", fill);
    }
}
