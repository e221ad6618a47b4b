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
            // The full transposed convolution (no padding, no bias), then each spatial dim cut to ONNX's output: pads
            // (or those output_shape / auto_pad imply) taken from its ends, output_padding added at the end as zeros.
            var x = c.In(0);
            var w = c.In(1);
            int spatial = x.Dim - 2;
            if (spatial is < 1 or > 3) throw c.Unsupported($"{spatial}-D transposed convolution");
            var strides = SpatialAttr(c, "strides", spatial, 1);
            var dil = SpatialAttr(c, "dilations", spatial, 1);
            var outPad = SpatialAttr(c, "output_padding", spatial, 0);
            int groups = checked((int)c.Int("group", 1));
            var zeros = new int[spatial];
            var full = spatial switch
            {
                1 => F.ConvTranspose1d(x, w, null, strides[0], 0, 0, groups, dil[0]),
                2 => F.ConvTranspose2d(x, w, null, strides, zeros, zeros, groups, dil),
                _ => F.ConvTranspose3d(x, w, null, strides, zeros, zeros, groups, dil),
            };
            var begin = new int[spatial];
            var end = new int[spatial];
            string autoPad = c.String("auto_pad", "NOTSET");
            var outputShape = c.Ints("output_shape");
            for (int i = 0; i < spatial; i++)
            {
                int natural = full.Size(2 + i);
                if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
                {
                    long target = outputShape is not null ? outputShape[outputShape.Length - spatial + i] : (long)x.Size(2 + i) * strides[i];
                    int total = checked((int)(natural + outPad[i] - target));
                    // ONNX's rule: SAME_LOWER puts the larger half first, otherwise the smaller.
                    begin[i] = autoPad == "SAME_LOWER" ? total - total / 2 : total / 2;
                    end[i] = total - begin[i];
                }
                else if (autoPad is "NOTSET" or "VALID")
                {
                    if (autoPad == "NOTSET" && c.Ints("pads") is { } pads) { begin[i] = checked((int)pads[i]); end[i] = checked((int)pads[spatial + i]); }
                }
                else throw c.Unsupported($"auto_pad '{autoPad}'");
                end[i] -= outPad[i];
            }
            var y = CropOrPad(full, begin, end);
            if (c.Optional(2) is { } bias)
            {
                var shape = new int[y.Dim];
                Array.Fill(shape, 1);
                shape[1] = bias.Numel > 0 ? checked((int)bias.Numel) : 1;
                y = y + bias.Reshape(shape);
            }
            return One(y);
        };
        t["MaxPool"] = c =>
        {
            var x = c.In(0);
            int spatial = x.Dim - 2;
            if (spatial is < 1 or > 3) throw c.Unsupported($"{spatial}-D pooling");
            bool wantIndices = c.Node.Outputs.Count > 1 && c.Node.Outputs[1].Length > 0;
            var kernel = ToInts(c.Ints("kernel_shape") ?? throw c.Error("kernel_shape is required"));
            bool ceil = c.Int("ceil_mode", 0) != 0;
            var xi = x.DType.IsFloatingPoint() ? x : x.To(DType.Float32);   // exact for 8-bit values; the result goes back
            if (spatial == 3)
            {
                var win3 = Window3(c, x, kernel);
                if (wantIndices) throw c.Unsupported("the Indices output of 3-D pooling");
                return One(F.MaxPool3d(xi, kernel, win3.Strides, win3.Pad, win3.Dilations, ceil).To(x.DType));
            }
            var win = Window(c, x, spatial, kernel);
            if (spatial == 1) xi = xi.Unsqueeze(2);
            if (wantIndices)
            {
                // ONNX's indices count over the whole input (n, c, h, w row-major); PyTorch's within each plane.
                if (NeedsExplicitPad(win)) throw c.Unsupported("the Indices output with padding the pooling layer cannot take");
                var (values, planeIndices) = F.MaxPool2dWithIndices(xi, win.Kernel, win.Strides, win.PadBegin, win.Dilations, ceil);
                long plane = (long)xi.Size(2) * xi.Size(3);
                if (c.Int("storage_order", 0) != 0)
                {
                    // Column-major planes: h·W + w becomes w·H + h.
                    var p = planeIndices.To(DType.Int64);
                    long width = xi.Size(3);
                    planeIndices = p.Remainder(width) * xi.Size(2) + (p - p.Remainder(width)) / width;
                }
                var planeStart = (Tensor.Arange(0, (long)xi.Size(0) * xi.Size(1), 1, DType.Int64) * plane).Reshape(xi.Size(0), xi.Size(1), 1, 1);
                var indices = planeIndices.To(DType.Int64) + planeStart;
                values = values.To(x.DType);
                return spatial == 1 ? [values.Squeeze(2), indices.Squeeze(2)] : [values, indices];
            }
            xi = PadForWindow(xi, win, double.NegativeInfinity, out var sym);
            var y = F.MaxPool2d(xi, win.Kernel, win.Strides, sym, win.Dilations, ceil).To(x.DType);
            return One(spatial == 1 ? y.Squeeze(2) : y);
        };
        t["MaxUnpool"] = c =>
        {
            // The values written at their indices (over the whole output, as MaxPool's Indices count) into zeros.
            var x = c.In(0);
            var indices = c.In(1).To(DType.Int64);
            int spatial = x.Dim - 2;
            var kernel = ToInts(c.Ints("kernel_shape") ?? throw c.Error("kernel_shape is required"));
            var strides = SpatialAttr(c, "strides", spatial, 1);
            var pads = c.Ints("pads") is { } pd ? ToInts(pd) : new int[2 * spatial];
            int[] shape = [x.Size(0), x.Size(1), .. new int[spatial]];
            for (int i = 0; i < spatial; i++) shape[2 + i] = (x.Size(2 + i) - 1) * strides[i] + kernel[i] - pads[i] - pads[spatial + i];
            long total = 1;
            foreach (int d in shape) total *= d;
            if (indices.Numel > 0 && (indices.Min().Item<long>() < 0 || indices.Max().Item<long>() >= total))
                throw c.Error($"an index is outside the unpooled shape [{string.Join(", ", shape)}]");
            var flat = Tensor.Zeros([checked((int)total)], x.DType);
            var y = flat.Scatter(0, indices.Reshape(-1), x.Reshape(-1)).Reshape(shape);
            if (c.Optional(2) is not { } given) return One(y);
            // A given output_shape: the indices still count over the default shape; positions keep their coordinates.
            var target = c.Longs(given);
            if (target.Length != x.Dim) throw c.Error($"output_shape has {target.Length} entries for an input of rank {x.Dim}");
            var none = new int[spatial];
            var end = new int[spatial];
            for (int i = 0; i < spatial; i++) end[i] = checked((int)(shape[2 + i] - target[2 + i]));
            return One(CropOrPad(y, none, end));
        };
        t["AveragePool"] = c =>
        {
            var x = c.In(0);
            int spatial = x.Dim - 2;
            if (spatial is < 1 or > 3) throw c.Unsupported($"{spatial}-D pooling");
            var kernel = ToInts(c.Ints("kernel_shape") ?? throw c.Error("kernel_shape is required"));
            bool includePad = c.Int("count_include_pad", 0) != 0, ceil = c.Int("ceil_mode", 0) != 0;
            if (spatial == 3)
            {
                var win3 = Window3(c, x, kernel);
                if (!SameArrays(win3.Dilations, Ones(3))) throw c.Unsupported("dilated 3-D average pooling");
                return One(F.AvgPool3d(x, kernel, win3.Strides, win3.Pad, ceil, includePad));
            }
            var win = Window(c, x, spatial, kernel);
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
            var x = c.In(0);
            double eps = c.Float("epsilon", 1e-5f);
            if (c.Int("training_mode", 0) == 0) return One(F.BatchNorm(x, c.In(3), c.In(4), c.In(1), c.In(2), false, 0.1, eps));
            // Training: the batch's statistics (population variance) normalize, and the running ones move by momentum.
            var dims = new int[x.Dim - 1];
            dims[0] = 0;
            for (int i = 1; i < dims.Length; i++) dims[i] = i + 1;
            var mean = x.Mean(dims);
            var variance = x.Var(dims, correction: 0);
            var shape = new int[x.Dim];
            Array.Fill(shape, 1);
            shape[1] = x.Size(1);
            var y = (x - mean.Reshape(shape)) / (variance.Reshape(shape) + eps).Sqrt() * c.In(1).Reshape(shape) + c.In(2).Reshape(shape);
            double momentum = c.Float("momentum", 0.9f);
            return [y, c.In(3) * momentum + mean * (1 - momentum), c.In(4) * momentum + variance * (1 - momentum)];
        };
        t["GridSample"] = c => One(F.GridSample(c.In(0), c.In(1).To(c.In(0).DType), c.String("mode", "bilinear"), c.String("padding_mode", "zeros"), c.Int("align_corners", 0) != 0));
        t["LRN"] = c =>
        {
            int size = checked((int)c.Int("size", 0));
            if (size < 1) throw c.Error("size must be a positive attribute");
            // ONNX's window starts (size - 1) / 2 channels before each (PyTorch's size / 2: they differ for even sizes).
            return One(F.LocalResponseNorm(c.In(0), size, c.Float("alpha", 1e-4f), c.Float("beta", 0.75f), c.Float("bias", 1f), (size - 1) / 2));
        };
        t["MeanVarianceNormalization"] = c =>
        {
            var x = c.In(0);
            var axes = c.Ints("axes") is { } a ? Array.ConvertAll(a, v => c.Axis(v, x.Dim)) : [0, 2, 3];
            // ONNX's function: (x - E[x]) / (sqrt(E[x²] - E[x]²) + 1e-9).
            var mean = x.Mean(axes, true);
            var variance = (x * x).Mean(axes, true) - mean * mean;
            return One((x - mean) / (variance.Sqrt() + 1e-9));
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
            bool training = c.Optional(2) is { } flag && flag.To(DType.Bool).Item<bool>();
            double ratio = c.Optional(1) is { } r ? r.To(DType.Float64).Item<double>() : c.Float("ratio", 0.5f);
            if (!training || ratio == 0) return c.Node.Outputs.Count > 1 ? [x, Tensor.OnesLike(x).To(DType.Bool)] : One(x);
            if (ratio is < 0 or >= 1) throw c.Error($"ratio {ratio} is outside [0, 1)");
            // Training: each element kept with probability 1 - ratio and scaled by 1 / (1 - ratio), from Kiln's generator
            // (seeded by the seed attribute when the node has one).
            var generator = c.Has("seed") ? new Generator((ulong)c.Int("seed", 0)) : Generator.Default;
            var keep = Tensor.Rand(x.ShapeArray, DType.Float64, generator: generator).Ge(ratio);
            var y = Tensor.Where(keep, x / (1 - ratio), Tensor.ZerosLike(x));
            return c.Node.Outputs.Count > 1 ? [y, keep] : One(y);
        };
    }

    /// <summary>A pooling or convolution window in 2-D terms (1-D layers get a leading size-1 axis).</summary>
    sealed record WindowSpec(int[] Kernel, int[] Strides, int[] Dilations, int[] PadBegin, int[] PadEnd);

    /// <summary>A per-spatial-dim integer attribute (strides, dilations, ...), <paramref name="fill"/> for each dim when absent.</summary>
    static int[] SpatialAttr(NodeContext c, string name, int spatial, int fill)
    {
        var v = c.Ints(name);
        if (v is not null && v.Length < spatial) throw c.Error($"{name} has {v.Length} entries for {spatial} spatial dims");
        var r = new int[spatial];
        for (int i = 0; i < spatial; i++) r[i] = v is null ? fill : checked((int)v[i]);
        return r;
    }

    static WindowSpec Window(NodeContext c, Tensor x, int spatial, int[] kernel)
    {
        var strides = SpatialAttr(c, "strides", spatial, 1);
        var dil = SpatialAttr(c, "dilations", spatial, 1);
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

    static int[] Ones(int n)
    {
        var r = new int[n];
        Array.Fill(r, 1);
        return r;
    }

    /// <summary>A 3-D window: strides, dilations and symmetric padding (3-D pooling takes no other).</summary>
    sealed record Window3Spec(int[] Strides, int[] Dilations, int[] Pad);

    static Window3Spec Window3(NodeContext c, Tensor x, int[] kernel)
    {
        var win = Window(c, x, 3, kernel);
        if (!SameArrays(win.PadBegin, win.PadEnd)) throw c.Unsupported("asymmetric padding of 3-D pooling");
        return new(win.Strides, win.Dilations, win.PadBegin);
    }

    /// <summary>Each spatial dim i of <paramref name="y"/> with <paramref name="begin"/>[i] entries taken off its start and
    /// <paramref name="end"/>[i] off its end (a negative count adds that many zeros).</summary>
    static Tensor CropOrPad(Tensor y, int[] begin, int[] end)
    {
        var padding = new int[2 * begin.Length];
        bool pad = false;
        for (int i = 0; i < begin.Length; i++)
        {
            int dim = 2 + i;
            int from = Math.Max(begin[i], 0), to = y.Size(dim) - Math.Max(end[i], 0);
            if (from > 0 || to < y.Size(dim)) y = y.Narrow(dim, from, Math.Max(0, to - from));
            // F.Pad lists the last dim first.
            int p = 2 * (begin.Length - 1 - i);
            padding[p] = Math.Max(-begin[i], 0);
            padding[p + 1] = Math.Max(-end[i], 0);
            pad |= padding[p] > 0 || padding[p + 1] > 0;
        }
        return pad ? F.Pad(y, padding) : y;
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
