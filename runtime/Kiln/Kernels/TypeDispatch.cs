using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels;

/// <summary>Maps storage dtypes to the types kernels compute in (the CPU's typed loops are in <see cref="Backends.CpuBackend"/>).</summary>
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
}
