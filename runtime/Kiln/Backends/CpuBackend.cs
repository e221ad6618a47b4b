using System.Numerics;
using Kiln.Kernels;
using Kiln.Kernels.Elementwise;
using Kiln.Kernels.Reduce;
using Kiln.Optim;

namespace Kiln.Backends;

/// <summary>The CPU: strided SIMD loops over <see cref="LoopPlan"/>s and row kernels, on Kiln's thread pool.</summary>
internal sealed unsafe partial class CpuBackend : IBackend
{
    public static readonly CpuBackend Instance = new();

    public void Unary<TOp>(Tensor y, Tensor x, TOp op) where TOp : struct, IUnaryOp
    {
        var shape = y.ShapeArray;
        var plan = LoopPlan.Create(shape, y.StrideArray, LoopPlan.BroadcastStrides(x, shape));
        bool stream = StreamingStores.Worth(y);
        switch (y.DType)
        {
            case DType.Float32: StridedLoop.Run(plan, new UnaryLoop<float, TOp> { Y = y.Ptr<float>(), X = x.Ptr<float>(), Op = op, Stream = stream }); break;
            case DType.Float64: StridedLoop.Run(plan, new UnaryLoop<double, TOp> { Y = y.Ptr<double>(), X = x.Ptr<double>(), Op = op, Stream = stream }); break;
            case DType.Int64: StridedLoop.Run(plan, new UnaryLoop<long, TOp> { Y = y.Ptr<long>(), X = x.Ptr<long>(), Op = op, Stream = stream }); break;
            default: StridedLoop.Run(plan, new UnaryLoop<int, TOp> { Y = y.Ptr<int>(), X = x.Ptr<int>(), Op = op, Stream = stream }); break;
        }
    }

    public void Binary<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryOp
    {
        var shape = y.ShapeArray;
        var plan = LoopPlan.Create(shape, y.StrideArray, LoopPlan.BroadcastStrides(a, shape), LoopPlan.BroadcastStrides(b, shape));
        bool stream = StreamingStores.Worth(y);
        switch (y.DType)
        {
            case DType.Float32: StridedLoop.Run(plan, new BinaryLoop<float, TOp> { Y = y.Ptr<float>(), A = a.Ptr<float>(), B = b.Ptr<float>(), Op = op, Stream = stream }); break;
            case DType.Float64: StridedLoop.Run(plan, new BinaryLoop<double, TOp> { Y = y.Ptr<double>(), A = a.Ptr<double>(), B = b.Ptr<double>(), Op = op, Stream = stream }); break;
            case DType.Int64: StridedLoop.Run(plan, new BinaryLoop<long, TOp> { Y = y.Ptr<long>(), A = a.Ptr<long>(), B = b.Ptr<long>(), Op = op, Stream = stream }); break;
            default: StridedLoop.Run(plan, new BinaryLoop<int, TOp> { Y = y.Ptr<int>(), A = a.Ptr<int>(), B = b.Ptr<int>(), Op = op, Stream = stream }); break;
        }
    }

    public void Compare<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, ICompareOp
    {
        var shape = y.ShapeArray;
        var plan = LoopPlan.Create(shape, y.StrideArray, LoopPlan.BroadcastStrides(a, shape), LoopPlan.BroadcastStrides(b, shape));
        byte* py = y.Ptr<byte>();
        switch (a.DType)
        {
            case DType.Float32: StridedLoop.Run(plan, new CompareLoop<float, TOp> { Y = py, A = a.Ptr<float>(), B = b.Ptr<float>(), Op = op }); break;
            case DType.Float64: StridedLoop.Run(plan, new CompareLoop<double, TOp> { Y = py, A = a.Ptr<double>(), B = b.Ptr<double>(), Op = op }); break;
            case DType.Int64: StridedLoop.Run(plan, new CompareLoop<long, TOp> { Y = py, A = a.Ptr<long>(), B = b.Ptr<long>(), Op = op }); break;
            default: StridedLoop.Run(plan, new CompareLoop<int, TOp> { Y = py, A = a.Ptr<int>(), B = b.Ptr<int>(), Op = op }); break;
        }
    }

    public void Where(Tensor y, Tensor cond, Tensor a, Tensor b)
    {
        var shape = y.ShapeArray;
        var plan = LoopPlan.Create(shape, y.StrideArray, LoopPlan.BroadcastStrides(cond, shape),
            LoopPlan.BroadcastStrides(a, shape), LoopPlan.BroadcastStrides(b, shape));
        byte* c = cond.Ptr<byte>();
        switch (y.DType.SizeOf())
        {
            case 1: StridedLoop.Run(plan, new WhereLoop<byte> { Y = y.Ptr<byte>(), C = c, A = a.Ptr<byte>(), B = b.Ptr<byte>() }); break;
            case 2: StridedLoop.Run(plan, new WhereLoop<ushort> { Y = y.Ptr<ushort>(), C = c, A = a.Ptr<ushort>(), B = b.Ptr<ushort>() }); break;
            case 4: StridedLoop.Run(plan, new WhereLoop<uint> { Y = y.Ptr<uint>(), C = c, A = a.Ptr<uint>(), B = b.Ptr<uint>() }); break;
            default: StridedLoop.Run(plan, new WhereLoop<ulong> { Y = y.Ptr<ulong>(), C = c, A = a.Ptr<ulong>(), B = b.Ptr<ulong>() }); break;
        }
    }

    public void RowSum(Tensor x, Tensor y, long rows, long len)
    {
        if (x.DType == DType.Float32 && rows == 1 && len >= 2 * StridedLoop.Grain)
        {
            // One long row: partial sums per thread, then a double total.
            float* px = x.Ptr<float>();
            var parts = new double[Threads.Count];
            int chunks = parts.Length;
            Threads.For(chunks, 1, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (s, e) => { for (long c = s; c < e; c++) parts[c] = RowKernels.Sum(px + len * c / chunks, len * (c + 1) / chunks - len * c / chunks); });
            double total = 0;
            foreach (var v in parts) total += v;
            *y.Ptr<float>() = (float)total;
        }
        else RowsTo(x, y, rows, len, x.DType, static (t, p, n) => RowKernels.Sum<float>(p, n), static (t, p, n) => RowKernels.Sum(p, n), static (t, p, n) => RowKernels.Sum(p, n));
    }

    public void RowProd(Tensor x, Tensor y, long rows, long len) =>
        RowsTo(x, y, rows, len, x.DType, static (t, p, n) => RowKernels.Prod(p, n), static (t, p, n) => RowKernels.Prod(p, n), static (t, p, n) => RowKernels.Prod(p, n));

    public void RowExtreme(Tensor x, Tensor values, Tensor indices, long rows, long len, bool max)
    {
        long* pi = indices.Ptr<long>();
        switch (x.DType)
        {
            case DType.Float32: ExtremeRows(x.Ptr<float>(), values.Ptr<float>(), pi, rows, len, max); break;
            case DType.Float64: ExtremeRows(x.Ptr<double>(), values.Ptr<double>(), pi, rows, len, max); break;
            case DType.Int64: ExtremeRows(x.Ptr<long>(), values.Ptr<long>(), pi, rows, len, max); break;
            default: ExtremeRows(x.Ptr<int>(), values.Ptr<int>(), pi, rows, len, max); break;
        }
    }

    public void RowSoftmax(Tensor x, Tensor y, long rows, int len, bool log, float scale)
    {
        if (x.DType == DType.Float32) { float* px = x.Ptr<float>(), py = y.Ptr<float>(); Tensor.ForRows(rows, len, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (r) => RowKernels.Softmax(px + r * len, py + r * len, len, log, scale)); }
        else { double* px = x.Ptr<double>(), py = y.Ptr<double>(); Tensor.ForRows(rows, len, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (r) => RowKernels.Softmax(px + r * len, py + r * len, len, log, scale)); }
    }

    public void RowCumSum(Tensor x, long rows, long len)
    {
        switch (x.DType)
        {
            case DType.Float32: { float* p = x.Ptr<float>(); Tensor.ForRows(rows, len, r => { double acc = 0; float* row = p + r * len; for (int i = 0; i < len; i++) { acc += row[i]; row[i] = (float)acc; } }); break; }
            case DType.Float64: { double* p = x.Ptr<double>(); Tensor.ForRows(rows, len, r => { double acc = 0; double* row = p + r * len; for (int i = 0; i < len; i++) { acc += row[i]; row[i] = acc; } }); break; }
            default: { long* p = x.Ptr<long>(); Tensor.ForRows(rows, len, r => { long acc = 0; long* row = p + r * len; for (int i = 0; i < len; i++) { acc += row[i]; row[i] = acc; } }); break; }
        }
    }

    delegate T RowFn<T>(object? state, T* row, long n) where T : unmanaged;

    /// <summary>Applies a typed row function to each row of x (float, double or long) into y of the same type.</summary>
    static void RowsTo(Tensor x, Tensor y, long rows, long len, DType ct, RowFn<float> f, RowFn<double> d, RowFn<long> l, object? state = null)
    {
        switch (ct)
        {
            case DType.Float32: { float* px = x.Ptr<float>(), py = y.Ptr<float>(); Tensor.ForRows(rows, len, r => py[r] = f(state, px + r * len, len)); break; }
            case DType.Float64: { double* px = x.Ptr<double>(), py = y.Ptr<double>(); Tensor.ForRows(rows, len, r => py[r] = d(state, px + r * len, len)); break; }
            default: { long* px = x.Ptr<long>(), py = y.Ptr<long>(); Tensor.ForRows(rows, len, r => py[r] = l(state, px + r * len, len)); break; }
        }
    }

    static void ExtremeRows<T>(T* x, T* v, long* idx, long rows, long len, bool max) where T : unmanaged, INumber<T> =>
        Tensor.ForRows(rows, len, r => { v[r] = RowKernels.Extreme(x + r * len, len, max, out long i); idx[r] = i; });

    public void MaxPool2d(Tensor x, Tensor y, Tensor indices, Kiln.Compiler.Shapes.ConvGeometry g)
    {
        int[] s = x.ShapeArray;
        long planes = (long)s[0] * s[1];
        int oh = y.ShapeArray[2], ow = y.ShapeArray[3];
        if (x.DType == DType.Float32) Kernels.Pooling.MaxPoolKernel.Forward(x.Ptr<float>(), y.Ptr<float>(), indices.Ptr<long>(), planes, s[2], s[3], oh, ow, g);
        else Kernels.Pooling.MaxPoolKernel.Forward(x.Ptr<double>(), y.Ptr<double>(), indices.Ptr<long>(), planes, s[2], s[3], oh, ow, g);
    }

    public Tensor MaxPool2dBackward(Tensor grad, Tensor indices, int[] inputShape)
    {
        long planes = (long)inputShape[0] * inputShape[1];
        int inPlane = inputShape[2] * inputShape[3], outPlane = grad.ShapeArray[2] * grad.ShapeArray[3];
        var dx = Tensor.Allocate((int[])inputShape.Clone(), grad.DType);
        if (grad.DType == DType.Float32) Kernels.Pooling.MaxPoolKernel.Backward(grad.Ptr<float>(), indices.Ptr<long>(), dx.Ptr<float>(), planes, inPlane, outPlane);
        else Kernels.Pooling.MaxPoolKernel.Backward(grad.Ptr<double>(), indices.Ptr<long>(), dx.Ptr<double>(), planes, inPlane, outPlane);
        return dx;
    }

    public void Sgd(Tensor p, Tensor grad, Tensor? buf, SgdStep s)
    {
        if (p.DType == DType.Float64)
            FusedUpdates.Sgd(p.Numel, p.Ptr<double>(), grad.Ptr<double>(), buf is null ? null : buf.Ptr<double>(), s.FirstStep, s.Lr, s.WeightDecay, s.Momentum, s.Dampening, s.Nesterov, s.Maximize);
        else
            FusedUpdates.Sgd(p.Numel, p.Ptr<float>(), grad.Ptr<float>(), buf is null ? null : buf.Ptr<float>(), s.FirstStep, (float)s.Lr, (float)s.WeightDecay, (float)s.Momentum, (float)s.Dampening, s.Nesterov, s.Maximize);
    }

    public void Adam(Tensor p, Tensor grad, Tensor m, Tensor v, Tensor? vmax, AdamStep s)
    {
        if (p.DType == DType.Float64)
            FusedUpdates.Adam(p.Numel, p.Ptr<double>(), grad.Ptr<double>(), m.Ptr<double>(), v.Ptr<double>(), vmax is null ? null : vmax.Ptr<double>(),
                s.Lr, s.Beta1, s.Beta2, s.Eps, s.WeightDecay, s.Decoupled, s.Maximize, s.StepSize, s.Bc2Sqrt);
        else
            FusedUpdates.Adam(p.Numel, p.Ptr<float>(), grad.Ptr<float>(), m.Ptr<float>(), v.Ptr<float>(), vmax is null ? null : vmax.Ptr<float>(),
                (float)s.Lr, (float)s.Beta1, (float)s.Beta2, (float)s.Eps, (float)s.WeightDecay, s.Decoupled, s.Maximize, (float)s.StepSize, (float)s.Bc2Sqrt);
    }

    public void RmsProp(Tensor p, Tensor grad, Tensor sq, Tensor? gradAvg, Tensor? buf, RmsPropStep s)
    {
        if (p.DType == DType.Float64)
            FusedUpdates.RmsProp(p.Numel, p.Ptr<double>(), grad.Ptr<double>(), sq.Ptr<double>(), gradAvg is null ? null : gradAvg.Ptr<double>(), buf is null ? null : buf.Ptr<double>(),
                s.Lr, s.Alpha, s.Eps, s.WeightDecay, s.Momentum, s.Maximize);
        else
            FusedUpdates.RmsProp(p.Numel, p.Ptr<float>(), grad.Ptr<float>(), sq.Ptr<float>(), gradAvg is null ? null : gradAvg.Ptr<float>(), buf is null ? null : buf.Ptr<float>(),
                (float)s.Lr, (float)s.Alpha, (float)s.Eps, (float)s.WeightDecay, (float)s.Momentum, s.Maximize);
    }

    public void Adagrad(Tensor p, Tensor grad, Tensor sum, AdagradStep s)
    {
        if (p.DType == DType.Float64)
            FusedUpdates.Adagrad(p.Numel, p.Ptr<double>(), grad.Ptr<double>(), sum.Ptr<double>(), s.Lr, s.Eps, s.WeightDecay, s.Maximize);
        else
            FusedUpdates.Adagrad(p.Numel, p.Ptr<float>(), grad.Ptr<float>(), sum.Ptr<float>(), (float)s.Lr, (float)s.Eps, (float)s.WeightDecay, s.Maximize);
    }
}
