using Kiln.Compiler.Shapes;
using Kiln.Kernels.Conv;

namespace Kiln.Backends;

// Convolution on the CPU: im2col/col2im loops and the implicit-GEMM convolution kernel, float32 or float64.
internal sealed unsafe partial class CpuBackend
{
    public void Im2Col(Tensor x, Tensor cols, ConvGeometry g, int oh, int ow)
    {
        var s = x.ShapeArray;
        if (x.DType == DType.Float64) Kernels.Conv.Im2Col.Unfold(x.Ptr<double>(), cols.Ptr<double>(), s[0], s[1], s[2], s[3], g, oh, ow);
        else Kernels.Conv.Im2Col.Unfold(x.Ptr<float>(), cols.Ptr<float>(), s[0], s[1], s[2], s[3], g, oh, ow);
    }

    public void Col2Im(Tensor cols, Tensor image, ConvGeometry g, int oh, int ow)
    {
        var s = image.ShapeArray;
        if (cols.DType == DType.Float64) Kernels.Conv.Im2Col.Fold(cols.Ptr<double>(), image.Ptr<double>(), s[0], s[1], s[2], s[3], g, oh, ow);
        else Kernels.Conv.Im2Col.Fold(cols.Ptr<float>(), image.Ptr<float>(), s[0], s[1], s[2], s[3], g, oh, ow);
    }

    public Tensor Conv2d(Tensor x, Tensor w, Tensor? b, ConvKernel.Shape s)
    {
        var y = Tensor.Allocate([s.N, s.O, s.OH, s.OW], x.DType);
        if (x.DType == DType.Float32) ConvKernel.Forward(s, x.Ptr<float>(), w.Ptr<float>(), b is null ? null : b.Ptr<float>(), y.Ptr<float>());
        else ConvKernel.Forward(s, x.Ptr<double>(), w.Ptr<double>(), b is null ? null : b.Ptr<double>(), y.Ptr<double>());
        return y;
    }

    public Tensor?[] Conv2dBackward(Tensor x, Tensor w, bool hasBias, Tensor grad, ConvKernel.Shape s, bool needX, bool needW, bool needB)
    {
        var dx = needX ? Tensor.Allocate((int[])x.ShapeArray.Clone(), x.DType) : null;
        var dw = needW ? Tensor.Allocate((int[])w.ShapeArray.Clone(), x.DType) : null;
        var db = needB && hasBias ? Tensor.Allocate([s.O], x.DType) : null;
        if (x.DType == DType.Float32)
            ConvKernel.Backward(s, x.Ptr<float>(), w.Ptr<float>(), grad.Ptr<float>(), dx is null ? null : dx.Ptr<float>(), dw is null ? null : dw.Ptr<float>(), db is null ? null : db.Ptr<float>());
        else
            ConvKernel.Backward(s, x.Ptr<double>(), w.Ptr<double>(), grad.Ptr<double>(), dx is null ? null : dx.Ptr<double>(), dw is null ? null : dw.Ptr<double>(), db is null ? null : db.Ptr<double>());
        return [dx, dw, db];
    }
}
