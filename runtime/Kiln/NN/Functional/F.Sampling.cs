using System;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Sampling;

namespace Kiln.NN;

// Spatial transformers: affine sampling grids and sampling an image at grid points. Host float tensors sample by a kernel
// with its own backward; elsewhere sampling is composed of gather, where and pointwise ops, so the gradients of the image
// (scatter-add into it) and of the grid (through the interpolation weights) are those ops', on either device.
public static partial class F
{
    /// <summary>
    /// The sampling grid [N, H, W, 2] of the affine maps <paramref name="theta"/> [N, 2, 3] over an output of
    /// <paramref name="size"/> [N, C, H, W] (<c>F.affine_grid</c>): each output pixel's normalised (x, y) in [-1, 1] mapped
    /// by θ, for <see cref="GridSample"/>.
    /// </summary>
    public static Tensor AffineGrid(Tensor theta, int[] size, bool alignCorners = false)
    {
        using var scope = Tensor.Scope();
        const string op = "affine_grid";
        if (size.Length != 4)
            throw new KilnException(op, $"{op}: only 2-D affine grids (size [N, C, H, W]) are supported, got size of {size.Length} numbers", KilnErrorKind.Unsupported);
        if (theta.Dim != 3 || theta.Size(1) != 2 || theta.Size(2) != 3 || theta.Size(0) != size[0])
            throw new KilnException(op, $"{op}: expected theta of shape [N, 2, 3] with N = {size[0]} for size [{string.Join(", ", size)}], got {ShapeText.Format(theta.ShapeArray)}", KilnErrorKind.Shape);
        int n = size[0], h = size[2], w = size[3];
        var points = new double[h * w * 3];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                points[(i * w + j) * 3] = GridCoordinate(j, w, alignCorners);
                points[(i * w + j) * 3 + 1] = GridCoordinate(i, h, alignCorners);
                points[(i * w + j) * 3 + 2] = 1;
            }
        using var host = Tensor.From(points, 1, h * w, 3);
        using var typed = host.To(theta.DType);
        using var basis = OnDevice(typed.To(typed.DType), theta.Device);
        using var mapT = theta.Transpose(1, 2);                           // [N, 3, 2]
        using var mapped = basis.Matmul(mapT);                             // [N, H·W, 2]
        return scope.Keep(mapped.Reshape(n, h, w, 2));
    }

    /// <summary>The normalised coordinate of pixel <paramref name="i"/> of <paramref name="size"/>, as PyTorch's linspace rule.</summary>
    static double GridCoordinate(int i, int size, bool alignCorners)
    {
        if (size <= 1) return 0;
        double step = -1 + 2.0 * i / (size - 1);
        return alignCorners ? step : step * (size - 1) / size;
    }

    /// <summary>
    /// Samples [N, C, H, W] at the normalised (x, y) points of <paramref name="grid"/> [N, Ho, Wo, 2] (<c>F.grid_sample</c>):
    /// <paramref name="mode"/> "bilinear", "nearest" or "bicubic" (cubic convolution over 4 × 4 pixels, A = -0.75, on the
    /// host); points outside read zeros, the border ("border") or the image
    /// reflected ("reflection"); <paramref name="alignCorners"/> puts -1 and 1 on the corner pixels' centres.
    /// </summary>
    public static Tensor GridSample(Tensor input, Tensor grid, string mode = "bilinear", string paddingMode = "zeros", bool alignCorners = false)
    {
        using var scope = Tensor.Scope();
        const string op = "grid_sample";
        if (mode is not ("bilinear" or "nearest" or "bicubic")) throw new KilnException(op, $"{op}: mode must be 'bilinear', 'nearest' or 'bicubic', got '{mode}'", KilnErrorKind.Unsupported);
        if (paddingMode is not ("zeros" or "border" or "reflection"))
            throw new KilnException(op, $"{op}: padding_mode must be 'zeros', 'border' or 'reflection', got '{paddingMode}'", KilnErrorKind.Unsupported);
        if (input.Dim != 4 || grid.Dim != 4 || grid.Size(3) != 2 || grid.Size(0) != input.Size(0))
            throw new KilnException(op, $"{op}: expected input [N, C, H, W] and grid [N, H_out, W_out, 2] with the same N, got {ShapeText.Format(input.ShapeArray)} and {ShapeText.Format(grid.ShapeArray)}", KilnErrorKind.Shape);
        if (input.DType != grid.DType)
            throw new KilnException(op, $"{op}: expected input and grid to have the same dtype, got {input.DType} and {grid.DType}", KilnErrorKind.DType);
        int n = input.Size(0), c = input.Size(1), h = input.Size(2), w = input.Size(3), ho = grid.Size(1), wo = grid.Size(2);
        if (!input.IsCuda && !grid.IsCuda && input.DType is DType.Float32 or DType.Float64)
        {
            var padding = paddingMode == "zeros" ? GridPadding.Zeros : paddingMode == "border" ? GridPadding.Border : GridPadding.Reflection;
            var shape = new GridSampleShape(n, c, h, w, ho, wo, mode switch { "bilinear" => GridMode.Bilinear, "nearest" => GridMode.Nearest, _ => GridMode.Bicubic }, padding, alignCorners);
            return scope.Keep(input.DType == DType.Float32 ? SampleOnHost<float>(input, grid, shape) : SampleOnHost<double>(input, grid, shape));
        }
        // Bicubic elsewhere: the host kernel in float32 (or float64), the result back on the input's device and dtype.
        if (mode == "bicubic")
        {
            var hostType = input.DType == DType.Float64 ? DType.Float64 : DType.Float32;
            using var hostInput = input.To(Device.Cpu).To(hostType);
            using var hostGrid = grid.To(Device.Cpu).To(hostType);
            using var sampled = GridSample(hostInput, hostGrid, mode, paddingMode, alignCorners);
            using var typed = sampled.To(input.DType);
            return scope.Keep(typed.To(input.Device));
        }
        // Other devices and dtypes: the composition below.
        using var gx = grid.Select(3, 0);
        using var gy = grid.Select(3, 1);
        using var ix = SourceCoordinate(gx, w, paddingMode, alignCorners);
        using var iy = SourceCoordinate(gy, h, paddingMode, alignCorners);
        using var planes = input.Reshape(n, c, h * w);
        if (mode == "nearest")
        {
            using var nx = ix.Round();   // half to even, as PyTorch's nearbyint
            using var ny = iy.Round();
            return scope.Keep(Corner(planes, nx, ny, h, w, c, ho, wo));
        }
        Tensor x0, y0;
        using (Autograd.NoGrad()) { x0 = ix.Floor(); y0 = iy.Floor(); }
        using (x0)
        using (y0)
        {
            using var x1 = x0 + 1.0;
            using var y1 = y0 + 1.0;
            // Bilinear weights, differentiable in the grid through ix and iy (the corners are constants).
            using var east = ix - x0;
            using var west = x1 - ix;
            using var south = iy - y0;
            using var north = y1 - iy;
            using var v00 = Corner(planes, x0, y0, h, w, c, ho, wo);
            using var v10 = Corner(planes, x1, y0, h, w, c, ho, wo);
            using var v01 = Corner(planes, x0, y1, h, w, c, ho, wo);
            using var v11 = Corner(planes, x1, y1, h, w, c, ho, wo);
            using var w00 = (west * north).Unsqueeze(1);
            using var w10 = (east * north).Unsqueeze(1);
            using var w01 = (west * south).Unsqueeze(1);
            using var w11 = (east * south).Unsqueeze(1);
            using var a = v00 * w00;
            using var b = v10 * w10;
            using var cc = v01 * w01;
            using var d = v11 * w11;
            using var ab = a + b;
            using var cd = cc + d;
            return scope.Keep(ab + cd);
        }
    }

    /// <summary><see cref="GridSample"/> of host float tensors by <see cref="GridSampleKernel{T}"/>, one node with the kernel's backward.</summary>
    static unsafe Tensor SampleOnHost<T>(Tensor input, Tensor grid, GridSampleShape s) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Tensor Forward()
        {
            using var image = input.Contiguous();
            using var points = grid.Contiguous();
            var output = Tensor.Empty([s.N, s.C, s.Ho, s.Wo], input.DType);
            GridSampleKernel<T>.Forward((T*)image.DataPointer, (T*)points.DataPointer, (T*)output.DataPointer, s);
            return output;
        }
        if (!Autograd.IsGradEnabled || !input.RequiresGrad && !grid.RequiresGrad) return Forward();
        return Autograd.Function("grid_sampler_2d", [input, grid], Forward, grad =>
        {
            using var noGrad = Autograd.NoGrad();
            using var g = grad.Contiguous();
            using var image = input.Contiguous();
            using var points = grid.Contiguous();
            var inputGrad = input.RequiresGrad ? Tensor.Zeros(input.ShapeArray, input.DType) : null;
            // Nearest sampling is piecewise constant: its grid gradient is zero, as PyTorch's.
            var gridGrad = grid.RequiresGrad ? Tensor.Zeros(grid.ShapeArray, grid.DType) : null;
            GridSampleKernel<T>.Backward((T*)g.DataPointer, (T*)image.DataPointer, (T*)points.DataPointer,
                inputGrad is null ? null : (T*)inputGrad.DataPointer, gridGrad is null ? null : (T*)gridGrad.DataPointer, s);
            return [inputGrad, gridGrad];
        });
    }

    /// <summary>Pixel coordinate of normalised <paramref name="g"/> along a dim of <paramref name="size"/>, after the padding rule.</summary>
    static Tensor SourceCoordinate(Tensor g, int size, string paddingMode, bool alignCorners)
    {
        // align_corners: -1 and 1 are the centres of the end pixels; otherwise their outer edges.
        using var unnormalized = alignCorners ? (g + 1.0) * ((size - 1) / 2.0) : ((g + 1.0) * size - 1.0) / 2.0;
        if (paddingMode == "zeros") return unnormalized.To(unnormalized.DType);
        if (paddingMode == "border") return unnormalized.Clamp(0, size - 1);
        // reflection: fold the coordinate back into [low, high] (pixel centres, or edges without align_corners), then clip.
        double low = alignCorners ? 0 : -0.5, high = alignCorners ? size - 1 : size - 0.5, span = high - low;
        if (span <= 0) return Tensor.ZerosLike(unnormalized);
        using var shifted = unnormalized - low;
        using var distance = shifted.Abs();
        using var extra = distance.Fmod(span);
        Tensor flips;
        using (Autograd.NoGrad()) { using var q = distance / span; flips = q.Floor(); }
        using (flips)
        {
            using var parity = flips.Remainder(2.0);
            using var even = parity.Eq(0);
            using var forward = extra + low;
            using var backward = (span - extra) + low;
            using var reflected = Tensor.Where(even, forward, backward);
            return reflected.Clamp(0, size - 1);
        }
    }

    /// <summary>[N, C, Ho, Wo] values of the image planes [N, C, H·W] at integer pixel (x, y); zero where outside.</summary>
    static Tensor Corner(Tensor planes, Tensor x, Tensor y, int h, int w, int c, int ho, int wo)
    {
        int n = planes.Size(0);
        Tensor flat, inside;
        using (Autograd.NoGrad())
        {
            using var xOk = x.Ge(0);
            using var xHigh = x.Le(w - 1);
            using var yOk = y.Ge(0);
            using var yHigh = y.Le(h - 1);
            using var xIn = xOk.BitwiseAnd(xHigh);
            using var yIn = yOk.BitwiseAnd(yHigh);
            inside = xIn.BitwiseAnd(yIn);
            using var cx = x.Clamp(0, w - 1);
            using var cy = y.Clamp(0, h - 1);
            using var linear = cy * (double)w + cx;
            flat = linear.To(DType.Int64);
        }
        using (flat)
        using (inside)
        {
            using var row = flat.Reshape(n, 1, ho * wo);
            using var index = row.Expand(n, c, ho * wo);
            using var picked = planes.Gather(2, index.Contiguous());
            using var mask = inside.Reshape(n, 1, ho * wo);
            using var zero = Tensor.Full([], 0, planes.DType, planes.Device);
            using var kept = Tensor.Where(mask, picked, zero);
            return kept.Reshape(n, c, ho, wo);
        }
    }
}
