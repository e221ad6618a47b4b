using System;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels;
using Kiln.Kernels.Gemm;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// Matrix product with <c>torch.matmul</c>'s rules: 1-D·1-D is a dot product, a 1-D operand gains and
    /// then loses a dim, and batch dims broadcast.
    /// </summary>
    public Tensor Matmul(Tensor other)
    {
        if (Autocast.Lower(this, other) is { } low) return Autocast.RunLowered(t => t[0]!.Matmul(t[1]!), low, this, other);
        var outShape = ShapeRules.Matmul(_shape, other._shape);
        CheckMatmulOperands("matmul", this, other);
        Tensor result;
        using (GradMode.Set(false)) // the views below are the kernel's business, not the graph's
        {
            using var a = Dim == 1 ? Unsqueeze(0) : Alias();
            using var b = other.Dim == 1 ? other.Unsqueeze(1) : other.Alias();
            var batch = ShapeRules.Broadcast("matmul", a._shape[..^2], b._shape[..^2]);
            int n = a._shape[^2], k = a._shape[^1], m = b._shape[^1];
            using var ae = a.Expand([.. batch, n, k]);
            using var be = b.Expand([.. batch, k, m]);
            result = BatchedGemm(ae, be, batch, 1, 0, null).ReshapeOwned(outShape);
        }
        return Record("matmul", result, null, this, other);
    }

    /// <summary>Batched matrix product of two 3-D tensors with equal batch size (<c>bmm</c>).</summary>
    public Tensor Bmm(Tensor other)
    {
        if (Autocast.Lower(this, other) is { } low) return Autocast.RunLowered(t => t[0]!.Bmm(t[1]!), low, this, other);
        var shape = ShapeRules.Bmm(_shape, other._shape);
        CheckMatmulOperands("bmm", this, other);
        return Record("bmm", BatchedGemm(this, other, new[] { shape[0] }, 1, 0, null), null, this, other);
    }

    /// <summary>Outer product of two vectors (<c>outer</c>).</summary>
    public Tensor Outer(Tensor other)
    {
        if (Dim != 1 || other.Dim != 1)
            throw new KilnException("outer", $"outer: expected 1-D vectors, got {ShapeText.Format(_shape)} and {ShapeText.Format(other._shape)}", KilnErrorKind.Shape);
        using var col = Unsqueeze(1);
        using var row = other.Unsqueeze(0);
        return col.Mul(row);
    }

    /// <summary>beta·input + alpha·(m1 @ m2) for 2-D m1, m2, input broadcast (<c>addmm</c>).</summary>
    public static Tensor Addmm(Tensor input, Tensor m1, Tensor m2, double beta = 1, double alpha = 1)
    {
        if (Autocast.Lower(input, m1, m2) is { } low) return Autocast.RunLowered(t => Addmm(t[0]!, t[1]!, t[2]!, beta, alpha), low, input, m1, m2);
        if (m1.Dim != 2 || m2.Dim != 2)
            throw new KilnException("addmm", $"addmm: expected 2-D matrices, got {ShapeText.Format(m1._shape)} and {ShapeText.Format(m2._shape)}", KilnErrorKind.Shape);
        var shape = ShapeRules.Matmul(m1._shape, m2._shape);
        CheckMatmulOperands("addmm", m1, m2);
        var b = ShapeRules.Broadcast("addmm", input._shape, shape);
        if (!ShapeRules.SameShape(b, shape))
            throw new KilnException("addmm", $"addmm: input of shape {ShapeText.Format(input._shape)} cannot be broadcast to the product's shape {ShapeText.Format(shape)}", KilnErrorKind.Shape);
        Tensor r;
        using (GradMode.Set(false))
        {
            using var a = m1.Unsqueeze(0);
            using var b2 = m2.Unsqueeze(0);
            r = BatchedGemm(a, b2, new[] { 1 }, alpha, beta, input).ReshapeOwned(shape);
        }
        return Record("addmm", r, new AddmmArgs(beta, alpha), input, m1, m2);
    }

    static void CheckMatmulOperands(string op, Tensor a, Tensor b)
    {
        CheckSameDevice(op, a, b);
        if (a.DType != b.DType)
            throw new KilnException(op, $"{op}: expected both operands to have the same dtype, but got {a.DType.Name()} != {b.DType.Name()}", KilnErrorKind.DType);
        if (a.DType == DType.Bool)
            throw new KilnException(op, $"{op}: not implemented for bool tensors", KilnErrorKind.Unsupported);
    }

    /// <summary>Reshapes a freshly made contiguous tensor, giving up this reference.</summary>
    Tensor ReshapeOwned(int[] shape)
    {
        if (ShapeRules.SameShape(shape, _shape)) return this;
        var r = AsStrided(shape, ContiguousStrides(shape), _offset);
        Dispose();
        return r;
    }

    /// <summary>
    /// A CUDA product in the operands' own type with float32 accumulation: cuBLASLt (float32, float16, bfloat16) where it
    /// loads, else Kiln's tensor-core kernel for float16/bfloat16 on a real GPU; null otherwise (the caller runs the float32
    /// tiled kernel on converted operands).
    /// </summary>
    static Tensor? DeviceGemm(Tensor a, Tensor b, int[] batch, int n, int m, int k, double alpha, double beta, Tensor? bias)
    {
        bool library = Gpu.CublasLt.IsAvailable, tensorCores = Gpu.GpuOps.HasTensorCores(a) && (a.DType == DType.Float16 || a.DType == DType.BFloat16);
        if (!library && !tensorCores || a.DType != b.DType) return null;
        int r = batch.Length;
        long count = ShapeRules.Numel(batch);
        long[] cs = new long[r];
        for (int i = r - 1, acc = 1; i >= 0; acc *= batch[i], i--) cs[i] = (long)acc * n * m;
        var plan = LoopPlan.Create(batch, a._strides[..r], b._strides[..r], cs);
        if (plan.Shape.Length > 1 || count > int.MaxValue) return null;
        long sa = count > 1 ? plan.Strides[0][0] : 0, sb = count > 1 ? plan.Strides[1][0] : 0;
        var result = Allocate([.. batch, n, m], a.DType, false, a.Device);
        if (bias is not null && beta != 0)
        {
            using var bt = bias.ToInternal(a.DType);
            CopyKernel.Copy(result, bt);
        }
        else beta = 0;
        if (library && Gpu.CublasLt.TryGemm(a, a._strides[r], a._strides[r + 1], sa, b, b._strides[r], b._strides[r + 1], sb, result, (int)count, n, m, k, (float)alpha, (float)beta))
            return result;
        if (tensorCores && count <= 65535
            && Gpu.GpuOps.TensorCoreGemm(a, a._strides[r], a._strides[r + 1], sa, b, b._strides[r], b._strides[r + 1], sb, result, (int)count, n, m, k, alpha, beta))
            return result;
        result.Dispose();
        return null;
    }

    /// <summary>The CUDA product: batch dims merged into one stride per operand, or made contiguous where they do not merge.</summary>
    static void GpuBatchedGemm(Tensor a, Tensor b, Tensor c, int[] batch, int n, int m, int k, double alpha, double beta)
    {
        int r = batch.Length;
        long count = ShapeRules.Numel(batch);
        if (count > 65535)
            throw new KilnException("matmul", $"matmul: the CUDA kernel takes up to 65535 matrices per product, got {count} (batch {ShapeText.Format(batch)})", KilnErrorKind.Device);
        long[] cs = new long[r];
        for (int i = r - 1, acc = 1; i >= 0; acc *= batch[i], i--) cs[i] = (long)acc * n * m;
        var plan = LoopPlan.Create(batch, a._strides[..r], b._strides[..r], cs);
        if (plan.Shape.Length > 1)
        {
            using var ac = a.Contiguous();
            using var bc = b.Contiguous();
            GpuBatchedGemm(ac, bc, c, batch, n, m, k, alpha, beta);
            return;
        }
        long sa = plan.Shape.Length == 1 && count > 1 ? plan.Strides[0][0] : 0, sb = plan.Shape.Length == 1 && count > 1 ? plan.Strides[1][0] : 0;
        Gpu.GpuOps.Gemm(a, a._strides[r], a._strides[r + 1], sa, b, b._strides[r], b._strides[r + 1], sb, c, (int)count, n, m, k, alpha, beta);
    }

    /// <summary>
    /// C[b] = alpha·A[b]·B[b] (+ beta·bias) for every batch index; a and b are already expanded to
    /// [batch..., n, k] and [batch..., k, m]. Strides go straight to the GEMM, so transposed or expanded
    /// operands are never copied. Many small matrices run in parallel over the batch instead.
    /// </summary>
    static Tensor BatchedGemm(Tensor a, Tensor b, int[] batch, double alpha, double beta, Tensor? bias)
    {
        int n = a._shape[^2], k = a._shape[^1], m = b._shape[^1];
        var dtype = a.DType;
        if (a.IsCuda && DeviceGemm(a, b, batch, n, m, k, alpha, beta, bias) is { } inOwnType) return inOwnType;
        var ct = TypeDispatch.ComputeType(dtype);
        using var ac = a.ToInternal(ct);
        using var bc = b.ToInternal(ct);
        long count = ShapeRules.Numel(batch);
        var result = Allocate([.. batch, n, m], ct, false, DeviceOf(a, b));
        if (bias is not null && beta != 0)
        {
            using var bt = bias.ToInternal(ct);
            CopyKernel.Copy(result, bt);
        }
        else beta = 0;
        if (result.IsCuda)
        {
            GpuBatchedGemm(ac, bc, result, batch, n, m, k, alpha, beta);
            return Finish(result, dtype);
        }
        int r = batch.Length;
        long rsa = ac._strides[r], csa = ac._strides[r + 1], rsb = bc._strides[r], csb = bc._strides[r + 1];
        byte* pa = ac.DataPointer, pb = bc.DataPointer, pc = result.DataPointer;
        int es = ct.SizeOf();
        long cStride = (long)n * m;
        var aStr = ac._strides; var bStr = bc._strides;
        void One(long bi)
        {
            long offA = 0, offB = 0, rem = bi;
            for (int d = r - 1; d >= 0; d--)
            {
                long idx = rem % batch[d];
                rem /= batch[d];
                offA += idx * aStr[d];
                offB += idx * bStr[d];
            }
            byte* ap = pa + offA * es, bp = pb + offB * es, cp = pc + bi * cStride * es;
            switch (ct)
            {
                case DType.Float32:
                    Sgemm.Multiply(n, m, k, (float)alpha, (float*)ap, rsa, csa, (float*)bp, rsb, csb, (float)beta, (float*)cp, m);
                    break;
                case DType.Float64:
                    GenericGemm.Multiply(n, m, k, alpha, (double*)ap, rsa, csa, (double*)bp, rsb, csb, beta, (double*)cp, m);
                    break;
                case DType.Int64:
                    GenericGemm.Multiply(n, m, k, (long)alpha, (long*)ap, rsa, csa, (long*)bp, rsb, csb, (long)beta, (long*)cp, m);
                    break;
                default:
                    GenericGemm.Multiply(n, m, k, (int)alpha, (int*)ap, rsa, csa, (int*)bp, rsb, csb, (int)beta, (int*)cp, m);
                    break;
            }
        }
        long work = (long)n * m * k;
        if (count > 1 && work < (1L << 21)) Threads.For(count, 1, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (s, e) => { for (long i = s; i < e; i++) One(i); });
        else for (long i = 0; i < count; i++) One(i);
        return Finish(result, dtype);
    }
}
