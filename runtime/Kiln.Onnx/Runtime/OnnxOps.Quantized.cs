using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static void AddQuantized(Dictionary<string, Op> t)
    {
        // Linear quantization, q = saturate(round_half_even(x / scale) + zero_point), in the zero point's type (uint8 when
        // absent); scale and zero point per tensor or, 1-D, along axis. The integer arithmetic runs in float64, exact for
        // 8-bit operands and their sums.
        t["QuantizeLinear"] = c =>
        {
            var x = c.In(0);
            var zp = c.Optional(2);
            var dtype = zp?.DType ?? DType.UInt8;
            // The quotient in x's own type, as the reference divides (its rounding decides ties).
            var scale = PerAxis(c, c.In(1), x).To(x.DType);
            var q = (x / scale).Round().To(DType.Float64);
            if (zp is not null) q = q + PerAxis(c, zp, x);
            return One(Saturate(c, q, dtype));
        };
        t["DequantizeLinear"] = c =>
        {
            var x = c.In(0);
            var v = x.To(DType.Float64);
            if (c.Optional(2) is { } zp) v = v - PerAxis(c, zp, x);
            return One((v * PerAxis(c, c.In(1), x)).To(c.In(1).DType));
        };
        t["DynamicQuantizeLinear"] = c =>
        {
            // uint8 over [min(0, min x), max(0, max x)]: scale = range / 255, zero point = round(-min / scale).
            var x = c.In(0);
            double min = Math.Min(0, x.Numel > 0 ? x.Min().To(DType.Float64).Item<double>() : 0), max = Math.Max(0, x.Numel > 0 ? x.Max().To(DType.Float64).Item<double>() : 0);
            float scale = (float)((max - min) / 255);
            double zero = scale == 0 ? 0 : Math.Clamp(Math.Round((float)(-min / scale), MidpointRounding.ToEven), 0, 255);
            var q = scale == 0 ? Tensor.ZerosLike(x).To(DType.Float64) : (x / Tensor.Full([], scale, x.DType)).Round().To(DType.Float64) + zero;
            return [Saturate(c, q, DType.UInt8), Tensor.Full([], scale, DType.Float32), Tensor.Full([], zero, DType.UInt8)];
        };
        t["MatMulInteger"] = c =>
        {
            var a = Centered(c.In(0), c.Optional(2), rowwise: true);
            var b = Centered(c.In(1), c.Optional(3), rowwise: false);
            return One(a.Matmul(b).To(DType.Int32));
        };
        t["QLinearMatMul"] = c =>
        {
            var a = Centered(c.In(0), c.In(2), rowwise: true);
            var b = Centered(c.In(3), c.In(5), rowwise: false);
            var scale = c.In(1).To(DType.Float64) * c.In(4).To(DType.Float64).Reshape(-1) / c.In(6).To(DType.Float64);
            var zp = c.In(7);
            var y = (a.Matmul(b) * scale).Round() + zp.To(DType.Float64);
            return One(Saturate(c, y, zp.DType));
        };
        t["ConvInteger"] = c =>
        {
            var x = Centered(c.In(0), c.Optional(2), rowwise: false);
            var w = Centered(c.In(1), c.Optional(3), perOutputChannel: true);
            return One(((Tensor)Table["Conv"](new NodeContext(c.Node, [x, w], c.Opset))[0]!).Round().To(DType.Int32));
        };
        t["QLinearConv"] = c =>
        {
            var x = Centered(c.In(0), c.In(2), rowwise: false);
            var w = Centered(c.In(3), c.In(5), perOutputChannel: true);
            var bias = c.Optional(8)?.To(DType.Float64);
            var acc = (Tensor)Table["Conv"](new NodeContext(c.Node, [x, w, bias], c.Opset))[0]!;
            // Per-output-channel weight scales multiply channel dim 1.
            var wScale = c.In(4).To(DType.Float64);
            if (wScale.Numel > 1)
            {
                var shape = new int[acc.Dim];
                Array.Fill(shape, 1);
                shape[1] = checked((int)wScale.Numel);
                wScale = wScale.Reshape(shape);
            }
            var zp = c.In(7);
            var y = (acc * (c.In(1).To(DType.Float64) * wScale / c.In(6).To(DType.Float64))).Round() + zp.To(DType.Float64);
            return One(Saturate(c, y, zp.DType));
        };
    }

    /// <summary>A per-tensor scale or zero point as is, a 1-D one shaped to broadcast along the node's axis of <paramref name="x"/>.</summary>
    static Tensor PerAxis(NodeContext c, Tensor v, Tensor x)
    {
        var d = v.To(DType.Float64);
        if (d.Dim == 0 || d.Numel == 1 && !c.Has("axis")) return d.Reshape([]);
        int axis = c.Axis(c.Int("axis", 1), x.Dim);
        if (d.Dim != 1 || d.Size(0) != x.Size(axis))
            throw c.Error($"a scale or zero point of shape [{string.Join(", ", d.ShapeArray)}] for axis {axis} of [{string.Join(", ", x.ShapeArray)}]");
        var shape = new int[x.Dim];
        Array.Fill(shape, 1);
        shape[axis] = d.Size(0);
        return d.Reshape(shape);
    }

    /// <summary>
    /// An integer operand minus its zero point, in float64: per tensor, per row of A (<paramref name="rowwise"/>, [M]),
    /// per column of B ([N]), or per output channel of a convolution weight.
    /// </summary>
    static Tensor Centered(Tensor q, Tensor? zeroPoint, bool rowwise = false, bool perOutputChannel = false)
    {
        var v = q.To(DType.Float64);
        if (zeroPoint is null) return v;
        var zp = zeroPoint.To(DType.Float64);
        if (zp.Numel == 1) return v - zp.Reshape([]);
        if (perOutputChannel)
        {
            var shape = new int[q.Dim];
            Array.Fill(shape, 1);
            shape[0] = checked((int)zp.Numel);
            return v - zp.Reshape(shape);
        }
        return rowwise ? v - zp.Reshape(-1, 1) : v - zp.Reshape(-1);
    }

    /// <summary>Rounded values clamped to <paramref name="dtype"/>'s range and cast (ONNX's saturation).</summary>
    static Tensor Saturate(NodeContext c, Tensor values, DType dtype) => dtype switch
    {
        DType.UInt8 => values.Clamp(0, 255).To(DType.UInt8),
        DType.Int8 => values.Clamp(-128, 127).To(DType.Int8),
        DType.Int32 => values.Clamp(int.MinValue, int.MaxValue).To(DType.Int32),
        _ => throw c.Unsupported($"quantizing to {dtype}"),
    };
}
