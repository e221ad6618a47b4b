using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

/// <summary>
/// Both gradients of a two-input op as one kernel over its operands a, b, its output y and the output's gradient g
/// (generated from the op table's derivatives: <see cref="BinaryGradients"/>). Operands a gradient does not read are
/// never loaded from their own tensors.
/// </summary>
internal interface IFloatGradPair
{
    void Scalar(double a, double b, double y, double g, out double ga, out double gb);
    bool HasVector { get; }
    void Vector(Vector256<float> a, Vector256<float> b, Vector256<float> y, Vector256<float> g, out Vector256<float> ga, out Vector256<float> gb);
    bool HasVector512 { get; }
    void Vector512(Vector512<float> a, Vector512<float> b, Vector512<float> y, Vector512<float> g, out Vector512<float> ga, out Vector512<float> gb);
}

/// <summary>Runs an <see cref="IFloatGradPair"/> over float32 CPU tensors of one shape in one parallel pass.</summary>
internal static unsafe class GradPairLoop
{
    /// <summary>
    /// The gradients of a and b (null where not <paramref name="needA"/> / <paramref name="needB"/>) from the operands the
    /// rules read (the others null), all of <paramref name="g"/>'s shape, float32 on the CPU (the caller checked).
    /// </summary>
    public static Tensor?[] Run<TF>(Tensor? a, Tensor? b, Tensor? y, Tensor g, bool needA, bool needB) where TF : struct, IFloatGradPair
    {
        using var gc = g.Contiguous();
        using var ac = a?.Contiguous();
        using var bc = b?.Contiguous();
        using var yc = y?.Contiguous();
        var shape = g.ShapeArray;
        var ga = needA ? Tensor.Empty((int[])shape.Clone(), DType.Float32) : null;
        var gb = needB ? Tensor.Empty((int[])shape.Clone(), DType.Float32) : null;
        float* gp = gc.Ptr<float>();
        // An operand the rules do not read is bound to g: its lanes are never used.
        float* ap = ac is null ? gp : ac.Ptr<float>(), bp = bc is null ? gp : bc.Ptr<float>(), yp = yc is null ? gp : yc.Ptr<float>();
        float* gap = ga is null ? null : ga.Ptr<float>(), gbp = gb is null ? null : gb.Ptr<float>();
        // Outputs far bigger than the caches stream to memory (no read for ownership), as the elementwise loops do.
        if (StreamingStores.Worth(ga ?? gb ?? g))
            Threads.For(g.Numel, 16384, new Job<TF, NonTemporalStore> { A = ap, B = bp, Y = yp, G = gp, GA = gap, GB = gbp }.Run);
        else
            Threads.For(g.Numel, 16384, new Job<TF, CachedStore> { A = ap, B = bp, Y = yp, G = gp, GA = gap, GB = gbp }.Run);
        return [ga, gb];
    }

    sealed class Job<TF, TStore> where TF : struct, IFloatGradPair where TStore : IVectorStore
    {
        public float* A, B, Y, G, GA, GB;

        // A hot loop from its first call (a training step runs it for every pointwise op): compiled optimised at once.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(long start, long end)
        {
            var f = default(TF);
            float* a = A, b = B, y = Y, g = G, ga = GA, gb = GB;
            // Both outputs are fresh 64-byte-aligned blocks: one head aligns the stores of each.
            long i = start + TStore.Head(ga != null ? ga + start : gb + start, (int)Math.Min(end - start, 64));
            for (long h = start; h < i; h++) ScalarAt(f, h);
            if (Vector512.IsHardwareAccelerated && f.HasVector512)
                for (; i + 16 <= end; i += 16)
                {
                    f.Vector512(Vector512.Load(a + i), Vector512.Load(b + i), Vector512.Load(y + i), Vector512.Load(g + i), out var da, out var db);
                    if (ga != null) TStore.Store(da, ga + i);
                    if (gb != null) TStore.Store(db, gb + i);
                }
            else if (Vector256.IsHardwareAccelerated && f.HasVector)
                for (; i + 8 <= end; i += 8)
                {
                    f.Vector(Vector256.Load(a + i), Vector256.Load(b + i), Vector256.Load(y + i), Vector256.Load(g + i), out var da, out var db);
                    if (ga != null) TStore.Store(da, ga + i);
                    if (gb != null) TStore.Store(db, gb + i);
                }
            TStore.Finish();
            for (; i < end; i++) ScalarAt(f, i);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void ScalarAt(TF f, long i)
        {
            f.Scalar(A[i], B[i], Y[i], G[i], out double da, out double db);
            if (GA != null) GA[i] = (float)da;
            if (GB != null) GB[i] = (float)db;
        }
    }
}
