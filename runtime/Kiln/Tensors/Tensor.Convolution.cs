using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Conv;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>im2col (<c>F.unfold</c>): sliding <paramref name="g"/>-windows of a [N, C, H, W] tensor as columns [N, C·kh·kw, L].</summary>
    internal static Tensor Im2ColOp(Tensor x, ConvGeometry g)
    {
        const string op = "im2col";
        RequireFloat(op, x);
        var shape = ConvGeometry.Im2ColShape(op, x._shape, g);
        var (oh, ow) = g.Output(op, x._shape[2], x._shape[3]);
        using var src = x.ContiguousInternal();
        var result = Allocate(shape, x.DType, false, x.Device);
        if (x.IsCuda)
            Gpu.GpuOps.Columns(src, result, Gpu.GpuOps.Window(x._shape, oh, ow, g), back: false);
        else if (x.DType == DType.Float64)
            Im2Col.Unfold(src.Ptr<double>(), result.Ptr<double>(), x._shape[0], x._shape[1], x._shape[2], x._shape[3], g, oh, ow);
        else
            Im2Col.Unfold(src.Ptr<float>(), result.Ptr<float>(), x._shape[0], x._shape[1], x._shape[2], x._shape[3], g, oh, ow);
        return Record(op, result, new Im2ColArgs(g), x);
    }

    /// <summary>col2im (<c>F.fold</c>): sums columns [N, C·kh·kw, L] back into a [N, C, H, W] tensor.</summary>
    internal static Tensor Col2ImOp(Tensor cols, int h, int w, ConvGeometry g)
    {
        const string op = "col2im";
        RequireFloat(op, cols);
        var shape = ConvGeometry.Col2ImShape(op, cols._shape, h, w, g);
        var (oh, ow) = g.Output(op, h, w);
        using var src = cols.ContiguousInternal();
        var result = Allocate(shape, cols.DType, cols.IsCuda, cols.Device);
        if (cols.IsCuda)
            Gpu.GpuOps.Columns(result, src, Gpu.GpuOps.Window(shape, oh, ow, g), back: true);
        else if (cols.DType == DType.Float64)
            Im2Col.Fold(src.Ptr<double>(), result.Ptr<double>(), shape[0], shape[1], h, w, g, oh, ow);
        else
            Im2Col.Fold(src.Ptr<float>(), result.Ptr<float>(), shape[0], shape[1], h, w, g, oh, ow);
        return Record(op, result, new Col2ImArgs(h, w, g), cols);
    }

    /// <summary>
    /// Fused 2-D convolution of a batched [N, C, H, W] input with weight [O, C/groups, kH, kW] and optional bias [O]
    /// (shapes already checked by the caller); see <see cref="Kernels.Conv.ConvKernel"/>.
    /// </summary>
    internal static Tensor Conv2dOp(Tensor x, Tensor weight, Tensor? bias, ConvGeometry g, int groups)
    {
        const string op = "conv2d";
        RequireFloat(op, x);
        var s = ConvShape(x._shape, weight._shape, g, groups);
        using var xc = x.ContiguousInternal();
        using var wc = weight.ToInternal(x.DType).ContiguousInternal();
        using var bc = bias?.ToInternal(x.DType).ContiguousInternal();
        Tensor y;
        if (x.IsCuda) y = CudaConv2d(xc, wc, bc, s);
        else
        {
            y = Allocate([s.N, s.O, s.OH, s.OW], x.DType);
            if (x.DType == DType.Float32) Kernels.Conv.ConvKernel.Forward(s, xc.Ptr<float>(), wc.Ptr<float>(), bc is null ? null : bc.Ptr<float>(), y.Ptr<float>());
            else Kernels.Conv.ConvKernel.Forward(s, xc.Ptr<double>(), wc.Ptr<double>(), bc is null ? null : bc.Ptr<double>(), y.Ptr<double>());
        }
        return RecordMany(op, y, new ConvArgs(g, groups, HasBias: bias is not null), [x, weight, bias]);
    }

    /// <summary>dx, dweight, dbias of <see cref="Conv2dOp"/>; only the requested ones are computed.</summary>
    internal static Tensor?[] Conv2dBackwardOp(Tensor x, Tensor weight, bool hasBias, Tensor grad, ConvGeometry g, int groups, bool needX, bool needW, bool needB)
    {
        var s = ConvShape(x._shape, weight._shape, g, groups);
        using var xc = x.ContiguousInternal();
        using var wc = weight.ToInternal(x.DType).ContiguousInternal();
        using var gc = grad.ToInternal(x.DType).ContiguousInternal();
        if (x.IsCuda) return CudaConv2dBackward(xc, wc, hasBias, gc, s, needX, needW, needB);
        var dx = needX ? Allocate((int[])x._shape.Clone(), x.DType) : null;
        var dw = needW ? Allocate((int[])weight._shape.Clone(), x.DType) : null;
        var db = needB && hasBias ? Allocate([s.O], x.DType) : null;
        if (x.DType == DType.Float32)
            Kernels.Conv.ConvKernel.Backward(s, xc.Ptr<float>(), wc.Ptr<float>(), gc.Ptr<float>(), dx is null ? null : dx.Ptr<float>(), dw is null ? null : dw.Ptr<float>(), db is null ? null : db.Ptr<float>());
        else
            Kernels.Conv.ConvKernel.Backward(s, xc.Ptr<double>(), wc.Ptr<double>(), gc.Ptr<double>(), dx is null ? null : dx.Ptr<double>(), dw is null ? null : dw.Ptr<double>(), db is null ? null : db.Ptr<double>());
        return [dx, dw, db];
    }

    /// <summary>The columns [N, C·kH·kW, OH·OW] of a CUDA input (one group).</summary>
    static Tensor CudaColumns(Tensor x, Kernels.Conv.ConvKernel.Shape s)
    {
        if (s.Groups != 1) throw new KilnException("conv2d", $"conv2d: the CUDA backend convolves with groups=1, got groups={s.Groups}", KilnErrorKind.Device);
        var cols = Allocate([s.N, s.C * s.G.KH * s.G.KW, s.OH * s.OW], x.DType, false, x.Device);
        Gpu.GpuOps.Columns(x, cols, Gpu.GpuOps.Window(x._shape, s.OH, s.OW, s.G), back: false);
        return cols;
    }

    /// <summary>A convolution on a CUDA device as a GEMM over the input's columns: y[n] = W·cols[n] (+ b).</summary>
    static Tensor CudaConv2d(Tensor x, Tensor w, Tensor? b, Kernels.Conv.ConvKernel.Shape s)
    {
        using var noGrad = GradMode.Set(false);
        if (s.Groups > 1)
        {
            // One convolution per group over its channel slice, outputs concatenated along the channels.
            var outs = new Tensor[s.Groups];
            for (int k = 0; k < s.Groups; k++)
            {
                using var xk = GroupInput(x, s, k);
                using var wk = GroupWeight(w, s, k);
                using var bk = b is null ? null : GroupBias(b, s, k);
                outs[k] = CudaConv2d(xk, wk, bk, OneGroup(s));
            }
            try { return Cat(outs, 1); }
            finally { foreach (var o in outs) o.Dispose(); }
        }
        using var cols = CudaColumns(x, s);
        using var wf = w.Reshape(s.O, -1);
        using var y = wf.Matmul(cols);
        if (b is null) return y.Reshape(s.N, s.O, s.OH, s.OW);
        using var bias = b.Reshape(s.O, 1);
        using var biased = y + bias;
        return biased.Reshape(s.N, s.O, s.OH, s.OW);
    }

    /// <summary>The CUDA convolution's gradients: dW = Σₙ dY[n]·cols[n]ᵀ, db = Σ dY, dx = col2im(Wᵀ·dY).</summary>
    static Tensor?[] CudaConv2dBackward(Tensor x, Tensor w, bool hasBias, Tensor grad, Kernels.Conv.ConvKernel.Shape s, bool needX, bool needW, bool needB)
    {
        using var noGrad = GradMode.Set(false);
        if (s.Groups > 1)
        {
            var parts = new Tensor?[s.Groups][];
            int og = s.O / s.Groups;
            for (int k = 0; k < s.Groups; k++)
            {
                using var gk = grad.Narrow(1, (long)k * og, og).Contiguous();
                using var xk = GroupInput(x, s, k);
                using var wk = GroupWeight(w, s, k);
                parts[k] = CudaConv2dBackward(xk, wk, hasBias, gk, OneGroup(s), needX, needW, needB);
            }
            Tensor? Join(int j, int dim) => parts[0][j] is null ? null : Cat(System.Array.ConvertAll(parts, p => p[j]!), dim);
            var r = new[] { Join(0, 1), Join(1, 0), Join(2, 0) };
            foreach (var p in parts) foreach (var t in p) t?.Dispose();
            return r;
        }
        using var gy = grad.Reshape(s.N, s.O, s.OH * s.OW);
        Tensor? dx = null, dw = null, db = null;
        if (needW)
        {
            using var cols = CudaColumns(x, s);
            using var colsT = cols.Transpose(1, 2);
            using var perBatch = gy.Matmul(colsT);
            using var summed = perBatch.Sum(new[] { 0 });
            dw = summed.Reshape(w._shape);
        }
        if (needB && hasBias) db = gy.Sum(new[] { 0, 2 });
        if (needX)
        {
            using var wf = w.Reshape(s.O, -1);
            using var wt = wf.T;
            using var dcols = wt.Matmul(gy);
            dx = Zeros((int[])x._shape.Clone(), x.DType, x.Device);
            Gpu.GpuOps.Columns(dx, dcols, Gpu.GpuOps.Window(x._shape, s.OH, s.OW, s.G), back: true);
        }
        return [dx, dw, db];
    }

    static Kernels.Conv.ConvKernel.Shape OneGroup(Kernels.Conv.ConvKernel.Shape s) =>
        s with { C = s.C / s.Groups, O = s.O / s.Groups, Groups = 1 };

    static Tensor GroupInput(Tensor x, Kernels.Conv.ConvKernel.Shape s, int k)
    {
        int cg = s.C / s.Groups;
        using var slice = x.Narrow(1, (long)k * cg, cg);
        return slice.Contiguous();
    }

    static Tensor GroupWeight(Tensor w, Kernels.Conv.ConvKernel.Shape s, int k) => w.Narrow(0, (long)k * (s.O / s.Groups), s.O / s.Groups).Contiguous();

    static Tensor GroupBias(Tensor b, Kernels.Conv.ConvKernel.Shape s, int k) => b.Narrow(0, (long)k * (s.O / s.Groups), s.O / s.Groups).Contiguous();

    static Kernels.Conv.ConvKernel.Shape ConvShape(int[] x, int[] w, ConvGeometry g, int groups)
    {
        var (oh, ow) = g.Output("conv2d", x[2], x[3]);
        return new Kernels.Conv.ConvKernel.Shape { N = x[0], C = x[1], H = x[2], W = x[3], O = w[0], Groups = groups, OH = oh, OW = ow, G = g };
    }

    static void RequireFloat(string op, Tensor x)
    {
        if (x.DType != DType.Float32 && x.DType != DType.Float64)
            throw new KilnException(op, $"{op}: expected a float32 or float64 tensor, got {x.DType}", KilnErrorKind.DType);
    }

    /// <summary>A contiguous tensor with the same values that records nothing (a new reference to this one when already contiguous).</summary>
    internal Tensor ContiguousInternal()
    {
        if (IsContiguous) return Alias();
        using (GradMode.Set(false)) return Kernels.CopyKernel.Convert(this, DType);
    }
}
