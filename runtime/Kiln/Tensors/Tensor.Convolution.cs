using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;

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
        x.Backend.Im2Col(src, result, g, oh, ow);
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
        var result = Allocate(shape, cols.DType, false, cols.Device);
        cols.Backend.Col2Im(src, result, g, oh, ow);
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
        using var wc = weight.ContiguousAs(x.DType);
        using var bc = bias?.ContiguousAs(x.DType);
        var y = x.Backend.Conv2d(xc, wc, bc, s);
        return RecordMany(op, y, new ConvArgs(g, groups, HasBias: bias is not null), [x, weight, bias]);
    }

    /// <summary>dx, dweight, dbias of <see cref="Conv2dOp"/>; only the requested ones are computed.</summary>
    internal static Tensor?[] Conv2dBackwardOp(Tensor x, Tensor weight, bool hasBias, Tensor grad, ConvGeometry g, int groups, bool needX, bool needW, bool needB)
    {
        var s = ConvShape(x._shape, weight._shape, g, groups);
        using var xc = x.ContiguousInternal();
        using var wc = weight.ContiguousAs(x.DType);
        using var gc = grad.ContiguousAs(x.DType);
        return x.Backend.Conv2dBackward(xc, wc, hasBias, gc, s, needX, needW, needB);
    }

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
