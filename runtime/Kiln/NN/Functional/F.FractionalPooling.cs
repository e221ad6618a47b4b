using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Fractional max pooling (<c>F.fractional_max_pool2d</c>, Graham 2014): each plane of [N, C, H, W] (or [C, H, W]) is
    /// cut into <paramref name="outputSize"/> (or <paramref name="outputRatio"/> of the input) pseudo-random windows of
    /// <paramref name="kernelSize"/>, whose starts come from two uniform samples per plane — <paramref name="randomSamples"/>
    /// [N, C, 2] (width's, height's), or drawn from <paramref name="generator"/> — by PyTorch's interval sequence.
    /// Returns the maxima and their flat indices into each plane (the first maximum of a window).
    /// </summary>
    public static (Tensor Values, Tensor Indices) FractionalMaxPool2dWithIndices(Tensor input, int[] kernelSize, int[]? outputSize = null, double[]? outputRatio = null,
        Tensor? randomSamples = null, Generator? generator = null)
    {
        const string op = "fractional_max_pool2d";
        if (input.Dim != 3 && input.Dim != 4)
            throw new KilnException(op, $"{op}: expected a 3D or 4D input, got shape {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        if (kernelSize.Length is not (1 or 2))
            throw new KilnException(op, $"{op}: kernel_size must be one or two numbers, got {kernelSize.Length}");
        if ((outputSize is null) == (outputRatio is null))
            throw new KilnException(op, $"{op}: exactly one of output_size or output_ratio must be given");
        bool batched = input.Dim == 4;
        using var unsqueezed = batched ? null : input.Unsqueeze(0);   // (an alias would not be recorded)
        var x = unsqueezed ?? input;
        int n = x.Size(0), c = x.Size(1), h = x.Size(2), w = x.Size(3);
        int kh = kernelSize[0], kw = kernelSize[^1];
        int oh, ow;
        if (outputSize is not null)
        {
            if (outputSize.Length is not (1 or 2)) throw new KilnException(op, $"{op}: output_size must be one or two numbers, got {outputSize.Length}");
            (oh, ow) = (outputSize[0], outputSize[^1]);
        }
        else
        {
            double rh = outputRatio![0], rw = outputRatio[^1];
            if (!(rh > 0 && rh < 1 && rw > 0 && rw < 1)) throw new KilnException(op, $"{op}: output_ratio must be between 0 and 1 (exclusive), got ({rh}, {rw})");
            (oh, ow) = ((int)(h * rh), (int)(w * rw));
        }
        if (oh + kh - 1 > h || ow + kw - 1 > w || oh < 1 || ow < 1)
            throw new KilnException(op, $"{op}: output size ({oh}, {ow}) with kernel ({kh}, {kw}) is too large for the input {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        Tensor samples;
        if (randomSamples is not null)
        {
            if (!ShapeRules.SameShape(randomSamples.ShapeArray, [n, c, 2]))
                throw new KilnException(op, $"{op}: random samples must be [{n}, {c}, 2], got {ShapeText.Format(randomSamples.ShapeArray)}", KilnErrorKind.Shape);
            samples = randomSamples.Alias();
        }
        else samples = Tensor.Rand([n, c, 2], x.DType, generator);
        // Each output cell's window: flat offsets into its plane, on the host (two short sequences per plane).
        var offsets = new long[(long)n * c * oh * ow * kh * kw];
        using (samples)
        using (var host = samples.Cpu())
        using (var wide = host.To(DType.Float64))
        {
            var u = wide.ToArray<double>();
            bool single = x.DType != DType.Float64;
            var rows = new long[oh];
            var cols = new long[ow];
            long at = 0;
            for (int plane = 0; plane < n * c; plane++)
            {
                Intervals(u[2 * plane + 1], h, oh, kh, single, rows);
                Intervals(u[2 * plane], w, ow, kw, single, cols);
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                        for (int a = 0; a < kh; a++)
                            for (int b = 0; b < kw; b++)
                                offsets[at++] = (rows[i] + a) * w + cols[j] + b;
            }
        }
        using var index = Tensor.From(offsets, n, c, oh * ow * kh * kw).To(x.Device);
        using var planes = x.Reshape([n, c, h * w]);
        using var gathered = planes.Gather(2, index);
        using var windows = gathered.Reshape([n, c, oh, ow, kh * kw]);
        var (values, positions) = windows.Max(-1);
        using (positions)
        {
            using var flat = index.Reshape([n, c, oh, ow, kh * kw]);
            using var picked = positions.Unsqueeze(-1);
            using var chosen = flat.Gather(-1, picked);
            var indices = chosen.Squeeze(-1);
            if (batched) return (values, indices);
            using (values)
            using (indices)
                return (values.Squeeze(0), indices.Squeeze(0));
        }
    }

    /// <summary>The fractional max pooling's values (<see cref="FractionalMaxPool2dWithIndices"/>).</summary>
    public static Tensor FractionalMaxPool2d(Tensor input, int[] kernelSize, int[]? outputSize = null, double[]? outputRatio = null, Tensor? randomSamples = null,
        Generator? generator = null)
    {
        var (values, indices) = FractionalMaxPool2dWithIndices(input, kernelSize, outputSize, outputRatio, randomSamples, generator);
        indices.Dispose();
        return values;
    }

    /// <summary>
    /// PyTorch's window starts along one dim: α = (in - k)/(out - 1), start i = ⌊(i + u)·α⌋ - ⌊u·α⌋, the last at in - k;
    /// in float arithmetic for a float tensor, as PyTorch computes them in the input's type.
    /// </summary>
    static void Intervals(double sample, int inputSize, int outputSize, int poolSize, bool single, long[] starts)
    {
        if (single)
        {
            float u = (float)sample, alpha = outputSize > 1 ? (float)(inputSize - poolSize) / (outputSize - 1) : 0f;
            for (int i = 0; i < outputSize - 1; i++) starts[i] = (long)((i + u) * alpha) - (long)(u * alpha);
        }
        else
        {
            double alpha = outputSize > 1 ? (double)(inputSize - poolSize) / (outputSize - 1) : 0;
            for (int i = 0; i < outputSize - 1; i++) starts[i] = (long)((i + sample) * alpha) - (long)(sample * alpha);
        }
        starts[outputSize - 1] = inputSize - poolSize;
    }
}
