using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    /// <summary>How one axis of a Resize maps output positions to input coordinates.</summary>
    sealed record ResizeAxis(int In, int Out, double Scale, double RoiStart, double RoiEnd);

    static void AddResize(Dictionary<string, Op> t)
    {
        t["Resize"] = c =>
        {
            var x = c.In(0);
            if (c.Opset < 11)
                return One(Resize(c, x, c.In(1), null, null, "asymmetric", c.String("mode", "nearest"), "floor", -0.75, false, 0));
            return One(Resize(c, x, c.Optional(2) is { Numel: > 0 } s ? s : null, c.Optional(3) is { Numel: > 0 } z ? z : null,
                c.Optional(1) is { Numel: > 0 } roi ? roi : null, c.String("coordinate_transformation_mode", "half_pixel"), c.String("mode", "nearest"),
                c.String("nearest_mode", "round_prefer_floor"), c.Float("cubic_coeff_a", -0.75f), c.Int("exclude_outside", 0) != 0,
                c.Float("extrapolation_value", 0f)));
        };
        // Upsample (deprecated since opset 10): Resize with asymmetric coordinates, nearest rounding down.
        t["Upsample"] = c =>
        {
            var x = c.In(0);
            var scales = c.Opset >= 9 ? c.In(1) : Tensor.From(c.Node.FloatLists.TryGetValue("scales", out var s) ? s : throw c.Error("scales is required")).Reshape(-1);
            return One(Resize(c, x, scales, null, null, "asymmetric", c.String("mode", "nearest"), "floor", -0.75, false, 0));
        };
    }

    /// <summary>
    /// ONNX Resize as its reference defines it, one axis at a time: each output position maps to an input coordinate
    /// (by <paramref name="transform"/>), takes its n nearest input positions (2 for nearest and linear, 4 for cubic;
    /// past the edge the edge value) with the mode's weights, all in float64. An axis is applied as a [out, in] matrix
    /// of those weights (plus the extrapolation value where tf_crop_and_resize falls outside the input).
    /// </summary>
    static Tensor Resize(NodeContext c, Tensor x, Tensor? scales, Tensor? sizes, Tensor? roi, string transform, string mode, string nearestMode,
        double cubicA, bool excludeOutside, double extrapolation)
    {
        if (mode is not ("nearest" or "linear" or "cubic")) throw c.Unsupported($"mode '{mode}'");
        if (transform is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nn" or "tf_crop_and_resize"))
            throw c.Unsupported($"coordinate_transformation_mode '{transform}'");
        if (nearestMode is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil")) throw c.Unsupported($"nearest_mode '{nearestMode}'");
        if ((scales is null) == (sizes is null)) throw c.Error("exactly one of scales and sizes must be given");
        int rank = x.Dim;
        double[]? sc = scales is null ? null : scales.To(DType.Float64).Contiguous().ToArray<double>();
        long[]? sz = sizes is null ? null : c.Longs(sizes);
        if ((sc?.Length ?? sz!.Length) != rank)
            throw c.Error($"{(sc is null ? "sizes" : "scales")} has {sc?.Length ?? sz!.Length} entries for an input of rank {rank} ([{string.Join(", ", x.ShapeArray)}])");
        double[]? r = roi?.To(DType.Float64).Contiguous().ToArray<double>();
        if (transform == "tf_crop_and_resize" && (r is null || r.Length != 2 * rank)) throw c.Error($"tf_crop_and_resize needs a roi of {2 * rank} values");
        var y = x.DType == DType.Float64 ? x : x.To(DType.Float64);
        for (int axis = rank - 1; axis >= 0; axis--)
        {
            int inSize = x.Size(axis);
            double scale;
            int outSize;
            if (sc is not null)
            {
                scale = sc[axis];
                if (!(scale > 0)) throw c.Error($"scale {scale} for axis {axis} is not positive");
                outSize = checked((int)(inSize * scale));
            }
            else
            {
                outSize = checked((int)sz![axis]);
                if (outSize < 0) throw c.Error($"size {outSize} for axis {axis} is negative");
                scale = (double)outSize / inSize;
            }
            if (outSize == inSize && scale == 1 && transform != "tf_crop_and_resize") continue;
            var spec = new ResizeAxis(inSize, outSize, scale, r?[axis] ?? 0, r?[rank + axis] ?? 1);
            var (weights, fill) = ResizeMatrix(spec, transform, mode, nearestMode, cubicA, excludeOutside, extrapolation);
            var moved = y.Transpose(axis, rank - 1);
            var resized = moved.Matmul(Tensor.From(weights).Reshape(outSize, inSize).T);
            if (fill is not null) resized = resized + Tensor.From(fill).Reshape(outSize);
            y = resized.Transpose(axis, rank - 1).Contiguous();
        }
        if (x.DType == DType.Float64) return y;
        return x.DType.IsFloatingPoint() ? y.To(x.DType) : y.Round().To(x.DType);
    }

    /// <summary>The [out, in] weights of one axis (row-major) and, for tf_crop_and_resize, the value added where a row falls outside the input.</summary>
    static (double[] Weights, double[]? Fill) ResizeMatrix(ResizeAxis a, string transform, string mode, string nearestMode, double cubicA,
        bool excludeOutside, double extrapolation)
    {
        var w = new double[a.Out * a.In];
        double[]? fill = transform == "tf_crop_and_resize" ? new double[a.Out] : null;
        int n = mode == "cubic" ? 4 : 2;
        Span<double> coeffs = stackalloc double[4];
        // The reference takes the output length as scale × input (not the rounded size) in these formulas.
        double outLength = a.Scale * a.In;
        for (int o = 0; o < a.Out; o++)
        {
            double xo = transform switch
            {
                "half_pixel" => (o + 0.5) / a.Scale - 0.5,
                "pytorch_half_pixel" => outLength > 1 ? (o + 0.5) / a.Scale - 0.5 : -0.5,
                "align_corners" => outLength == 1 ? 0 : o * (a.In - 1) / (outLength - 1),
                "asymmetric" => o / a.Scale,
                "tf_half_pixel_for_nn" => (o + 0.5) / a.Scale,
                _ => (outLength == 1 ? (a.RoiEnd - a.RoiStart) * (a.In - 1) / 2 : o * (a.RoiEnd - a.RoiStart) * (a.In - 1) / (outLength - 1))
                     + a.RoiStart * (a.In - 1),
            };
            if (fill is not null && (xo < 0 || xo > a.In - 1)) { fill[o] = extrapolation; continue; }
            double floor = Math.Floor(xo);
            // An integer coordinate counts as ratio 1 past the position below it, so its n neighbours end at it.
            bool exact = xo == floor;
            double ratio = exact ? 1 : xo - floor;
            long first = (long)floor - (exact ? 1 : 0) - n / 2 + 1;
            switch (mode)
            {
                case "nearest":
                    bool up = exact || nearestMode switch
                    {
                        "round_prefer_floor" => ratio > 0.5,
                        "round_prefer_ceil" => ratio >= 0.5,
                        "floor" => false,
                        _ => true,
                    };
                    coeffs[0] = up ? 0 : 1;
                    coeffs[1] = up ? 1 : 0;
                    break;
                case "linear":
                    coeffs[0] = 1 - ratio;
                    coeffs[1] = ratio;
                    break;
                default:
                    double A = cubicA, s0 = ratio + 1, s1 = ratio, s2 = 1 - ratio, s3 = 2 - ratio;
                    coeffs[0] = ((A * s0 - 5 * A) * s0 + 8 * A) * s0 - 4 * A;
                    coeffs[1] = ((A + 2) * s1 - (A + 3)) * s1 * s1 + 1;
                    coeffs[2] = ((A + 2) * s2 - (A + 3)) * s2 * s2 + 1;
                    coeffs[3] = ((A * s3 - 5 * A) * s3 + 8 * A) * s3 - 4 * A;
                    break;
            }
            if (excludeOutside)
            {
                double total = 0;
                for (int j = 0; j < n; j++)
                {
                    long i = first + j;
                    if (i < 0 || i >= a.In) coeffs[j] = 0;
                    total += coeffs[j];
                }
                for (int j = 0; j < n; j++) coeffs[j] /= total;
            }
            for (int j = 0; j < n; j++)
            {
                long i = Math.Clamp(first + j, 0, a.In - 1);   // past the edge: the edge value
                w[o * a.In + (int)i] += coeffs[j];
            }
        }
        return (w, fill);
    }
}
