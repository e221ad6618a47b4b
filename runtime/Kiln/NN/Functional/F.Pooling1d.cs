using System;
using System.Collections.Generic;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>Max over sliding windows of [N, C, L] or [C, L] (<c>F.max_pool1d</c>): the 2-D pool over a height of 1.</summary>
    public static Tensor MaxPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
    {
        Check1d("max_pool1d", input);
        using var lifted = input.Unsqueeze(-2);
        using var pooled = MaxPool2d(lifted, [1, kernelSize], [1, stride ?? kernelSize], [0, padding], [1, dilation], ceilMode);
        return pooled.Squeeze(-2);
    }

    /// <summary>Mean over sliding windows of [N, C, L] or [C, L] (<c>F.avg_pool1d</c>).</summary>
    public static Tensor AvgPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
    {
        Check1d("avg_pool1d", input);
        using var lifted = input.Unsqueeze(-2);
        using var pooled = AvgPool2d(lifted, [1, kernelSize], [1, stride ?? kernelSize], [0, padding], ceilMode, countIncludePad);
        return pooled.Squeeze(-2);
    }

    static void Check1d(string op, Tensor input)
    {
        if (input.Dim != 2 && input.Dim != 3)
            throw new KilnException(op, $"{op}: expected 2D or 3D input [N, C, L] (got shape {ShapeText.Format(input.ShapeArray)})");
    }

    /// <summary>
    /// Max pooling to a fixed output size (<c>F.adaptive_max_pool2d</c>): window i spans [floor(i·H/Ho), ceil((i+1)·H/Ho)),
    /// as in PyTorch; gradients go to each window's maximum.
    /// </summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, int[] outputSize)
    {
        const string op = "adaptive_max_pool2d";
        if (input.Dim != 3 && input.Dim != 4)
            throw new KilnException(op, $"{op}: expected 3D or 4D tensor, got shape {ShapeText.Format(input.ShapeArray)}");
        var o = Pair(op, outputSize, "output_size");
        int h = input.Size(-2), w = input.Size(-1);
        if (o[0] <= 0 || o[1] <= 0) throw new KilnException(op, $"{op}: output size must be positive, got ({o[0]}, {o[1]})");
        if (h == 0 || w == 0) throw new KilnException(op, $"{op}: input has an empty spatial dimension {ShapeText.Format(input.ShapeArray)}");
        var cells = new List<Tensor>(o[0] * o[1]);
        try
        {
            for (int i = 0; i < o[0]; i++)
            {
                int h0 = (int)Math.Floor((double)i * h / o[0]), h1 = (int)Math.Ceiling((double)(i + 1) * h / o[0]);
                for (int j = 0; j < o[1]; j++)
                {
                    int w0 = (int)Math.Floor((double)j * w / o[1]), w1 = (int)Math.Ceiling((double)(j + 1) * w / o[1]);
                    using var rows = input.Narrow(-2, h0, h1 - h0);
                    using var window = rows.Narrow(-1, w0, w1 - w0);
                    using var flat = window.Flatten(-2, -1);
                    cells.Add(flat.Max(-1).Values);
                }
            }
            using var stacked = Tensor.Stack(cells, -1);
            var shape = (int[])input.ShapeArray.Clone();
            shape[^2] = o[0];
            shape[^1] = o[1];
            return stacked.Reshape(shape);
        }
        finally
        {
            foreach (var c in cells) c.Dispose();
        }
    }

    /// <summary>
    /// Zeroes whole channels of [N, C, *] with probability <paramref name="p"/> and scales the rest by 1/(1-p)
    /// (<c>F.dropout2d</c>); the identity when not <paramref name="training"/>.
    /// </summary>
    public static Tensor Dropout2d(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        const string op = "dropout2d";
        if (p < 0 || p > 1) throw new KilnException(op, $"{op}: dropout probability has to be between 0 and 1, but got {p}");
        if (input.Dim != 3 && input.Dim != 4)
            throw new KilnException(op, $"{op}: expected 3D or 4D input [N, C, H, W] (got shape {ShapeText.Format(input.ShapeArray)})");
        if (!training || p == 0) return input;
        var maskShape = (int[])input.ShapeArray.Clone();
        for (int i = input.Dim == 4 ? 2 : 1; i < maskShape.Length; i++) maskShape[i] = 1;
        using var draw = Tensor.Rand(maskShape, input.DType, generator).To(input.Device);
        using var keep = draw.Ge(p);
        using var mask = keep.To(input.DType);
        using var scaled = p == 1 ? mask.Alias() : mask.Mul(1.0 / (1 - p));
        return input.Mul(scaled);
    }
}
