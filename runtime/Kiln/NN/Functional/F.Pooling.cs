using System;
using System.Collections.Generic;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Pooling;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>Max over sliding windows of a [N, C, H, W] (or [C, H, W]) input; padding counts as -∞.</summary>
    public static Tensor MaxPool2d(Tensor input, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null, bool ceilMode = false)
    {
        using var scope = Tensor.Scope();
        return scope.Keep(MaxPool2dWithIndices(input, kernelSize, stride, padding, dilation, ceilMode).Values);
    }

    /// <summary>
    /// Mean over sliding windows; with <paramref name="countIncludePad"/> false, padded zeros are left out of each window's
    /// count; with <paramref name="ceilMode"/>, windows that run past the padded input are kept and divided by the part
    /// inside it (PyTorch's rule).
    /// </summary>
    public static Tensor AvgPool2d(Tensor input, int[] kernelSize, int[]? stride = null, int[]? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
    {
        const string op = "avg_pool2d";
        var (x, g, oh, ow, unbatched) = PoolSetup(op, input, kernelSize, stride, padding, null, ceilMode);
        int n = x.Size(0), c = x.Size(1), h = x.Size(2), w = x.Size(3);
        if (divisorOverride == 0) throw new KilnException(op, $"{op}: divisor must be not zero");
        if (!x.IsCuda && x.DType is DType.Float32 or DType.Float64)
        {
            var shape = new AvgPoolShape((long)n * c, h, w, oh, ow, g, countIncludePad, divisorOverride);
            var pooled = x.DType == DType.Float32 ? AvgPoolOnHost<float>(x, shape) : AvgPoolOnHost<double>(x, shape);
            if (!unbatched) return pooled;
            using (pooled) return pooled.Squeeze(0);
        }
        // Other devices and dtypes: windows unfolded and summed. Zero padding all round, plus the extra bottom/right rows ceil mode's last windows read.
        int needH = (oh - 1) * g.SH + g.KH, needW = (ow - 1) * g.SW + g.KW;
        int extraH = Math.Max(0, needH - h - 2 * g.PH), extraW = Math.Max(0, needW - w - 2 * g.PW);
        var inner = new ConvGeometry(op, g.KH, g.KW, 1, 1, 0, 0, g.SH, g.SW);
        var padded = g.PH + g.PW + extraH + extraW > 0 ? Pad(x, new[] { g.PW, g.PW + extraW, g.PH, g.PH + extraH }) : x;
        var sums = Tensor.Im2ColOp(padded, inner).View(n, c, g.KH * g.KW, oh, ow).Sum(2);
        if (divisorOverride is int div)
        {
            if (div == 0) throw new KilnException(op, $"{op}: divisor must be not zero");
            var byDiv = sums * (1.0 / div);
            return unbatched ? byDiv.Squeeze(0) : byDiv;
        }
        // Each window's divisor: the cells it covers inside the padded input (or inside the input itself).
        var counted = new double[(h + 2 * g.PH + extraH) * (w + 2 * g.PW + extraW)];
        int cw = w + 2 * g.PW + extraW;
        for (int i = 0; i < h + 2 * g.PH; i++)
            for (int j = 0; j < w + 2 * g.PW; j++)
            {
                bool inside = i >= g.PH && i < h + g.PH && j >= g.PW && j < w + g.PW;
                counted[i * cw + j] = countIncludePad || inside ? 1 : 0;
            }
        using var countImage = Tensor.From(counted, 1, 1, h + 2 * g.PH + extraH, cw);
        using var countTyped = countImage.To(x.DType).To(x.Device);
        using var counts = Tensor.Im2ColOp(countTyped, inner).View(1, 1, g.KH * g.KW, oh, ow).Sum(2);
        var y = sums / counts;
        return unbatched ? y.Squeeze(0) : y;
    }

    /// <summary>
    /// <see cref="MaxPool2d"/> that also returns where each maximum came from, as a flat index into its input plane
    /// (h·W + w), like PyTorch's <c>return_indices=True</c>.
    /// </summary>
    public static (Tensor Values, Tensor Indices) MaxPool2dWithIndices(Tensor input, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null, bool ceilMode = false)
    {
        var (x, g, _, _, unbatched) = PoolSetup("max_pool2d", input, kernelSize, stride, padding, dilation, ceilMode);
        var (values, indices) = Tensor.MaxPool2dOp(x, g, ceilMode);
        return unbatched ? (values.Squeeze(0), indices.Squeeze(0)) : (values, indices);
    }

    /// <summary>Average pooling to a fixed output size; window i spans [floor(i·H/Ho), ceil((i+1)·H/Ho)) as in PyTorch.</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, int[] outputSize)
    {
        var (o, h, w) = AdaptiveSetup("adaptive_avg_pool2d", input, outputSize);
        // Averaging is linear and separable: y = Ph · x · Pwᵀ with row-averaging matrices.
        using var ph = AdaptiveMatrix(h, o[0], input.DType, input.Device);
        using var pw = AdaptiveMatrix(w, o[1], input.DType, input.Device);
        using var rows = ph.Matmul(input);
        using var pwT = pw.T;
        return rows.Matmul(pwT);
    }

    /// <summary>The checks of the adaptive pools: a 3-D or 4-D input with non-empty planes, a positive output size.</summary>
    static (int[] Output, int H, int W) AdaptiveSetup(string op, Tensor input, int[] outputSize)
    {
        if (input.Dim != 3 && input.Dim != 4)
            throw new KilnException(op, $"{op}: expected 3D or 4D tensor, got shape {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        var o = Pair(op, outputSize, "output_size");
        int h = input.Size(-2), w = input.Size(-1);
        if (o[0] <= 0 || o[1] <= 0) throw new KilnException(op, $"{op}: output size must be positive, got ({o[0]}, {o[1]})", KilnErrorKind.Shape);
        if (h == 0 || w == 0) throw new KilnException(op, $"{op}: input has an empty spatial dimension {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        return (o, h, w);
    }

    static Tensor AdaptiveMatrix(int input, int output, DType dtype, Device device)
    {
        var m = new double[output * input];
        for (int i = 0; i < output; i++)
        {
            int start = (int)Math.Floor((double)i * input / output), end = (int)Math.Ceiling((double)(i + 1) * input / output);
            for (int j = start; j < end; j++) m[i * input + j] = 1.0 / (end - start);
        }
        using var t = Tensor.From(m, output, input);
        using var typed = t.To(dtype);
        return typed.To(device); // the input's device: a CUDA input met a host matrix before
    }

    /// <summary><see cref="AvgPool2d"/> of a host float batch [N, C, H, W] by <see cref="AvgPoolKernel{T}"/>, one node with its backward.</summary>
    static unsafe Tensor AvgPoolOnHost<T>(Tensor x, AvgPoolShape s) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int n = x.Size(0), c = x.Size(1);
        Tensor Forward()
        {
            using var input = x.Contiguous();
            var output = Tensor.Empty([n, c, s.OH, s.OW], x.DType);
            AvgPoolKernel<T>.Forward((T*)input.DataPointer, (T*)output.DataPointer, s);
            return output;
        }
        if (!Autograd.IsGradEnabled || !x.RequiresGrad) return Forward();
        return Autograd.Function("avg_pool2d", [x], Forward, grad => [AvgPoolBackwardOnHost<T>(grad, x.ShapeArray, s)]);
    }

    /// <summary>
    /// The input gradient of <see cref="AvgPoolOnHost{T}"/>: linear in <paramref name="grad"/>, so under create_graph it is
    /// recorded with the pool itself as its backward (a gradient penalty differentiates through it).
    /// </summary>
    static unsafe Tensor AvgPoolBackwardOnHost<T>(Tensor grad, int[] inputShape, AvgPoolShape s) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Tensor Compute()
        {
            using var g = grad.Contiguous();
            var gradX = Tensor.Empty(inputShape, grad.DType);   // the kernel zeroes each plane it fills
            AvgPoolKernel<T>.Backward((T*)g.DataPointer, (T*)gradX.DataPointer, s);
            return gradX;
        }
        if (!Autograd.IsGradEnabled || !grad.RequiresGrad) return Compute();
        return Autograd.Function("avg_pool2d_backward", [grad], Compute, gg => [AvgPoolOnHost<T>(gg, s)]);
    }

    static (Tensor X, ConvGeometry G, int OH, int OW, bool Unbatched) PoolSetup(string op, Tensor input, int[] kernelSize, int[]? stride, int[]? padding, int[]? dilation, bool ceil)
    {
        bool unbatched = input.Dim == 3;
        if (input.Dim != 4 && !unbatched)
            throw new KilnException(op, $"{op}: expected 3D or 4D input (got shape {ShapeText.Format(input.ShapeArray)})", KilnErrorKind.Shape);
        var k = Pair(op, kernelSize, "kernel_size");
        var s = stride == null || stride.Length == 0 ? k : Pair(op, stride, "stride");
        var g = new ConvGeometry(op, k[0], k[1], Pick(dilation, 0, 1), Pick(dilation, 1, 1), Pick(padding, 0, 0), Pick(padding, 1, 0), s[0], s[1]);
        var y = LayerRules.Pool2d(op, input.ShapeArray, g, ceil);
        var x = unbatched ? input.Unsqueeze(0) : input;
        return (x, g, y[^2], y[^1], unbatched);
    }

    /// <summary>Max over sliding windows of [N, C, L] or [C, L] (<c>F.max_pool1d</c>): the 2-D pool over a height of 1.</summary>
    public static Tensor MaxPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
    {
        using var scope = Tensor.Scope();
        Check1d("max_pool1d", input);
        using var lifted = input.Unsqueeze(-2);
        using var pooled = MaxPool2d(lifted, [1, kernelSize], [1, stride ?? kernelSize], [0, padding], [1, dilation], ceilMode);
        return scope.Keep(pooled.Squeeze(-2));
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
            throw new KilnException(op, $"{op}: expected 2D or 3D input [N, C, L] (got shape {ShapeText.Format(input.ShapeArray)})", KilnErrorKind.Shape);
    }

    /// <summary>
    /// Max pooling to a fixed output size (<c>F.adaptive_max_pool2d</c>): window i spans [floor(i·H/Ho), ceil((i+1)·H/Ho)),
    /// as in PyTorch; gradients go to each window's maximum.
    /// </summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, int[] outputSize)
    {
        using var scope = Tensor.Scope();
        var (o, h, w) = AdaptiveSetup("adaptive_max_pool2d", input, outputSize);
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
            return scope.Keep(stacked.Reshape(shape));
        }
        finally
        {
            foreach (var c in cells) c.Dispose();
        }
    }

    /// <summary>Averages [N, C, L] (or [C, L]) into <paramref name="outputSize"/> adaptive windows (<c>F.adaptive_avg_pool1d</c>).</summary>
    public static Tensor AdaptiveAvgPool1d(Tensor input, int outputSize) => AsPlane("adaptive_avg_pool1d", input, x => AdaptiveAvgPool2d(x, [1, outputSize]));

    /// <summary>The largest value of each of <paramref name="outputSize"/> adaptive windows over [N, C, L] (<c>F.adaptive_max_pool1d</c>).</summary>
    public static Tensor AdaptiveMaxPool1d(Tensor input, int outputSize) => AsPlane("adaptive_max_pool1d", input, x => AdaptiveMaxPool2d(x, [1, outputSize]));

    // A 1-D pool as the 2-D one over planes of height 1.
    static Tensor AsPlane(string op, Tensor input, System.Func<Tensor, Tensor> pool2d)
    {
        if (input.Dim != 2 && input.Dim != 3)
            throw new KilnException(op, $"{op}: expected 2-D or 3-D input [(N,) C, L], got {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        using var plane = input.Unsqueeze(-2);
        using var pooled = pool2d(plane);
        return pooled.Squeeze(-2);
    }

    /// <summary>
    /// Power-average pooling of [N, C, H, W]: (Σ xᵖ over each window)^(1/p) (<c>F.lp_pool2d</c>), with PyTorch's formula:
    /// the window mean of xᵖ times the window size, negative sums clamped to 0.
    /// </summary>
    public static Tensor LpPool2d(Tensor input, double normType, int[] kernelSize, int[]? stride = null, bool ceilMode = false)
    {
        var k = Pair("lp_pool2d", kernelSize, "kernel_size");
        using var powered = input.Pow(normType);
        using var mean = AvgPool2d(powered, k, stride, [0], ceilMode);
        return LpFinish(mean, normType, k[0] * k[1]);
    }

    /// <summary>Power-average pooling of [N, C, L] (<c>F.lp_pool1d</c>).</summary>
    public static Tensor LpPool1d(Tensor input, double normType, int kernelSize, int? stride = null, bool ceilMode = false)
    {
        using var powered = input.Pow(normType);
        using var mean = AvgPool1d(powered, kernelSize, stride, 0, ceilMode);
        return LpFinish(mean, normType, kernelSize);
    }

    static Tensor LpFinish(Tensor mean, double normType, int window)
    {
        using var sign = mean.Sign();
        using var magnitude = mean.Abs();
        using var positive = magnitude.Relu();
        using var signed = sign.Mul(positive);
        using var sum = signed.Mul(window);
        return sum.Pow(1.0 / normType);
    }

    /// <summary>
    /// The partial inverse of max pooling (<c>F.max_unpool2d</c>): each value of [N, C, H, W] written at the flat plane
    /// position <paramref name="indices"/> holds (from <see cref="MaxPool2dWithIndices"/>), zeros elsewhere; the output
    /// size is the pool's input size, computed from kernel, stride and padding unless <paramref name="outputSize"/> says.
    /// </summary>
    public static Tensor MaxUnpool2d(Tensor input, Tensor indices, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? outputSize = null)
    {
        using var scope = Tensor.Scope();
        const string op = "max_unpool2d";
        bool unbatched = input.Dim == 3;
        if (input.Dim != 4 && !unbatched)
            throw new KilnException(op, $"{op}: expected 3D or 4D input, got shape {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        if (!ShapeRules.SameShape(indices.ShapeArray, input.ShapeArray))
            throw new KilnException(op, $"{op}: expected indices of the input's shape {ShapeText.Format(input.ShapeArray)}, got {ShapeText.Format(indices.ShapeArray)}", KilnErrorKind.Shape);
        var k = Pair(op, kernelSize, "kernel_size");
        var st = stride is null || stride.Length == 0 ? k : Pair(op, stride, "stride");
        var pad = padding is null || padding.Length == 0 ? [0, 0] : Pair(op, padding, "padding");
        int h = input.Size(-2), w = input.Size(-1);
        int oh = outputSize is { } o ? o[^2] : (h - 1) * st[0] - 2 * pad[0] + k[0];
        int ow = outputSize is { } o2 ? o2[^1] : (w - 1) * st[1] - 2 * pad[1] + k[1];
        if (oh <= 0 || ow <= 0) throw new KilnException(op, $"{op}: output size ({oh}, {ow}) must be positive", KilnErrorKind.Shape);
        using var x = unbatched ? input.Unsqueeze(0) : input.To(input.DType);
        using var idx = unbatched ? indices.Unsqueeze(0) : indices.To(indices.DType);
        int n = x.Size(0), c = x.Size(1);
        using var flatValues = x.Reshape(n, c, h * w);
        using var flatIndices = idx.Reshape(n, c, h * w);
        using var zeros = Tensor.Zeros([n, c, oh * ow], input.DType, input.Device);
        using var placed = zeros.Scatter(2, flatIndices, flatValues);   // an index past the plane is scatter's bounds error
        using var planes = placed.Reshape(n, c, oh, ow);
        return scope.Keep(unbatched ? planes.Squeeze(0) : planes.To(planes.DType));
    }

    /// <summary>The partial inverse of 1-D max pooling over [N, C, L] (<c>F.max_unpool1d</c>).</summary>
    public static Tensor MaxUnpool1d(Tensor input, Tensor indices, int kernelSize, int? stride = null, int padding = 0, int? outputSize = null)
    {
        using var scope = Tensor.Scope();
        Check1d("max_unpool1d", input);
        using var x = input.Unsqueeze(-2);
        using var idx = indices.Unsqueeze(-2);
        int length = outputSize ?? (input.Size(-1) - 1) * (stride ?? kernelSize) - 2 * padding + kernelSize;
        using var y = MaxUnpool2d(x, idx, [1, kernelSize], [1, stride ?? kernelSize], [0, padding], [1, length]);
        return scope.Keep(y.Squeeze(-2));
    }
}

