using Kiln.Compiler.Shapes;
using Kiln.Gpu.Kernels;
using Kiln.Kernels;

namespace Kiln.Gpu;

/// <summary>
/// The launch geometry of a strided elementwise kernel: the CPU's loop plan (size-1 dims dropped, mergeable dims merged)
/// right-aligned into <see cref="Dims6"/> and one <see cref="Strides6"/> per operand.
/// </summary>
internal readonly struct GpuGeometry
{
    public readonly Dims6 Dims;
    public readonly Strides6[] Strides;
    public readonly int Count;

    GpuGeometry(Dims6 dims, Strides6[] strides, int count) { Dims = dims; Strides = strides; Count = count; }

    /// <summary>Plans <paramref name="shape"/> for operands with the given (already broadcast) strides.</summary>
    public static GpuGeometry Of(string op, int[] shape, params long[][] strides)
    {
        var plan = LoopPlan.Create(shape, strides);
        int rank = plan.Shape.Length;
        if (rank > Dims6.MaxRank)
            throw new KilnException(op, $"{op}: the CUDA kernels take up to {Dims6.MaxRank} dims after merging, this layout of shape {ShapeText.Format(shape)} keeps {rank}; make the operands contiguous first", KilnErrorKind.Device);
        if (plan.Numel > int.MaxValue)
            throw new KilnException(op, $"{op}: {plan.Numel} elements exceed one CUDA launch ({int.MaxValue}) for shape {ShapeText.Format(shape)}", KilnErrorKind.Device);
        var d = new long[Dims6.MaxRank];
        for (int i = 0; i < Dims6.MaxRank; i++) d[i] = 1;
        for (int i = 0; i < rank; i++) d[Dims6.MaxRank - rank + i] = plan.Shape[i];
        var dims = new Dims6 { D0 = d[0], D1 = d[1], D2 = d[2], D3 = d[3], D4 = d[4], D5 = d[5], Rank = rank };
        var result = new Strides6[strides.Length];
        for (int j = 0; j < strides.Length; j++)
        {
            var s = new long[Dims6.MaxRank];
            for (int i = 0; i < rank; i++) s[Dims6.MaxRank - rank + i] = plan.Strides[j][i];
            result[j] = new Strides6 { S0 = s[0], S1 = s[1], S2 = s[2], S3 = s[3], S4 = s[4], S5 = s[5] };
        }
        return new GpuGeometry(dims, result, (int)plan.Numel);
    }
}
