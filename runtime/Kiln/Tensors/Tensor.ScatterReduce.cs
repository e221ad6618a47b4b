using System;
using Kiln.Compiler.Shapes;
using Kiln.Kernels;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// A copy with <paramref name="src"/>'s elements reduced into the positions <paramref name="index"/> names along
    /// <paramref name="dim"/> (<c>Tensor.scatter_reduce</c>): <paramref name="reduce"/> is "sum", "prod", "mean", "amax" or
    /// "amin"; <paramref name="includeSelf"/> false leaves this tensor's own values out wherever something is scattered.
    /// Gradients as PyTorch's: ties of amax/amin share it, prod's is the product of the other contributors (zeros included).
    /// </summary>
    /// <remarks>prod, amax and amin are folded on the host (a device tensor makes the round trip).</remarks>
    public Tensor ScatterReduce(int dim, Tensor index, Tensor src, string reduce, bool includeSelf = true)
    {
        const string op = "scatter_reduce";
        RequireIndexType(op, index);
        int d = ShapeRules.NormalizeDim(op, dim, Math.Max(Dim, 1));
        CheckIndexShape(op, index, d, src);
        if (src.DType != DType)
            throw new KilnException(op, $"{op}: expected self and src to have the same dtype, got {DType} and {src.DType}", KilnErrorKind.DType);
        CheckSameDevice(op, this, index);
        CheckSameDevice(op, this, src);
        switch (reduce)
        {
            case "sum":
            {
                using var start = includeSelf ? To(DType) : Scatter(d, index, 0.0);
                return start.ScatterAdd(d, index, src);
            }
            case "mean":
            {
                using var start = includeSelf ? To(DType) : Scatter(d, index, 0.0);
                using var sum = start.ScatterAdd(d, index, src);
                // How many values each position averages: itself (unless left out where scattered) plus its sources.
                var countType = DType.IsFloatingPoint() ? DType : DType.Int64;
                using var ones = OnesLike(this, countType);
                using var own = includeSelf ? ones.To(countType) : ones.Scatter(d, index, 0.0);
                using var srcOnes = Ones(index.ShapeArray, countType, Device);
                using var count = own.ScatterAdd(d, index, srcOnes);
                using var safeCount = count.Clamp(1, null);
                if (DType.IsFloatingPoint()) return sum.Div(safeCount);
                using var quotient = sum.To(DType.Int64).FloorDivide(safeCount);
                return quotient.To(DType);
            }
            case "prod": return ScatterFold(op, d, index, src, ScatterReduction.Prod, includeSelf);
            case "amax": return ScatterFold(op, d, index, src, ScatterReduction.Amax, includeSelf);
            case "amin": return ScatterFold(op, d, index, src, ScatterReduction.Amin, includeSelf);
            default:
                throw new KilnException(op, $"{op}: reduce argument must be either sum, prod, mean, amax or amin, got {reduce}");
        }
    }

    /// <summary>prod, amax or amin: the host fold, with a hand-written backward.</summary>
    Tensor ScatterFold(string op, int d, Tensor index, Tensor src, ScatterReduction reduction, bool includeSelf)
    {
        var (value, touched) = FoldOnHost(op, d, index, src, reduction, includeSelf, zerosAsOne: false);
        if (!DType.IsFloatingPoint() || !GradMode.Enabled || !(RequiresGrad || src.RequiresGrad)) return value;
        var self = this;
        return Autograd.Function("scatter_reduce", [this, src], () => value, grad =>
        {
            using var untouched = touched.LogicalNot();
            using var srcPart = src.SliceTo(index.ShapeArray);
            Tensor gradSelf, gradSrc;
            if (reduction == ScatterReduction.Prod)
            {
                // Each contributor's gradient is the product of the others: result / x where x ≠ 0; where x = 0, the
                // product of the non-zero others when x is the only zero, else 0.
                var (nonZeroProduct, _) = FoldOnHost(op, d, index, src, reduction, includeSelf, zerosAsOne: true);
                using (nonZeroProduct)
                {
                    using var zeroCount = ZeroCount(d, index, srcPart, includeSelf);
                    using var selfOthers = includeSelf ? ProductOfOthers(value, self, nonZeroProduct, zeroCount) : untouched.To(DType);
                    gradSelf = grad.Mul(selfOthers);
                    using var valueAt = value.Gather(d, index);
                    using var nonZeroAt = nonZeroProduct.Gather(d, index);
                    using var zerosAt = zeroCount.Gather(d, index);
                    using var srcOthers = ProductOfOthers(valueAt, srcPart, nonZeroAt, zerosAt);
                    using var gradAt = grad.Gather(d, index);
                    using var part = gradAt.Mul(srcOthers);
                    gradSrc = part.PadTo(src.ShapeArray);
                }
            }
            else
            {
                // Ties share the gradient: self (where it takes part) and each source equal to the result.
                using var selfTie = includeSelf ? self.Eq(value) : untouched.To(DType.Bool);
                using var selfShare = selfTie.To(DType);
                using var valueAt = value.Gather(d, index);
                using var srcTie = srcPart.Eq(valueAt);
                using var srcShare = srcTie.To(DType);
                using var ties = selfShare.ScatterAdd(d, index, srcShare);
                using var perTie = grad.Div(ties);
                gradSelf = perTie.Mul(selfShare);
                using var perTieAt = perTie.Gather(d, index);
                using var part = perTieAt.Mul(srcShare);
                gradSrc = part.PadTo(src.ShapeArray);
            }
            return [gradSelf, gradSrc];
        });
    }

    /// <summary>The fold on the host in float64/int64, back in this dtype and device; and which positions received sources.</summary>
    (Tensor Value, Tensor Touched) FoldOnHost(string op, int d, Tensor index, Tensor src, ScatterReduction reduction, bool includeSelf, bool zerosAsOne)
    {
        using var noGrad = GradMode.Set(false);
        var ct = DType.IsFloatingPoint() ? DType.Float64 : DType.Int64;
        using var selfHost = ToHost();
        using var srcHost = src.ToHost();
        using var idxHost = index.ToHost();
        using var result = CopyKernel.Convert(selfHost, ct);
        using var source = CopyKernel.Convert(srcHost, ct);
        using var idx = CopyKernel.Convert(idxHost, DType.Int64);
        if (zerosAsOne)
        {
            ReplaceZeros(result);
            ReplaceZeros(source);
        }
        var touched = ScatterReduceKernel.Apply(op, result, source, idx, d, reduction, includeSelf);
        using var typed = CopyKernel.Convert(result, DType);
        using var touchedHost = From(touched, (int[])_shape.Clone());
        return (typed.To(Device), touchedHost.To(Device));
    }

    static void ReplaceZeros(Tensor t)
    {
        if (t.DType != DType.Float64) return;
        var p = t.Ptr<double>();
        for (long i = 0; i < t.Numel; i++) if (p[i] == 0) p[i] = 1;
    }

    /// <summary>How many zeros each position's product has: its own (when included) and its sources'.</summary>
    Tensor ZeroCount(int d, Tensor index, Tensor srcPart, bool includeSelf)
    {
        using var selfZero = Eq(0);
        using var selfCount = includeSelf ? selfZero.To(DType) : ZerosLike(this);
        using var srcZero = srcPart.Eq(0);
        using var srcCount = srcZero.To(DType);
        return selfCount.ScatterAdd(d, index, srcCount);
    }

    /// <summary>The product of a contributor's fellow contributors: whole / x, or for a zero x the non-zero product when it is the only zero.</summary>
    static Tensor ProductOfOthers(Tensor whole, Tensor x, Tensor nonZeroProduct, Tensor zeroCount)
    {
        using var isZero = x.Eq(0);
        using var one = Full([], 1, x.DType, x.Device);
        using var safeX = Where(isZero, one, x);
        using var divided = whole.Div(safeX);
        using var onlyZero = zeroCount.Eq(1);
        using var zero = Full([], 0, x.DType, x.Device);
        using var forZero = Where(onlyZero, nonZeroProduct, zero);
        return Where(isZero, forZero, divided);
    }

    /// <summary>The leading block of this tensor with <paramref name="shape"/> (each dim narrowed from 0).</summary>
    Tensor SliceTo(int[] shape)
    {
        var t = To(DType);
        for (int i = 0; i < shape.Length && i < Dim; i++)
        {
            if (shape[i] == _shape[i]) continue;
            var next = t.Narrow(i, 0, shape[i]);
            t.Dispose();
            t = next;
        }
        return t;
    }

    /// <summary>This tensor zero-padded at the end of each dim up to <paramref name="shape"/>.</summary>
    Tensor PadTo(int[] shape)
    {
        var pad = new int[2 * Dim];
        bool any = false;
        for (int i = 0; i < Dim; i++)
        {
            pad[2 * (Dim - 1 - i) + 1] = shape[i] - _shape[i];
            any |= shape[i] != _shape[i];
        }
        return any ? NN.F.Pad(this, pad) : To(DType);
    }
}
