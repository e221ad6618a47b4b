using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels;

/// <summary>Maps storage dtypes to the types kernels compute in, and runs typed loops.</summary>
internal static unsafe class TypeDispatch
{
    /// <summary>Half-precision floats compute in float32; small integers and bool in int32.</summary>
    public static DType ComputeType(DType t) => t switch
    {
        DType.Float32 or DType.Float16 or DType.BFloat16 => DType.Float32,
        DType.Float64 => DType.Float64,
        DType.Int64 => DType.Int64,
        _ => DType.Int32,
    };

    public static void Unary<TOp>(Tensor y, Tensor x, TOp op) where TOp : struct, IUnaryOp
    {
        if (y.IsCuda) { Gpu.GpuOps.Unary(y, x, op); return; }
        var shape = y.ShapeArray;
        var plan = LoopPlan.Create(shape, y.StrideArray, LoopPlan.BroadcastStrides(x, shape));
        switch (y.DType)
        {
            case DType.Float32: StridedLoop.Run(plan, new UnaryLoop<float, TOp> { Y = y.Ptr<float>(), X = x.Ptr<float>(), Op = op }); break;
            case DType.Float64: StridedLoop.Run(plan, new UnaryLoop<double, TOp> { Y = y.Ptr<double>(), X = x.Ptr<double>(), Op = op }); break;
            case DType.Int64: StridedLoop.Run(plan, new UnaryLoop<long, TOp> { Y = y.Ptr<long>(), X = x.Ptr<long>(), Op = op }); break;
            default: StridedLoop.Run(plan, new UnaryLoop<int, TOp> { Y = y.Ptr<int>(), X = x.Ptr<int>(), Op = op }); break;
        }
    }

    public static void Binary<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryOp
    {
        if (y.IsCuda) { Gpu.GpuOps.Binary(y, a, b, op); return; }
        var shape = y.ShapeArray;
        var plan = LoopPlan.Create(shape, y.StrideArray, LoopPlan.BroadcastStrides(a, shape), LoopPlan.BroadcastStrides(b, shape));
        switch (y.DType)
        {
            case DType.Float32: StridedLoop.Run(plan, new BinaryLoop<float, TOp> { Y = y.Ptr<float>(), A = a.Ptr<float>(), B = b.Ptr<float>(), Op = op }); break;
            case DType.Float64: StridedLoop.Run(plan, new BinaryLoop<double, TOp> { Y = y.Ptr<double>(), A = a.Ptr<double>(), B = b.Ptr<double>(), Op = op }); break;
            case DType.Int64: StridedLoop.Run(plan, new BinaryLoop<long, TOp> { Y = y.Ptr<long>(), A = a.Ptr<long>(), B = b.Ptr<long>(), Op = op }); break;
            default: StridedLoop.Run(plan, new BinaryLoop<int, TOp> { Y = y.Ptr<int>(), A = a.Ptr<int>(), B = b.Ptr<int>(), Op = op }); break;
        }
    }

    public static void Compare<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, ICompareOp
    {
        if (y.IsCuda) { Gpu.GpuOps.Compare(y, a, b, op); return; }
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

    public static void Where(Tensor y, Tensor cond, Tensor a, Tensor b)
    {
        if (y.IsCuda) { Gpu.GpuOps.Where(y, cond, a, b); return; }
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
}
