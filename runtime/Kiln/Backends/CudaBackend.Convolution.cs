using Kiln.Compiler.Shapes;
using Kiln.Gpu;
using Kiln.Kernels.Conv;

namespace Kiln.Backends;

// Convolution on the CUDA device: a GEMM over the input's columns (im2col by a window kernel), groups one by one.
internal sealed partial class CudaBackend
{
    public void Im2Col(Tensor x, Tensor cols, ConvGeometry g, int oh, int ow) =>
        GpuOps.Columns(x, cols, GpuOps.Window(x.ShapeArray, oh, ow, g), back: false);

    public void Col2Im(Tensor cols, Tensor image, ConvGeometry g, int oh, int ow)
    {
        // The window kernel adds into the image.
        GpuOps.Fill(image, 0);
        GpuOps.Columns(image, cols, GpuOps.Window(image.ShapeArray, oh, ow, g), back: true);
    }

    /// <summary>The columns [N, C·kH·kW, OH·OW] of a CUDA input (one group).</summary>
    static Tensor Columns(Tensor x, ConvKernel.Shape s)
    {
        if (s.Groups != 1) throw new KilnException("conv2d", $"conv2d: the CUDA backend convolves with groups=1, got groups={s.Groups}", KilnErrorKind.Device);
        var cols = Tensor.Allocate([s.N, s.C * s.G.KH * s.G.KW, s.OH * s.OW], x.DType, false, x.Device);
        Gpu.GpuOps.Columns(x, cols, Gpu.GpuOps.Window(x.ShapeArray, s.OH, s.OW, s.G), back: false);
        return cols;
    }

    /// <summary>A convolution on the device as a GEMM over the input's columns: y[n] = W·cols[n] (+ b).</summary>
    public Tensor Conv2d(Tensor x, Tensor w, Tensor? b, ConvKernel.Shape s)
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
                outs[k] = Conv2d(xk, wk, bk, OneGroup(s));
            }
            try { return Tensor.Cat(outs, 1); }
            finally { foreach (var o in outs) o.Dispose(); }
        }
        using var cols = Columns(x, s);
        using var wf = w.Reshape(s.O, -1);
        using var y = wf.Matmul(cols);
        if (b is null) return y.Reshape(s.N, s.O, s.OH, s.OW);
        using var bias = b.Reshape(s.O, 1);
        using var biased = y + bias;
        return biased.Reshape(s.N, s.O, s.OH, s.OW);
    }

    /// <summary>The CUDA convolution's gradients: dW = Σₙ dY[n]·cols[n]ᵀ, db = Σ dY, dx = col2im(Wᵀ·dY).</summary>
    public Tensor?[] Conv2dBackward(Tensor x, Tensor w, bool hasBias, Tensor grad, ConvKernel.Shape s, bool needX, bool needW, bool needB)
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
                parts[k] = Conv2dBackward(xk, wk, hasBias, gk, OneGroup(s), needX, needW, needB);
            }
            Tensor? Join(int j, int dim) => parts[0][j] is null ? null : Tensor.Cat(System.Array.ConvertAll(parts, p => p[j]!), dim);
            var r = new[] { Join(0, 1), Join(1, 0), Join(2, 0) };
            foreach (var p in parts) foreach (var t in p) t?.Dispose();
            return r;
        }
        using var gy = grad.Reshape(s.N, s.O, s.OH * s.OW);
        Tensor? dx = null, dw = null, db = null;
        if (needW)
        {
            using var cols = Columns(x, s);
            using var colsT = cols.Transpose(1, 2);
            using var perBatch = gy.Matmul(colsT);
            using var summed = perBatch.Sum(new[] { 0 });
            dw = summed.Reshape(w.ShapeArray);
        }
        if (needB && hasBias) db = gy.Sum(new[] { 0, 2 });
        if (needX)
        {
            using var wf = w.Reshape(s.O, -1);
            using var wt = wf.T;
            using var dcols = wt.Matmul(gy);
            dx = Tensor.Zeros((int[])x.ShapeArray.Clone(), x.DType, x.Device);
            Gpu.GpuOps.Columns(dx, dcols, Gpu.GpuOps.Window(x.ShapeArray, s.OH, s.OW, s.G), back: true);
        }
        return [dx, dw, db];
    }

    static ConvKernel.Shape OneGroup(ConvKernel.Shape s) =>
        s with { C = s.C / s.Groups, O = s.O / s.Groups, Groups = 1 };

    static Tensor GroupInput(Tensor x, ConvKernel.Shape s, int k)
    {
        int cg = s.C / s.Groups;
        using var slice = x.Narrow(1, (long)k * cg, cg);
        return slice.Contiguous();
    }

    static Tensor GroupWeight(Tensor w, ConvKernel.Shape s, int k) => w.Narrow(0, (long)k * (s.O / s.Groups), s.O / s.Groups).Contiguous();

    static Tensor GroupBias(Tensor b, ConvKernel.Shape s, int k) => b.Narrow(0, (long)k * (s.O / s.Groups), s.O / s.Groups).Contiguous();
}
