using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

// The 3-D (volumetric) layers over [N, C, D, H, W]: a 3-D convolution as one 2-D convolution per depth tap, summed (and a
// transposed one as one transposed 2-D convolution with the taps as channels, added along the depth); 3-D
// pools as a 2-D pool over each depth slice followed by a 1-D pool along the depth (max, mean and their window counts are
// separable over a box). Everything is recorded 2-D and 1-D work, so the gradients and both devices come from those ops.
public static partial class F
{
    /// <summary>
    /// 3-D convolution (cross-correlation) of [N, C, D, H, W] (or [C, D, H, W]) with weight [O, C/groups, kd, kh, kw]
    /// (<c>F.conv3d</c>); stride, padding and dilation take one number for all dims or one per dim.
    /// </summary>
    public static Tensor Conv3d(Tensor input, Tensor weight, Tensor? bias = null, int[]? stride = null, int[]? padding = null, int[]? dilation = null, int groups = 1)
    {
        using var scope = Tensor.Scope();
        const string op = "conv3d";
        if (weight.Dim != 5) throw new KilnException(op, $"{op}: expected 5-D weight [out_channels, in_channels/groups, kD, kH, kW], got {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        bool unbatched = input.Dim == 4;
        if (input.Dim != 5 && !unbatched)
            throw new KilnException(op, $"{op}: expected 4-D (unbatched) or 5-D (batched) input, but got input of size: {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        using var x = unbatched ? input.Unsqueeze(0) : input.To(input.DType);
        int n = x.Size(0), c = x.Size(1), depth = x.Size(2), o = weight.Size(0), kd = weight.Size(2);
        if (groups <= 0 || c != weight.Size(1) * groups || o % groups != 0)
            throw new KilnException(op, $"{op}: Given groups={groups}, weight of size {ShapeText.Format(weight.ShapeArray)}, expected input {ShapeText.Format(x.ShapeArray)} to have {weight.Size(1) * groups} channels, but got {c} channels instead", KilnErrorKind.Shape);
        if (bias is not null && (bias.Dim != 1 || bias.Size(0) != o))
            throw new KilnException(op, $"{op}: expected bias of shape [{o}], got {ShapeText.Format(bias.ShapeArray)}", KilnErrorKind.Shape);
        var s = Triple(op, stride, "stride", 1);
        var p = Triple(op, padding, "padding", 0);
        var d = Triple(op, dilation, "dilation", 1);
        int paddedDepth = depth + 2 * p[0];
        int outDepth = (paddedDepth - d[0] * (kd - 1) - 1) / s[0] + 1;
        if (outDepth <= 0 || paddedDepth < d[0] * (kd - 1) + 1)
            throw new KilnException(op, $"{op}: kernel depth {kd} (dilation {d[0]}) is larger than the padded input depth {paddedDepth} (input {ShapeText.Format(x.ShapeArray)})", KilnErrorKind.Shape);
        using var padded = p[0] > 0 ? Pad(x, [0, 0, 0, 0, p[0], p[0]]) : x.To(x.DType);
        Tensor? sum = null;
        for (int z = 0; z < kd; z++)
        {
            // Depth tap z sees slices z·dilation, z·dilation + stride, ...: a batch of planes for one 2-D convolution.
            int start = z * d[0];
            using var slab = padded.Slice(2, start, start + (long)(outDepth - 1) * s[0] + 1, s[0]);   // [N, C, Do, H, W]
            using var moved = slab.Permute(0, 2, 1, 3, 4);
            using var planes = moved.Reshape(n * outDepth, c, slab.Size(3), slab.Size(4));
            using var tap = weight.Select(2, z);                                                    // [O, C/g, kh, kw]
            var part = Conv2d(planes, tap, null, [s[1], s[2]], [p[1], p[2]], [d[1], d[2]], groups);
            if (sum is null) sum = part;
            else
            {
                var next = sum.Add(part);
                sum.Dispose(); part.Dispose();
                sum = next;
            }
        }
        using (sum)
        {
            using var split = sum!.Reshape(n, outDepth, o, sum.Size(2), sum.Size(3));
            using var ordered = split.Permute(0, 2, 1, 3, 4);
            using var biased = bias is null ? ordered.To(ordered.DType) : ordered.Add(bias.View(1, o, 1, 1, 1));
            return scope.Keep(unbatched ? biased.Squeeze(0) : biased.To(biased.DType));
        }
    }

    /// <summary>
    /// Transposed 3-D convolution of [N, Cin, D, H, W] (or [Cin, D, H, W]) with weight [Cin, Cout/groups, kd, kh, kw]
    /// (<c>F.conv_transpose3d</c>): one transposed 2-D convolution of every depth slice with all depth taps as extra output
    /// channels, each slice's taps added at their output depths (index_add), then cropped by the padding.
    /// </summary>
    public static Tensor ConvTranspose3d(Tensor input, Tensor weight, Tensor? bias = null, int[]? stride = null, int[]? padding = null,
        int[]? outputPadding = null, int groups = 1, int[]? dilation = null)
    {
        using var scope = Tensor.Scope();
        const string op = "conv_transpose3d";
        if (weight.Dim != 5) throw new KilnException(op, $"{op}: expected 5-D weight [in_channels, out_channels/groups, kD, kH, kW], got {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        bool unbatched = input.Dim == 4;
        if (input.Dim != 5 && !unbatched)
            throw new KilnException(op, $"{op}: expected 4-D (unbatched) or 5-D (batched) input, but got input of size: {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        using var x = unbatched ? input.Unsqueeze(0) : input.To(input.DType);
        int n = x.Size(0), cin = x.Size(1), depth = x.Size(2), kd = weight.Size(2);
        if (groups <= 0 || cin != weight.Size(0) || cin % groups != 0)
            throw new KilnException(op, $"{op}: Given transposed=1, weight of size {ShapeText.Format(weight.ShapeArray)}, expected input{ShapeText.Format(x.ShapeArray)} to have {weight.Size(0)} channels (divisible by groups={groups}), but got {cin} channels instead", KilnErrorKind.Shape);
        var s = Triple(op, stride, "stride", 1);
        var p = Triple(op, padding, "padding", 0);
        var o = Triple(op, outputPadding, "output_padding", 0);
        var d = Triple(op, dilation, "dilation", 1);
        if (o[0] < 0 || o[0] >= Math.Max(s[0], d[0]))
            throw new KilnException(op, $"{op}: output padding must be smaller than either stride or dilation, got output_padding=({string.Join(", ", o)}), stride=({string.Join(", ", s)}), dilation=({string.Join(", ", d)})");
        int full = (depth - 1) * s[0] + d[0] * (kd - 1) + 1 + o[0];   // the output depth before the padding is cropped
        int outDepth = full - 2 * p[0];
        if (outDepth <= 0) throw new KilnException(op, $"{op}: calculated output depth {outDepth} is too small for input depth {depth}", KilnErrorKind.Shape);
        using var moved = x.Permute(0, 2, 1, 3, 4);
        using var planes = moved.Reshape(n * depth, cin, x.Size(3), x.Size(4));   // every depth slice, one batch of planes
        // All depth taps at once, as extra output channels of one transposed 2-D convolution: per group [kd, Cout/g].
        int perGroup = weight.Size(1), cout = perGroup * groups;
        using var tapsFirst = weight.Permute(0, 2, 1, 3, 4);                        // [Cin, kd, Cout/g, kh, kw]
        using var tapWeights = tapsFirst.Reshape(cin, kd * perGroup, weight.Size(3), weight.Size(4));
        using var y = ConvTranspose2d(planes, tapWeights, null, [s[1], s[2]], [p[1], p[2]], [o[1], o[2]], groups, [d[1], d[2]]);
        int ho = y.Size(2), wo = y.Size(3);
        using var split = y.Reshape(n, depth, groups, kd, perGroup, ho, wo);
        using var ordered = split.Permute(0, 2, 4, 1, 3, 5, 6);                     // [N, g, Cout/g, D, kd, Ho, Wo]
        using var slices = ordered.Reshape(n, cout, depth * kd, ho, wo);
        // Slice i of tap z lands at depth i·stride + z·dilation; overlapping landings add.
        var target = new long[depth * kd];
        for (int i = 0; i < depth; i++)
            for (int z = 0; z < kd; z++) target[i * kd + z] = (long)i * s[0] + (long)z * d[0];
        using var hostIndex = Tensor.From(target, target.Length);
        using var index = hostIndex.To(x.Device);
        using var zeros = Tensor.Zeros([n, cout, full, ho, wo], y.DType, y.Device);
        using var sum = zeros.IndexAdd(2, index, slices);
        using var cropped = sum.Narrow(2, p[0], outDepth);
        using var biased = bias is null ? cropped.To(cropped.DType) : cropped.Add(bias.View(1, -1, 1, 1, 1));
        return scope.Keep(unbatched ? biased.Squeeze(0) : biased.To(biased.DType));
    }

    /// <summary>Max over sliding 3-D windows of [N, C, D, H, W] (<c>F.max_pool3d</c>); stride defaults to the kernel.</summary>
    public static Tensor MaxPool3d(Tensor input, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null, bool ceilMode = false)
    {
        using var scope = Tensor.Scope();
        const string op = "max_pool3d";
        var k = Triple(op, kernelSize, "kernel_size", 1);
        var s = stride is null || stride.Length == 0 ? k : Triple(op, stride, "stride", 1);
        var p = Triple(op, padding, "padding", 0);
        var d = Triple(op, dilation, "dilation", 1);
        return scope.Keep(Separable3d(op, input,
            planes => MaxPool2d(planes, [k[1], k[2]], [s[1], s[2]], [p[1], p[2]], [d[1], d[2]], ceilMode),
            depths => MaxPool2d(depths, [k[0], 1], [s[0], 1], [p[0], 0], [d[0], 1], ceilMode)));
    }

    /// <summary>
    /// Mean over sliding 3-D windows of [N, C, D, H, W] (<c>F.avg_pool3d</c>); <paramref name="countIncludePad"/> counts the
    /// zero padding in each window's divisor.
    /// </summary>
    public static Tensor AvgPool3d(Tensor input, int[] kernelSize, int[]? stride = null, int[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
    {
        using var scope = Tensor.Scope();
        const string op = "avg_pool3d";
        var k = Triple(op, kernelSize, "kernel_size", 1);
        var s = stride is null || stride.Length == 0 ? k : Triple(op, stride, "stride", 1);
        var p = Triple(op, padding, "padding", 0);
        return scope.Keep(Separable3d(op, input,
            planes => AvgPool2d(planes, [k[1], k[2]], [s[1], s[2]], [p[1], p[2]], ceilMode, countIncludePad),
            depths => AvgPool2d(depths, [k[0], 1], [s[0], 1], [p[0], 0], ceilMode, countIncludePad)));
    }

    /// <summary>Averages [N, C, D, H, W] into <paramref name="outputSize"/> (d, h, w) adaptive windows (<c>F.adaptive_avg_pool3d</c>).</summary>
    public static Tensor AdaptiveAvgPool3d(Tensor input, int[] outputSize)
    {
        using var scope = Tensor.Scope();
        var o = Triple("adaptive_avg_pool3d", outputSize, "output_size", 1);
        return scope.Keep(Separable3d("adaptive_avg_pool3d", input, planes => AdaptiveAvgPool2d(planes, [o[1], o[2]]), depths => AdaptiveAvgPool2d(depths, [o[0], depths.Size(3)])));
    }

    /// <summary>The largest value of each of <paramref name="outputSize"/> adaptive 3-D windows (<c>F.adaptive_max_pool3d</c>).</summary>
    public static Tensor AdaptiveMaxPool3d(Tensor input, int[] outputSize)
    {
        using var scope = Tensor.Scope();
        var o = Triple("adaptive_max_pool3d", outputSize, "output_size", 1);
        return scope.Keep(Separable3d("adaptive_max_pool3d", input, planes => AdaptiveMaxPool2d(planes, [o[1], o[2]]), depths => AdaptiveMaxPool2d(depths, [o[0], depths.Size(3)])));
    }

    /// <summary>
    /// A separable 3-D pool: <paramref name="plane"/> pools [N, C·D, H, W] over (H, W), then <paramref name="depth"/> pools
    /// [N, C, D, Ho·Wo] along the depth (a 2-D pool whose windows are one column wide).
    /// </summary>
    static Tensor Separable3d(string op, Tensor input, Func<Tensor, Tensor> plane, Func<Tensor, Tensor> depth)
    {
        bool unbatched = input.Dim == 4;
        if (input.Dim != 5 && !unbatched)
            throw new KilnException(op, $"{op}: expected 4-D (unbatched) or 5-D (batched) input, but got input of size: {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        using var x = unbatched ? input.Unsqueeze(0) : input.To(input.DType);
        int n = x.Size(0), c = x.Size(1), d = x.Size(2), h = x.Size(3), w = x.Size(4);
        using var planes = x.Reshape(n, c * d, h, w);
        using var pooled = plane(planes);
        int ho = pooled.Size(2), wo = pooled.Size(3);
        // The depth pool is a 2-D pool of [N, C, D, Ho·Wo] with windows one column wide: no transposed copies.
        using var columns = pooled.Reshape(n, c, d, ho * wo);
        using var along = depth(columns);
        using var back = along.Reshape(n, c, along.Size(2), ho, wo);
        return unbatched ? back.Squeeze(0) : back.To(back.DType);
    }

    /// <summary>One number for all three dims or one per dim (PyTorch's <c>_triple</c>); <paramref name="fallback"/> when not given.</summary>
    internal static int[] Triple(string op, int[]? v, string name, int fallback)
    {
        if (v is null || v.Length == 0) return [fallback, fallback, fallback];
        if (v.Length == 1) return [v[0], v[0], v[0]];
        if (v.Length == 3) return (int[])v.Clone();
        throw new KilnException(op, $"{op}: {name} must be one or three numbers, got {v.Length}", KilnErrorKind.Shape);
    }
}
