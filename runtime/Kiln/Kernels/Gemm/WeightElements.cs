using System;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels.Gemm;

/// <summary>
/// How a weight-streaming kernel reads its weight's elements, so one loop serves every storage type: float32 as
/// stored, or bfloat16 widened to float32 in registers (half the bytes read; never a converted copy of the weight).
/// </summary>
internal interface IWeightElements
{
    /// <summary>Bytes per element.</summary>
    static abstract int Size { get; }

    /// <summary>Lanes of elements p.. of a weight row, as float32.</summary>
    static abstract unsafe TL Load<TL>(byte* row, long p) where TL : struct, IFloatLanes<TL>;

    /// <summary>Element p of a weight row, as float32.</summary>
    static abstract unsafe float At(byte* row, long p);
}

/// <summary>float32 weights.</summary>
internal readonly struct Float32Elements : IWeightElements
{
    public static int Size => sizeof(float);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe TL Load<TL>(byte* row, long p) where TL : struct, IFloatLanes<TL> => TL.Load((float*)row + p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float At(byte* row, long p) => ((float*)row)[p];
}

/// <summary>bfloat16 weights: each value is the high 16 bits of a float32.</summary>
internal readonly struct BFloat16Elements : IWeightElements
{
    public static int Size => sizeof(ushort);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe TL Load<TL>(byte* row, long p) where TL : struct, IFloatLanes<TL> => TL.LoadBf16((ushort*)row + p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float At(byte* row, long p) => BitConverter.Int32BitsToSingle(((ushort*)row)[p] << 16);
}
