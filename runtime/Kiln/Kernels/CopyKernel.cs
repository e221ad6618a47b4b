using System;
using System.Numerics;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels;

/// <summary>Strided copy with broadcasting and dtype conversion: the one place elements change layout or type.</summary>
internal static unsafe class CopyKernel
{
    /// <summary>dst[...] = src[...], src broadcast to dst's shape, converting dtypes.</summary>
    public static void Copy(Tensor dst, Tensor src)
    {
        var shape = dst.ShapeArray;
        var b = ShapeRules.Broadcast("copy_", src.ShapeArray, shape);
        if (!ShapeRules.SameShape(b, shape))
            throw new KilnException("copy_", $"copy_: source of shape {ShapeText.Format(src.ShapeArray)} cannot be broadcast to destination of shape {ShapeText.Format(shape)}", KilnErrorKind.Shape);
        if (dst.Numel == 0) return;
        if (dst.IsCuda || src.IsCuda) { Gpu.GpuOps.Copy(dst, src); return; }
        if (src.DType == DType.BFloat16 && dst.DType != DType.BFloat16 && dst.DType != DType.Float32)
        {
            using var f = Convert(src, DType.Float32);
            Copy(dst, f);
            return;
        }
        if (dst.DType == DType.BFloat16 && src.DType != DType.BFloat16 && src.DType != DType.Float32)
        {
            using var f = Convert(src, DType.Float32);
            Copy(dst, f);
            return;
        }
        var plan = LoopPlan.Create(shape, dst.StrideArray, LoopPlan.BroadcastStrides(src, shape));
        if (src.DType == dst.DType && dst.DType.SizeOf() == 4 && TransposedCopy.Applies(plan))
        {
            TransposedCopy.Run(plan, (float*)dst.Ptr<uint>(), (float*)src.Ptr<uint>());
            return;
        }
        if (src.DType == dst.DType)
        {
            switch (dst.DType.SizeOf())
            {
                case 1: StridedLoop.Run(plan, new CopyLoop<byte> { Y = dst.Ptr<byte>(), X = src.Ptr<byte>() }); break;
                case 2: StridedLoop.Run(plan, new CopyLoop<ushort> { Y = dst.Ptr<ushort>(), X = src.Ptr<ushort>() }); break;
                case 4: StridedLoop.Run(plan, new CopyLoop<uint> { Y = dst.Ptr<uint>(), X = src.Ptr<uint>() }); break;
                default: StridedLoop.Run(plan, new CopyLoop<ulong> { Y = dst.Ptr<ulong>(), X = src.Ptr<ulong>() }); break;
            }
            return;
        }
        if (dst.DType == DType.BFloat16)
        {
            StridedLoop.Run(plan, new ToBFloat16Loop { Y = dst.Ptr<BFloat16>(), X = src.Ptr<float>() });
            return;
        }
        if (src.DType == DType.BFloat16)
        {
            StridedLoop.Run(plan, new FromBFloat16Loop { Y = dst.Ptr<float>(), X = src.Ptr<BFloat16>() });
            return;
        }
        switch (src.DType)
        {
            case DType.Float32: ConvertFrom<float>(plan, dst, src); break;
            case DType.Float64: ConvertFrom<double>(plan, dst, src); break;
            case DType.Float16: ConvertFrom<Half>(plan, dst, src); break;
            case DType.Int64: ConvertFrom<long>(plan, dst, src); break;
            case DType.Int32: ConvertFrom<int>(plan, dst, src); break;
            case DType.Int8: ConvertFrom<sbyte>(plan, dst, src); break;
            default: ConvertFrom<byte>(plan, dst, src); break; // UInt8 and Bool (stored as 0/1)
        }
    }

    /// <summary>A new contiguous tensor with src's values as <paramref name="dtype"/>.</summary>
    public static Tensor Convert(Tensor src, DType dtype)
    {
        var r = Tensor.Allocate((int[])src.ShapeArray.Clone(), dtype, false, src.Device);
        Copy(r, src);
        return r;
    }

    static void ConvertFrom<TFrom>(LoopPlan plan, Tensor dst, Tensor src) where TFrom : unmanaged, INumberBase<TFrom>
    {
        TFrom* x = src.Ptr<TFrom>();
        switch (dst.DType)
        {
            case DType.Float32: StridedLoop.Run(plan, new ConvertLoop<TFrom, float> { Y = dst.Ptr<float>(), X = x }); break;
            case DType.Float64: StridedLoop.Run(plan, new ConvertLoop<TFrom, double> { Y = dst.Ptr<double>(), X = x }); break;
            case DType.Float16: StridedLoop.Run(plan, new ConvertLoop<TFrom, Half> { Y = dst.Ptr<Half>(), X = x }); break;
            case DType.Int64: StridedLoop.Run(plan, new ConvertLoop<TFrom, long> { Y = dst.Ptr<long>(), X = x }); break;
            case DType.Int32: StridedLoop.Run(plan, new ConvertLoop<TFrom, int> { Y = dst.Ptr<int>(), X = x }); break;
            case DType.Int8: StridedLoop.Run(plan, new ConvertLoop<TFrom, sbyte> { Y = dst.Ptr<sbyte>(), X = x }); break;
            case DType.UInt8: StridedLoop.Run(plan, new ConvertLoop<TFrom, byte> { Y = dst.Ptr<byte>(), X = x }); break;
            case DType.Bool: StridedLoop.Run(plan, new ToBoolLoop<TFrom> { Y = dst.Ptr<byte>(), X = x }); break;
            default: throw new InvalidOperationException($"no conversion to {dst.DType}");
        }
    }
}
