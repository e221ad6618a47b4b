using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static int[] Dims(Tensor t)
    {
        var d = new int[t.Dim];
        for (int i = 0; i < d.Length; i++) d[i] = t.Size(i);
        return d;
    }

    /// <summary>A 1-D int64 tensor of <paramref name="v"/> (ONNX's shape values).</summary>
    static Tensor LongTensor(long[] v) => Tensor.From(v).Reshape(v.Length);

    static void AddShape(Dictionary<string, Op> t)
    {
        t["Reshape"] = c =>
        {
            var x = c.In(0);
            var shape = c.Longs(c.In(1));
            bool allowZero = c.Int("allowzero", 0) != 0;
            var target = new int[shape.Length];
            for (int i = 0; i < shape.Length; i++)
                target[i] = shape[i] == 0 && !allowZero ? (i < x.Dim ? x.Size(i) : throw c.Error($"shape [{string.Join(", ", shape)}] copies dim {i} of an input of rank {x.Dim}")) : checked((int)shape[i]);
            return One(x.Reshape(target));
        };
        t["Flatten"] = c =>
        {
            var x = c.In(0);
            long axis = c.Int("axis", 1);
            int a = (int)(axis < 0 ? axis + x.Dim : axis);
            if (a < 0 || a > x.Dim) throw c.Error($"axis {axis} is out of range for rank {x.Dim}");
            long outer = 1;
            for (int i = 0; i < a; i++) outer *= x.Size(i);
            return One(x.Reshape(checked((int)outer), x.Dim == 0 ? 1 : checked((int)(x.Numel / Math.Max(1, outer)))));
        };
        t["Transpose"] = c =>
        {
            var x = c.In(0);
            var perm = c.Ints("perm");
            var p = new int[x.Dim];
            for (int i = 0; i < p.Length; i++) p[i] = perm is null ? x.Dim - 1 - i : checked((int)perm[i]);
            return One(x.Permute(p).Contiguous());
        };
        t["Concat"] = c =>
        {
            var parts = new List<Tensor>();
            for (int i = 0; i < c.InputCount; i++) parts.Add(c.In(i));
            return One(Tensor.Cat(parts, c.Axis(c.Int("axis", 0), parts[0].Dim)));
        };
        t["Split"] = c =>
        {
            var x = c.In(0);
            int axis = c.Axis(c.Int("axis", 0), x.Dim), outputs = c.Node.Outputs.Count;
            long[]? sizes = c.Opset >= 13 ? (c.Optional(1) is { } s ? c.Longs(s) : null) : c.Ints("split");
            if (sizes is null)
            {
                int n = x.Size(axis), each = (n + outputs - 1) / outputs;
                sizes = new long[outputs];
                for (int i = 0; i < outputs; i++) sizes[i] = Math.Max(0, Math.Min(each, n - i * each));
            }
            var pieces = x.Split(ToInts(sizes), axis);
            return [.. pieces];
        };
        t["Slice"] = c =>
        {
            var x = c.In(0);
            long[] starts, ends;
            long[]? axes, steps;
            if (c.Opset < 10) { starts = c.Ints("starts")!; ends = c.Ints("ends")!; axes = c.Ints("axes"); steps = null; }
            else
            {
                starts = c.Longs(c.In(1)); ends = c.Longs(c.In(2));
                axes = c.Optional(3) is { } ax ? c.Longs(ax) : null;
                steps = c.Optional(4) is { } st ? c.Longs(st) : null;
            }
            var r = x;
            for (int i = 0; i < starts.Length; i++)
            {
                int axis = c.Axis(axes is null ? i : axes[i], x.Dim);
                long step = steps is null ? 1 : steps[i];
                if (step == 0) throw c.Error("a step of 0");
                r = SliceAxis(r, axis, starts[i], ends[i], step);
            }
            return One(r);
        };
        t["Gather"] = c =>
        {
            var x = c.In(0);
            var idx = c.In(1);
            int axis = c.Axis(c.Int("axis", 0), x.Dim);
            var flat = WrapIndices(idx.Reshape(-1).To(DType.Int64), x.Size(axis));
            var picked = x.IndexSelect(axis, flat);
            var shape = new List<int>();
            for (int i = 0; i < axis; i++) shape.Add(x.Size(i));
            shape.AddRange(Dims(idx));
            for (int i = axis + 1; i < x.Dim; i++) shape.Add(x.Size(i));
            return One(picked.Reshape([.. shape]));
        };
        t["GatherElements"] = c =>
        {
            var x = c.In(0);
            int axis = c.Axis(c.Int("axis", 0), x.Dim);
            return One(x.Gather(axis, WrapIndices(c.In(1).To(DType.Int64), x.Size(axis))));
        };
        t["Unsqueeze"] = c =>
        {
            var x = c.In(0);
            var axes = c.Opset >= 13 ? c.Longs(c.In(1)) : c.Ints("axes")!;
            int rank = x.Dim + axes.Length;
            var norm = new List<int>();
            foreach (var a in axes) norm.Add(c.Axis(a, rank));
            norm.Sort();
            var r = x;
            foreach (var a in norm) r = r.Unsqueeze(a);
            return One(r);
        };
        t["Squeeze"] = c =>
        {
            var x = c.In(0);
            long[]? axes = c.Opset >= 13 ? (c.Optional(1) is { } given ? c.Longs(given) : null) : c.Ints("axes");
            if (axes is null) return One(x.Squeeze());
            var norm = new List<int>();
            foreach (var a in axes)
            {
                int ax = c.Axis(a, x.Dim);
                if (x.Size(ax) != 1) throw c.Error($"cannot squeeze axis {a} of size {x.Size(ax)}");
                norm.Add(ax);
            }
            norm.Sort();
            var r = x;
            for (int i = norm.Count - 1; i >= 0; i--) r = r.Squeeze(norm[i]);
            return One(r);
        };
        t["Shape"] = c =>
        {
            var d = Dims(c.In(0));
            long start = c.Int("start", 0), end = c.Int("end", d.Length);
            if (start < 0) start += d.Length;
            if (end < 0) end += d.Length;
            start = Math.Clamp(start, 0, d.Length); end = Math.Clamp(end, 0, d.Length);
            var r = new long[Math.Max(0, end - start)];
            for (int i = 0; i < r.Length; i++) r[i] = d[start + i];
            return One(LongTensor(r));
        };
        t["Size"] = c => One(Tensor.Full([], c.In(0).Numel, DType.Int64));
        t["Expand"] = c =>
        {
            var x = c.In(0);
            var shape = c.Longs(c.In(1));
            int rank = Math.Max(x.Dim, shape.Length);
            var target = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                int xi = i - (rank - x.Dim), si = i - (rank - shape.Length);
                int a = xi >= 0 ? x.Size(xi) : 1, b = si >= 0 ? checked((int)shape[si]) : 1;
                target[i] = a == 1 ? b : b == 1 || b == a ? a : throw c.Error($"cannot expand [{string.Join(", ", Dims(x))}] to [{string.Join(", ", shape)}]");
            }
            var r = x;
            while (r.Dim < rank) r = r.Unsqueeze(0);
            return One(r.Expand(target).Contiguous());
        };
        t["Tile"] = c => One(c.In(0).Tile(ToInts(c.Longs(c.In(1)))));
        t["Cast"] = c =>
        {
            long to = c.Int("to", 1);
            var dtype = OnnxTensor.DTypeOf((int)to) ?? throw c.Unsupported($"element type {to}");
            return One(c.In(0).To(dtype));
        };
        t["CastLike"] = c => One(c.In(0).To(c.In(1).DType));
        t["Constant"] = c =>
        {
            var n = c.Node;
            if (n.Tensors.TryGetValue("value", out var v)) return One(v);
            if (n.Floats.TryGetValue("value_float", out var f)) return One(Tensor.Full([], f, DType.Float32));
            if (n.Ints.TryGetValue("value_int", out var i)) return One(Tensor.Full([], i, DType.Int64));
            if (n.FloatLists.TryGetValue("value_floats", out var fs)) return One(Tensor.From(fs));
            if (n.IntLists.TryGetValue("value_ints", out var @is)) return One(LongTensor(@is));
            throw c.Unsupported("a Constant without a tensor, float(s) or int(s) value");
        };
        t["ConstantOfShape"] = c =>
        {
            var shape = ToInts(c.Longs(c.In(0)));
            if (c.Node.Tensors.TryGetValue("value", out var v))
                return One(Tensor.Full(shape, v.Reshape(-1).To(DType.Float64).ToArray<double>()[0], v.DType));
            return One(Tensor.Zeros(shape, DType.Float32));
        };
        t["Range"] = c =>
        {
            var start = c.In(0);
            double s = start.To(DType.Float64).Item<double>(), limit = c.In(1).To(DType.Float64).Item<double>(), delta = c.In(2).To(DType.Float64).Item<double>();
            if (delta == 0) throw c.Error("delta 0");
            long n = Math.Max(0, (long)Math.Ceiling((limit - s) / delta));
            var values = new double[n];
            for (long i = 0; i < n; i++) values[i] = s + i * delta;
            return One(Tensor.From(values).To(start.DType));
        };
        t["Trilu"] = c =>
        {
            var x = c.In(0);
            int k = c.Optional(1) is { } kt ? checked((int)c.Longs(kt)[0]) : 0;
            return One(c.Int("upper", 1) != 0 ? x.Triu(k) : x.Tril(k));
        };
        t["CumSum"] = c =>
        {
            var x = c.In(0);
            int axis = c.Axis(c.Longs(c.In(1))[0], x.Dim);
            bool exclusive = c.Int("exclusive", 0) != 0, reverse = c.Int("reverse", 0) != 0;
            var r = reverse ? x.Flip(axis) : x;
            var sum = r.CumSum(axis);
            if (exclusive) sum = sum - r;
            return One((reverse ? sum.Flip(axis) : sum).To(x.DType));
        };
        t["Pad"] = c =>
        {
            var x = c.In(0);
            long[] pads = c.Opset >= 11 ? c.Longs(c.In(1)) : c.Ints("pads")!;
            double value = c.Opset >= 11 ? (c.Optional(2) is { } v && v.Numel > 0 ? v.To(DType.Float64).Reshape(-1).ToArray<double>()[0] : 0) : c.Float("value", 0);
            string mode = c.String("mode", "constant");
            long[]? axes = c.Opset >= 18 && c.Optional(3) is { } ax ? c.Longs(ax) : null;
            int count = axes?.Length ?? x.Dim;
            // ONNX: [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; Kiln (torch): last dim first, (begin, end) pairs.
            var full = new long[2 * x.Dim];
            for (int i = 0; i < count; i++)
            {
                int axis = axes is null ? i : c.Axis(axes[i], x.Dim);
                full[axis] = pads[i]; full[x.Dim + axis] = pads[count + i];
            }
            var torchPads = new int[2 * x.Dim];
            for (int d = 0; d < x.Dim; d++)
            {
                torchPads[2 * (x.Dim - 1 - d)] = checked((int)full[d]);
                torchPads[2 * (x.Dim - 1 - d) + 1] = checked((int)full[x.Dim + d]);
            }
            string kilnMode = mode switch { "constant" => "constant", "reflect" => "reflect", "edge" => "replicate", _ => throw c.Unsupported($"mode '{mode}'") };
            return One(NN.F.Pad(x, torchPads, kilnMode, value));
        };
        t["NonZero"] = c => One(c.In(0).Nonzero().Transpose(0, 1).Contiguous());
        t["DepthToSpace"] = c =>
        {
            var x = c.In(0);
            int b = checked((int)c.Int("blocksize", 1)), n = x.Size(0), ch = x.Size(1), h = x.Size(2), w = x.Size(3);
            var r = c.String("mode", "DCR") == "DCR"
                ? x.Reshape(n, b, b, ch / (b * b), h, w).Permute(0, 3, 4, 1, 5, 2)
                : x.Reshape(n, ch / (b * b), b, b, h, w).Permute(0, 1, 4, 2, 5, 3);
            return One(r.Reshape(n, ch / (b * b), h * b, w * b));
        };
        t["SpaceToDepth"] = c =>
        {
            var x = c.In(0);
            int b = checked((int)c.Int("blocksize", 1)), n = x.Size(0), ch = x.Size(1), h = x.Size(2), w = x.Size(3);
            return One(x.Reshape(n, ch, h / b, b, w / b, b).Permute(0, 3, 5, 1, 2, 4).Reshape(n, ch * b * b, h / b, w / b));
        };
    }

    /// <summary>Negative indices counted from the end of a dim of <paramref name="size"/>.</summary>
    static Tensor WrapIndices(Tensor idx, int size) => Tensor.Where(idx.Lt(0), idx + size, idx);

    /// <summary>x[start:end:step] along <paramref name="axis"/> with ONNX's (numpy's) clamping; negative steps walk backwards.</summary>
    static Tensor SliceAxis(Tensor x, int axis, long start, long end, long step)
    {
        long n = x.Size(axis);
        if (step > 0)
        {
            long s = Math.Clamp(start < 0 ? start + n : start, 0, n), e = Math.Clamp(end < 0 ? end + n : end, 0, n);
            if (e <= s) return x.Narrow(axis, 0, 0);
            return x.Slice(axis, s, e, step);
        }
        else
        {
            long s = Math.Clamp(start < 0 ? start + n : start, -1, n - 1), e = Math.Clamp(end < 0 ? end + n : end, -1, n - 1);
            if (s <= e) return x.Narrow(axis, 0, 0);
            // Backwards over the flipped axis: element i is n-1-i.
            return x.Flip(axis).Slice(axis, n - 1 - s, n - 1 - e, -step);
        }
    }
}
