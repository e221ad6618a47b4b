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
        var result = Allocate(shape, x.DType);
        if (x.DType == DType.Float64)
            Im2Col.Unfold(src.Ptr<double>(), result.Ptr<double>(), x._shape[0], x._shape[1], x._shape[2], x._shape[3], g, oh, ow);
        else
            Im2Col.Unfold(src.Ptr<float>(), result.Ptr<float>(), x._shape[0], x._shape[1], x._shape[2], x._shape[3], g, oh, ow);
        return Record(op, result, new OpArgs { Sizes = g.ToArgs() }, x);
    }

    /// <summary>col2im (<c>F.fold</c>): sums columns [N, C·kh·kw, L] back into a [N, C, H, W] tensor.</summary>
    internal static Tensor Col2ImOp(Tensor cols, int h, int w, ConvGeometry g)
    {
        const string op = "col2im";
        RequireFloat(op, cols);
        var shape = ConvGeometry.Col2ImShape(op, cols._shape, h, w, g);
        var (oh, ow) = g.Output(op, h, w);
        using var src = cols.ContiguousInternal();
        var result = Allocate(shape, cols.DType);
        if (cols.DType == DType.Float64)
            Im2Col.Fold(src.Ptr<double>(), result.Ptr<double>(), shape[0], shape[1], h, w, g, oh, ow);
        else
            Im2Col.Fold(src.Ptr<float>(), result.Ptr<float>(), shape[0], shape[1], h, w, g, oh, ow);
        var args = new int[10];
        args[0] = h; args[1] = w;
        g.ToArgs().CopyTo(args, 2);
        return Record(op, result, new OpArgs { Sizes = args }, cols);
    }

    static void RequireFloat(string op, Tensor x)
    {
        if (x.DType != DType.Float32 && x.DType != DType.Float64)
            throw new KilnException(op, $"{op}: expected a float32 or float64 tensor, got {x.DType}");
    }

    /// <summary>A contiguous tensor with the same values that records nothing (a new reference to this one when already contiguous).</summary>
    internal Tensor ContiguousInternal()
    {
        if (IsContiguous) return Alias();
        using (GradMode.Set(false)) return Kernels.CopyKernel.Convert(this, DType);
    }
}
