using System;
using System.Collections.Generic;
using Kiln.Compiler.Autodiff;

namespace Kiln;

/// <summary>The derivative rules' algebra on eager tensors: each member is an ordinary (recorded) tensor op.</summary>
internal sealed class TensorAlgebra : IGradAlgebra<Tensor>
{
    public static readonly TensorAlgebra Instance = new();

    public int[] Shape(Tensor x) => (int[])x.ShapeArray.Clone();
    public Tensor Add(Tensor a, Tensor b) => a + b;
    public Tensor Sub(Tensor a, Tensor b) => a - b;
    public Tensor Mul(Tensor a, Tensor b) => a * b;
    public Tensor Div(Tensor a, Tensor b) => a / b;
    public Tensor Neg(Tensor a) => -a;
    public Tensor Scale(Tensor a, double s) => a * s;
    public Tensor AddScalar(Tensor a, double s) => a + s;
    public Tensor PowScalar(Tensor a, double exponent) => a.Pow(exponent);
    public Tensor Reciprocal(Tensor a) => a.Reciprocal();
    public Tensor Maximum(Tensor a, Tensor b) => a.Maximum(b);
    public Tensor Minimum(Tensor a, Tensor b) => a.Minimum(b);
    public Tensor Pow(Tensor a, Tensor b) => a.Pow(b);
    public Tensor Atan2(Tensor a, Tensor b) => a.Atan2(b);
    public Tensor MaxScalar(Tensor a, double s) => a.Clamp(min: s);
    public Tensor MinScalar(Tensor a, double s) => a.Clamp(max: s);
    public Tensor Exp(Tensor a) => a.Exp();
    public Tensor Log1p(Tensor a) => a.Log1p();
    public Tensor Expm1(Tensor a) => a.Expm1();
    public Tensor Log2(Tensor a) => a.Log2();
    public Tensor Log10(Tensor a) => a.Log10();
    public Tensor Tan(Tensor a) => a.Tan();
    public Tensor Asin(Tensor a) => a.Asin();
    public Tensor Acos(Tensor a) => a.Acos();
    public Tensor Atan(Tensor a) => a.Atan();
    public Tensor Erf(Tensor a) => a.Erf();
    public Tensor OnePlusErf(Tensor a) => a.Erf() + 1;
    public Tensor Floor(Tensor a) => a.Floor();
    public Tensor Ceil(Tensor a) => a.Ceil();
    public Tensor Round(Tensor a) => a.Round();
    public Tensor Trunc(Tensor a) => a.Trunc();
    public Tensor Log(Tensor a) => a.Log();
    public Tensor Sqrt(Tensor a) => a.Sqrt();
    public Tensor Sin(Tensor a) => a.Sin();
    public Tensor Cos(Tensor a) => a.Cos();
    public Tensor Tanh(Tensor a) => a.Tanh();
    public Tensor Sigmoid(Tensor a) => a.Sigmoid();
    public Tensor Abs(Tensor a) => a.Abs();
    public Tensor Sign(Tensor a) => Mask(a.Gt(0), a) - Mask(a.Lt(0), a);
    public Tensor NormalPdf(Tensor a) => a.NormalPdf();
    public Tensor NormalCdf(Tensor a) => a.NormalCdf();
    public Tensor GreaterMask(Tensor a, double s) => a.GreaterMask(s);
    // Under createGraph the product with a mask is recorded so it differentiates again; otherwise one fused pass.
    public Tensor KeepWhereGreater(Tensor grad, Tensor a, double s) => GradMode.Enabled ? grad.Mul(a.GreaterMask(s)) : grad.KeepWhereGreater(a, s);
    public Tensor GreaterMask(Tensor a, Tensor b) => Mask(a.Gt(b), a);
    public Tensor EqualMask(Tensor a, Tensor b) => Mask(a.Eq(b), a);

    public Tensor InRangeMask(Tensor a, double? lo, double? hi)
    {
        // Inside [lo, hi] exactly where clamping changes nothing (NaN compares unequal: mask 0, as PyTorch).
        using var off = GradMode.Set(false);
        using var clamped = a.Clamp(lo, hi);
        return Mask(a.Eq(clamped), a);
    }

    static Tensor Mask(Tensor condition, Tensor like)
    {
        using (condition) return condition.To(like.DType);
    }

    public Tensor Where(Tensor cond, Tensor a, Tensor b) => Tensor.Where(cond, a, b);
    public Tensor MaskedZero(Tensor a, Tensor mask) => a.MaskedFill(mask, 0);
    public Tensor ZerosLike(Tensor a) => Tensor.ZerosLike(a);
    public Tensor CastLike(Tensor a, Tensor like)
    {
        if (a.Device == like.Device) return a.To(like.DType);
        using var moved = a.To(like.Device);
        return moved.To(like.DType);
    }
    public Tensor Sum(Tensor a, int[] dims, bool keepDim) => dims.Length == 0 && a.Dim == 0 ? a : a.Sum(dims, keepDim);

    public Tensor SumTo(Tensor a, int[] shape)
    {
        if (Compiler.Shapes.ShapeRules.SameShape(a.ShapeArray, shape)) return a;
        int lead = a.Dim - shape.Length;
        var dims = new List<int>();
        for (int i = 0; i < a.Dim; i++)
            if (i < lead || (shape[i - lead] == 1 && a.ShapeArray[i] != 1)) dims.Add(i);
        var summed = dims.Count == 0 ? a : a.Sum(dims.ToArray(), keepDim: true);
        return summed.Reshape(shape);
    }

    public Tensor Expand(Tensor a, int[] shape) => Compiler.Shapes.ShapeRules.SameShape(a.ShapeArray, shape) ? a : a.Expand(shape);
    public Tensor Reshape(Tensor a, int[] shape) => Compiler.Shapes.ShapeRules.SameShape(a.ShapeArray, shape) ? a : a.Reshape(shape);
    public Tensor Permute(Tensor a, int[] dims) => a.Permute(dims);
    public Tensor Transpose(Tensor a, int d0, int d1) => a.Transpose(d0, d1);
    public Tensor Unsqueeze(Tensor a, int dim) => a.Unsqueeze(dim);
    public Tensor Matmul(Tensor a, Tensor b) => a.Matmul(b);
    public bool IsTransposedInMemory(Tensor a) => a.Dim == 2 && a.Size(0) > 1 && a.Size(1) > 1 && a.Stride(0) == 1 && a.Stride(1) == a.Size(0);
    public Tensor CumSum(Tensor a, int dim) => a.CumSum(dim);
    public Tensor Flip(Tensor a, int dim) => a.Flip(dim);
    public Tensor Narrow(Tensor a, int dim, int start, int length) => a.Narrow(dim, start, length);

    public Tensor PadSlice(Tensor src, int[] shape, int dim, int start, int step)
    {
        var r = Tensor.Zeros(shape, src.DType, src.Device);
        using (GradMode.Set(false))
        {
            using var window = r.Slice(dim, start, null, step);
            using var target = window.Narrow(dim, 0, src.ShapeArray[Compiler.Shapes.ShapeRules.NormalizeDim("slice", dim, shape.Length)]);
            target.Copy_(src);
        }
        // Recorded as its own op so that gradients of gradients flow through slicing.
        return Tensor.Record("pad_slice", r, new Compiler.Ops.SliceArgs(dim, start, step), src);
    }

    public Tensor SliceStep(Tensor a, int dim, int start, int step, int length)
    {
        using var s = a.Slice(dim, start, null, step);
        return s.Narrow(dim, 0, length);
    }

    public Tensor Cat(IReadOnlyList<Tensor> parts, int dim) => Tensor.Cat(parts, dim);
    public Tensor Rope(Tensor x, Tensor cos, Tensor sin) => Tensor.RopeOp(x, cos, sin);
    public Tensor Select(Tensor a, int dim, int index) => a.Select(dim, index);
    public Tensor Gather(Tensor a, int dim, Tensor index) => a.Gather(dim, index);
    public Tensor ScatterAddInto(int[] shape, Tensor like, int dim, Tensor index, Tensor src) => Tensor.Zeros(shape, like.DType, like.Device).ScatterAdd(dim, index, src);

    public Tensor IndexAddInto(int[] shape, Tensor like, int dim, Tensor index, Tensor src)
    {
        int d = Compiler.Shapes.ShapeRules.NormalizeDim("index_add", dim, shape.Length);
        if (d == 0 && IndexAddRowsInto(shape, like, index, src) is { } rows) return rows;
        // index_add through scatter_add: the 1-D index broadcast along every other dim of src.
        var view = new int[src.Dim];
        for (int i = 0; i < view.Length; i++) view[i] = i == d ? -1 : 1;
        using var raw = index.To(DType.Int64);
        // index_select wraps negative indices (scatter_add does not): wrap them here the same way.
        using var negative = raw.Lt(0);
        using var size = Tensor.Scalar((long)shape[d]);
        using var wrapped = raw.Add(size);
        using var nonNegative = Tensor.Where(negative, wrapped, raw);
        using var idx = nonNegative.Reshape(view);
        using var full = idx.Expand(src.ShapeArray).Contiguous();
        return ScatterAddInto(shape, like, d, full, src);
    }

    /// <summary>
    /// index_add along dim 0 of float32 rows on the CPU by <see cref="Kernels.IndexAddRows"/> (an embedding's gradient), when
    /// nothing records it (a second-order graph goes through the recorded scatter_add); null when the case does not apply.
    /// </summary>
    static unsafe Tensor? IndexAddRowsInto(int[] shape, Tensor like, Tensor index, Tensor src)
    {
        if (like.DType != DType.Float32 || src.DType != DType.Float32 || src.Device.Type != DeviceType.Cpu || like.Device.Type != DeviceType.Cpu
            || index.Dim != 1 || index.DType.IsFloatingPoint() || index.DType == DType.Bool || src.Dim != shape.Length || src.Size(0) != index.Size(0)
            || GradMode.Enabled && src.RequiresGrad) return null;
        for (int i = 1; i < shape.Length; i++) if (src.Size(i) != shape[i]) return null;
        using var rows = index.To(DType.Int64).Contiguous();
        using var from = src.Contiguous();
        int n = rows.Size(0);
        long cols = n == 0 ? 0 : from.Numel / n;
        long* given = rows.Ptr<long>();
        // index_select wraps negative indices: the same here (into a copy: rows may be the caller's tensor); anything
        // else out of range names the op.
        var wrapped = GC.AllocateUninitializedArray<long>(n);
        for (int r = 0; r < n; r++)
        {
            long i = given[r] < 0 ? given[r] + shape[0] : given[r];
            if (i < 0 || i >= shape[0])
                throw new KilnException("index_add", $"index_add: index {given[r]} at position {r} is out of range for dim 0 of size {shape[0]} (shape {Compiler.Shapes.ShapeText.Format(shape)})", KilnErrorKind.Index);
            wrapped[r] = i;
        }
        var result = Tensor.Zeros(shape, DType.Float32, like.Device);
        fixed (long* at = wrapped) Kernels.IndexAddRows.Run(result.Ptr<float>(), from.Ptr<float>(), at, n, cols);
        return result;
    }

    public Tensor ScatterZero(Tensor a, int dim, Tensor index) => a.Scatter(dim, index, 0.0);
    public Tensor Softmax(Tensor a, int dim) => a.Softmax(dim);
    public Tensor Tril(Tensor a, int diagonal) => a.Tril(diagonal);
    /// <summary>
    /// Fused ops differentiate with their own kernels, which record nothing: with createGraph the result would look
    /// like a constant and a second derivative would silently be wrong, so it is refused instead.
    /// </summary>
    static void RefuseDoubleBackward(string op)
    {
        if (GradMode.Enabled)
            throw new KilnException(op, $"{op}: double backward (createGraph: true) through this fused op is not supported yet; compose the layer from primitive ops for higher-order gradients", KilnErrorKind.Unsupported);
    }

    public Tensor Im2Col(Tensor a, Compiler.Shapes.ConvGeometry geometry) => Tensor.Im2ColOp(a, geometry);
    public Tensor?[] Conv2dBackward(Tensor x, Tensor weight, bool hasBias, Tensor grad, Compiler.Shapes.ConvGeometry geometry, int groups, bool needX, bool needW, bool needB)
    {
        RefuseDoubleBackward("conv2d");
        return Tensor.Conv2dBackwardOp(x, weight, hasBias, grad, geometry, groups, needX, needW, needB);
    }
    public Tensor MaxPool2dBackward(Tensor grad, Tensor indices, int[] inputShape)
    {
        if (!GradMode.Enabled) return Tensor.MaxPool2dBackwardOp(grad, indices, inputShape);
        // Building a graph (createGraph): the same scatter as recorded ops, so it differentiates again.
        int n = inputShape[0], c = inputShape[1];
        return ScatterAddInto([n, c, inputShape[2] * inputShape[3]], grad, 2, indices.Reshape(n, c, -1), grad.Reshape(n, c, -1)).Reshape(inputShape);
    }
    public Tensor?[] LayerNormBackward(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, int d)
    {
        RefuseDoubleBackward("layer_norm");
        return Tensor.LayerNormBackwardOp(x, weight, hasBias, mean, rstd, grad, d);
    }
    public Tensor? FusedUnaryBackward(string op, Tensor? input, Tensor? output, Tensor grad)
    {
        // Building a graph (createGraph) needs the rule's recorded ops; the loop covers float32 on the CPU, same shapes.
        if (GradMode.Enabled || (input is null) == (output is null) || !Kernels.Elementwise.UnaryGradients.Has(op)) return null;
        var v = input ?? output!;
        if (!FusedOperand(v, grad) || !FusedOperand(grad, grad)) return null;
        return Kernels.Elementwise.UnaryGradients.Run(op, v, grad);
    }
    public Tensor?[]? FusedBinaryBackward(string op, Tensor? a, Tensor? b, Tensor? output, Tensor grad, bool needA, bool needB)
    {
        // As FusedUnaryBackward: float32 on the CPU, every operand of the gradient's shape, nothing to record.
        if (GradMode.Enabled || !Kernels.Elementwise.BinaryGradients.Has(op) || !FusedOperand(a, grad) || !FusedOperand(b, grad)
            || !FusedOperand(output, grad) || !FusedOperand(grad, grad)) return null;
        return Kernels.Elementwise.BinaryGradients.Run(op, a, b, output, grad, needA, needB);
    }

    public Tensor? FusedSoftmaxBackward(Tensor grad, Tensor output, int dim, bool log)
    {
        // Rows along the last dim only (the kernel walks contiguous rows); createGraph takes the rule's recorded ops.
        int rank = output.Dim;
        if (GradMode.Enabled || rank == 0 || Compiler.Shapes.ShapeRules.NormalizeDim(log ? "log_softmax" : "softmax", dim, rank) != rank - 1
            || !FusedOperand(output, grad) || !FusedOperand(grad, grad)) return null;
        return Kernels.Reduce.SoftmaxGradient.Run(grad, output, log);
    }

    /// <summary>Whether a fused gradient loop can read <paramref name="t"/> (absent, or float32 on the CPU with the gradient's shape).</summary>
    static bool FusedOperand(Tensor? t, Tensor grad) => t is null
        || t.DType == DType.Float32 && t.Device.Type == DeviceType.Cpu && Compiler.Shapes.ShapeRules.SameShape(t.ShapeArray, grad.ShapeArray);

    public Tensor?[] RmsNormBackward(Tensor x, Tensor? weight, Tensor rstd, Tensor grad, int d, double eps)
    {
        if (!GradMode.Enabled) return Tensor.LayerNormBackwardOp(x, weight, false, null, rstd, grad, d)[..2];
        // Building a graph (createGraph): the same gradients as recorded ops, so they differentiate again — 1/rms formed
        // again from x (the saved one is a constant to the graph). Per row of length d, with r = 1/rms and u = g·w:
        // dx = r·u - x·r³·mean(u·x), dw = Σ_rows g·x·r.
        var x2 = x.Reshape(-1, d);
        var rows = ((x2 * x2).Mean([1], keepDim: true) + eps).Rsqrt();
        var g2 = grad.Reshape(-1, d);
        var u = weight is null ? g2 : g2 * weight.Reshape(1, d);
        var dx = (u * rows - x2 * (rows * rows * rows) * (u * x2).Mean([1], keepDim: true)).Reshape(x.ShapeArray);
        var dw = weight is null ? null : (g2 * x2 * rows).Sum([0]).Reshape(weight.ShapeArray);
        return [dx, dw];
    }
    public Tensor?[] BatchNormBackward(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, bool batchStatistics, double eps) =>
        // Building a graph (createGraph): the same gradients as recorded ops, so they differentiate again.
        GradMode.Enabled ? Tensor.BatchNormBackwardRecorded(x, weight, hasBias, mean, rstd, grad, batchStatistics, eps)
            : Tensor.BatchNormBackwardOp(x, weight, hasBias, mean, rstd, grad, batchStatistics, needInput: true);
    public Tensor?[] GruLayerBackward(Tensor h0, Tensor whh, bool hasBias, Tensor saved, Tensor output, Tensor grad, bool reverse, Tensor? lengths)
    {
        RefuseDoubleBackward("gru_layer");
        return Tensor.GruLayerBackwardOp(h0, whh, hasBias, saved, output, grad, reverse, lengths);
    }
    public Tensor?[] LstmLayerBackward(Tensor h0, Tensor c0, Tensor whh, Tensor? whr, Tensor gates, Tensor output, Tensor grad, bool reverse, Tensor? lengths)
    {
        RefuseDoubleBackward("lstm_layer");
        return Tensor.LstmLayerBackwardOp(h0, c0, whh, whr, gates, output, grad, reverse, lengths);
    }
    public Tensor[] AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor lse, Tensor? mask, Tensor output, Tensor grad, double scale, bool causal)
    {
        RefuseDoubleBackward("scaled_dot_product_attention");
        return Tensor.AttentionBackwardOp(q, k, v, lse, mask, output, grad, scale, causal);
    }
    public Tensor Col2Im(Tensor a, int height, int width, Compiler.Shapes.ConvGeometry geometry) => Tensor.Col2ImOp(a, height, width, geometry);
    public Tensor Triu(Tensor a, int diagonal) => a.Triu(diagonal);
}
