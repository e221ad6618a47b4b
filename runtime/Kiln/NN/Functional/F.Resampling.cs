using System.Linq;
using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Pads the last dims (<c>F.pad</c>): <paramref name="pad"/> lists (left, right) for the last dim, then the one before, ...
    /// Modes: "constant" (with <paramref name="value"/>; negative pads crop), "reflect", "replicate", "circular".
    /// </summary>
    public static Tensor Pad(Tensor input, int[] pad, string mode = "constant", double value = 0)
    {
        const string op = "pad";
        if (pad.Length % 2 != 0 || pad.Length / 2 > input.Dim)
            throw new KilnException(op, $"{op}: padding length must be even and at most twice the number of dims; got {pad.Length} values for a {input.Dim}-D input {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        using var scope = Tensor.Scope();   // one dim's result is the next one's input: only the last is kept
        var x = input;
        for (int i = 0; i < pad.Length / 2; i++)
        {
            int dim = input.Dim - 1 - i, left = pad[2 * i], right = pad[2 * i + 1];
            if (left == 0 && right == 0) continue;
            int size = x.Size(dim);
            if (mode == "constant")
            {
                if (left < 0) { x = x.Narrow(dim, -left, size + left); size += left; left = 0; }
                if (right < 0) { x = x.Narrow(dim, 0, size + right); size += right; right = 0; }
                if (size < 0) throw new KilnException(op, $"{op}: the input size {input.Size(dim)} plus negative padding ({pad[2 * i]}, {pad[2 * i + 1]}) resulted in a negative output size", KilnErrorKind.Shape);
                var parts = new System.Collections.Generic.List<Tensor>(3);
                if (left > 0) parts.Add(Filled(x, dim, left, value));
                parts.Add(x);
                if (right > 0) parts.Add(Filled(x, dim, right, value));
                x = Tensor.Cat(parts, dim);
                continue;
            }
            using var hostIndex = PadMap.For(op, mode, input.ShapeArray, dim, left, right).Positions();
            using var index = hostIndex.To(x.Device);
            x = x.IndexSelect(dim, index);
        }
        return ReferenceEquals(x, input) ? x : scope.Keep(x);
    }

    static Tensor Filled(Tensor like, int dim, int count, double value)
    {
        var shape = (int[])like.ShapeArray.Clone();
        shape[dim] = count;
        return Tensor.Full(shape, value, like.DType, like.Device);
    }

    /// <summary>
    /// Resizes the spatial dims of [N, C, L], [N, C, H, W] or [N, C, D, H, W] (<c>F.interpolate</c>) by <paramref name="size"/>
    /// or <paramref name="scaleFactor"/>, with PyTorch's coordinate rules: "nearest", "nearest-exact", "linear" (3-D input),
    /// "bilinear" and "bicubic" (4-D), "trilinear" (5-D), each with <paramref name="alignCorners"/> for the interpolating
    /// modes, and "area" (adaptive average pooling).
    /// </summary>
    public static Tensor Interpolate(Tensor input, int[]? size = null, double[]? scaleFactor = null, string mode = "nearest", bool alignCorners = false)
    {
        const string op = "interpolate";
        int spatial = input.Dim - 2;
        if (spatial < 1 || spatial > 3) throw new KilnException(op, $"{op}: expected a 3-D, 4-D or 5-D input, got {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        if ((size == null) == (scaleFactor == null)) throw new KilnException(op, $"{op}: only one of size or scale_factor should be defined", KilnErrorKind.Shape);
        int needs = mode switch { "linear" => 1, "bilinear" or "bicubic" => 2, "trilinear" => 3, "nearest" or "nearest-exact" or "area" => spatial, _ => -1 };
        if (needs < 0) throw new KilnException(op, $"{op}: mode '{mode}' is not supported (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area)", KilnErrorKind.Unsupported);
        if (needs != spatial)
            throw new KilnException(op, $"{op}: {mode} interpolation needs a {needs + 2}-D input, got {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        var outSizes = new int[spatial];
        var scales = new double[spatial];
        for (int i = 0; i < spatial; i++)
        {
            int inSize = input.Size(2 + i);
            double? factor = scaleFactor is null ? null : scaleFactor.Length == 1 ? scaleFactor[0] : scaleFactor[i];
            outSizes[i] = size != null ? (size.Length == 1 ? size[0] : size[i]) : (int)Math.Floor(inSize * factor!.Value);
            if (outSizes[i] <= 0) throw new KilnException(op, $"{op}: output size must be positive, got {outSizes[i]} for dim {2 + i}", KilnErrorKind.Shape);
            // PyTorch uses 1/scale_factor when it is given, in/out otherwise.
            scales[i] = factor is { } f ? 1.0 / f : (double)inSize / outSizes[i];
        }
        if (mode == "area")
            return spatial switch { 1 => AdaptiveAvgPool1d(input, outSizes[0]), 2 => AdaptiveAvgPool2d(input, outSizes), _ => AdaptiveAvgPool3d(input, outSizes) };
        var x = input;
        for (int i = 0; i < spatial; i++)
        {
            int dim = 2 + i, inSize = input.Size(dim), outSize = outSizes[i];
            double scale = scales[i];
            Tensor next;
            if (mode is "nearest" or "nearest-exact")
            {
                var idx = new long[outSize];
                for (int j = 0; j < outSize; j++)
                    idx[j] = mode == "nearest"
                        ? Math.Min((long)Math.Floor((float)(j * (float)scale)), inSize - 1)
                        : Math.Min((long)Math.Floor((float)((j + 0.5f) * (float)scale)), inSize - 1);
                using var hostIndex = Tensor.From(idx, outSize);
                using var index = hostIndex.To(x.Device);
                next = x.IndexSelect(dim, index);
            }
            else
            {
                using var m = ResampleMatrix(inSize, outSize, alignCorners, scale, cubic: mode == "bicubic", x.DType, x.Device);
                // Resample along `dim` as a matrix product: move dim last, multiply by Mᵀ, move back.
                using var moved = x.Transpose(dim, -1);
                using var mt = m.T;
                using var product = moved.Matmul(mt);
                next = product.Transpose(dim, -1);
            }
            if (!ReferenceEquals(x, input)) x.Dispose();
            x = next;
        }
        return ReferenceEquals(x, input) ? input.To(input.DType) : x;
    }

    /// <summary>
    /// The [out, in] matrix of one resampled dim: linear weights on the two nearest inputs, or cubic convolution weights
    /// (A = -0.75) on four with indices clamped at the borders, at PyTorch's source coordinates.
    /// </summary>
    static Tensor ResampleMatrix(int input, int output, bool alignCorners, double scale, bool cubic, DType dtype, Device device)
    {
        var m = new double[output * input];
        double cornerScale = output > 1 ? (double)(input - 1) / (output - 1) : 0;
        for (int j = 0; j < output; j++)
        {
            double src = alignCorners ? j * cornerScale : (j + 0.5) * scale - 0.5;
            if (!cubic)
            {
                src = Math.Max(src, 0);   // linear modes clamp the source coordinate at 0 (cubic does not)
                int i0 = Math.Min((int)Math.Floor(src), input - 1), i1 = Math.Min(i0 + 1, input - 1);
                double l1 = src - i0;
                m[j * input + i0] += 1 - l1;
                m[j * input + i1] += l1;
                continue;
            }
            int floor = (int)Math.Floor(src);
            double t = src - floor;
            const double A = -0.75;
            double Near(double x) => ((A + 2) * x - (A + 3)) * x * x + 1;            // |x| ≤ 1
            double Far(double x) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;      // 1 < |x| < 2
            ReadOnlySpan<double> w = [Far(t + 1), Near(t), Near(1 - t), Far(2 - t)];
            for (int k = 0; k < 4; k++) m[j * input + Math.Clamp(floor - 1 + k, 0, input - 1)] += w[k];
        }
        using var t64 = Tensor.From(m, output, input);
        using var typed = t64.To(dtype);
        return typed.To(device);
    }

    /// <summary>
    /// Rearranges [*, C·r², H, W] into [*, C, H·r, W·r] (<c>F.pixel_shuffle</c>, sub-pixel upsampling).
    /// </summary>
    public static Tensor PixelShuffle(Tensor input, int upscaleFactor)
    {
        const string op = "pixel_shuffle";
        int r = upscaleFactor;
        if (r <= 0) throw new KilnException(op, $"{op}: upscale_factor must be positive, got {r}");
        if (input.Dim < 3) throw new KilnException(op, $"{op}: expects input to have at least 3 dimensions, but got input with {input.Dim} dimension(s)", KilnErrorKind.Shape);
        int c = input.Size(-3), h = input.Size(-2), w = input.Size(-1);
        if (c % (r * r) != 0)
            throw new KilnException(op, $"{op}: expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}", KilnErrorKind.Shape);
        var lead = input.ShapeArray[..^3];
        int n = lead.Length;
        using var split = input.Reshape([.. lead, c / (r * r), r, r, h, w]);
        using var moved = split.Permute([.. Enumerable.Range(0, n), n, n + 3, n + 1, n + 4, n + 2]);
        return moved.Reshape([.. lead, c / (r * r), h * r, w * r]);
    }

    /// <summary>Rearranges [*, C, H·r, W·r] into [*, C·r², H, W] (<c>F.pixel_unshuffle</c>), the inverse of <see cref="PixelShuffle"/>.</summary>
    public static Tensor PixelUnshuffle(Tensor input, int downscaleFactor)
    {
        const string op = "pixel_unshuffle";
        int r = downscaleFactor;
        if (r <= 0) throw new KilnException(op, $"{op}: downscale_factor must be positive, got {r}");
        if (input.Dim < 3) throw new KilnException(op, $"{op}: expects input to have at least 3 dimensions, but got input with {input.Dim} dimension(s)", KilnErrorKind.Shape);
        int c = input.Size(-3), h = input.Size(-2), w = input.Size(-1);
        if (h % r != 0 || w % r != 0)
            throw new KilnException(op, $"{op}: expects height and width of input ({h}, {w}) to be divisible by downscale_factor {r}", KilnErrorKind.Shape);
        var lead = input.ShapeArray[..^3];
        int n = lead.Length;
        using var split = input.Reshape([.. lead, c, h / r, r, w / r, r]);
        using var moved = split.Permute([.. Enumerable.Range(0, n), n, n + 2, n + 4, n + 1, n + 3]);
        return moved.Reshape([.. lead, c * r * r, h / r, w / r]);
    }

    /// <summary>
    /// Interleaves the channels of [N, C, *] from <paramref name="groups"/> groups (<c>F.channel_shuffle</c>, ShuffleNet):
    /// channel g·(C/groups) + i moves to i·groups + g.
    /// </summary>
    public static Tensor ChannelShuffle(Tensor input, int groups)
    {
        const string op = "channel_shuffle";
        if (input.Dim < 3) throw new KilnException(op, $"{op}: expected an input of at least 3 dimensions [N, C, *], got shape {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        if (groups <= 0) throw new KilnException(op, $"{op}: number of groups to divide channels in must be positive, got {groups}");
        int c = input.Size(1);
        if (c % groups != 0) throw new KilnException(op, $"{op}: number of channels {c} must be divisible by groups {groups}", KilnErrorKind.Shape);
        var rest = input.ShapeArray[2..];
        using var split = input.Reshape([input.Size(0), groups, c / groups, .. rest]);
        using var swapped = split.Transpose(1, 2);
        return swapped.Reshape(input.ShapeArray);
    }
}
