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
    /// C[b] = alpha·A[b]·B[b] (+ beta·bias) for every batch index; a and b are already expanded to
    /// [batch..., n, k] and [batch..., k, m]. Strides go straight to the GEMM, so transposed or expanded
    /// operands are never copied. Many small matrices run in parallel over the batch instead.
    /// </summary>
    static Tensor BatchedGemm(Tensor a, Tensor b, int[] batch, double alpha, double beta, Tensor? bias)
    {
        int n = a._shape[^2], k = a._shape[^1], m = b._shape[^1];
        var dtype = a.DType;
        if (a.Backend.GemmInOwnType(a, b, batch, n, m, k, alpha, beta, bias) is { } inOwnType) return inOwnType;
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
        result.Backend.BatchedGemm(ac, bc, result, batch, n, m, k, alpha, beta);
        return Finish(result, dtype);
    }
}
