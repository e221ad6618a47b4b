using System;
using System.Collections.Generic;
using System.Linq;
using Kiln;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// The tensor functions composed of recorded ops that PyTorch code reaches for (index updates, repeat_interleave, running
/// extrema, logcumsumexp, NaN-aware reductions, windows, diagonals, named products, covariance, pointwise compositions):
/// float64 finite differences agree with their gradients away from ties and kinks, and bad input names the function.
/// </summary>
public class TensorSurfaceGradCheckTests
{
    static Tensor R(params int[] shape) => Tensor.Randn(shape, DType.Float64, new Generator((ulong)shape.Sum() * 23 + 9)).RequiresGrad_();
    static Tensor R2(params int[] shape) => Tensor.Randn(shape, DType.Float64, new Generator((ulong)shape.Sum() * 29 + 4)).RequiresGrad_();
    static Tensor P(params int[] shape) => (Tensor.Rand(shape, DType.Float64, new Generator((ulong)shape.Sum() * 31 + 2)) + 0.5).Detach().RequiresGrad_();
    static Tensor Longs(params long[] values) => Tensor.From(values, values.Length);

    static readonly Dictionary<string, (Func<Tensor[], Tensor> Fn, Func<Tensor[]> Inputs)> Checks = new()
    {
        ["index_add"] = (x => x[0].IndexAdd(0, Longs(2, 0, 2), x[1], alpha: 0.7), () => [R(4, 3), R2(3, 3)]),
        ["index_copy"] = (x => x[0].IndexCopy(1, Longs(3, 0), x[1]), () => [R(2, 5), R2(2, 2)]),
        ["index_fill"] = (x => x[0].IndexFill(0, Longs(1), 3.0) * x[0], () => [R(3, 2)]),
        ["repeat_interleave"] = (x => x[0].RepeatInterleave(2, 1) + x[1].RepeatInterleave(Longs(2, 1, 3), 1)[.., ..6], () => [R(2, 3), R2(2, 3)]),
        ["cummax_cummin"] = (x => x[0].Cummax(1).Values + x[0].Cummin(0).Values, () => [R(3, 5)]),
        ["logcumsumexp"] = (x => x[0].Logcumsumexp(1) + x[0].Logcumsumexp(0), () => [R(3, 6)]),
        ["nan_functions"] = (x => x[0].NanToNum().Sum(0) + x[0].Nansum(0) + x[0].Nanmean(0), () => [R(3, 4)]),
        ["windows_and_diagonals"] = (x => x[0].Unfold(1, 2, 1).Sum(-1) + x[0].Diagonal(1).Sum() + x[1].DiagEmbed(1).Sum(-1)[.., ..2], () => [R(2, 3), R2(2, 2)]),
        ["products"] = (x => x[0].Mm(x[1]).Sum(1) + x[0].Mv(x[2]) + x[2].Dot(x[2]) + x[0].Inner(x[1].T).Sum(1), () => [R(2, 3), R2(3, 4), R(3)]),
        ["kron"] = (x => x[0].Kron(x[1]), () => [R(2, 3), R2(2, 2)]),
        ["add_products"] = (x => Tensor.Baddbmm(x[0], x[1], x[2], 0.5, 2).Sum(0) + Tensor.Addr(x[3], x[4], x[5], 1.5, -1),
            () => [R(2, 3, 4), R2(2, 3, 5), R(2, 5, 4), R2(3, 4), R(3), R2(4)]),
        ["addmv"] = (x => Tensor.Addmv(x[0], x[1], x[2], 0.5, 2), () => [R(3), R2(3, 4), R(4)]),
        ["cross"] = (x => Linalg.Cross(x[0], x[1]), () => [R(2, 3), R2(2, 3)]),
        ["matrix_power"] = (x => Linalg.MatrixPower(x[0], 3) + Linalg.MatrixPower(x[0], -2), () => [(R(3, 3) * 0.3 + Tensor.Eye(3, null, DType.Float64)).Detach().RequiresGrad_()]),
        ["cov"] = (x => x[0].Cov(aweights: x[1]) + x[0].Corrcoef(), () => [R(3, 6), P(6)]),
        ["kthvalue"] = (x => x[0].Kthvalue(2, 1).Values, () => [R(3, 4)]),
        ["pointwise"] = (x => x[0].Fmod(x[1]) + x[0].Frac() + x[0].Hypot(x[1]) + x[0].Copysign(x[1]) + x[0].Sinc() + x[0].Deg2rad() + x[0].Logaddexp2(x[1]),
            () => [P(6) * 3, R2(6) + 4]),
        ["float_power"] = (x => x[0].FloatPower(x[1]) + x[0].FloatPower(2.5), () => [P(5), R2(5)]),
        ["cholesky_slogdet"] = (x => Linalg.Cholesky(x[0].Matmul(x[0].T) + Tensor.Eye(3, null, DType.Float64)).Sum() + Linalg.Slogdet(x[0]).LogAbsDet, () => [R(3, 3)]),
        ["eigh"] = (x => Linalg.Eigh(x[0] + x[0].T) is var (l, v) ? (v * v * l.Unsqueeze(-2)).Sum(0) : x[0], () => [R(4, 4)]),
        ["pinv"] = (x => Linalg.Pinv(x[0]), () => [R(4, 3)]),
        ["scatter_reduce_prod_amax"] = (x => x[0].ScatterReduce(1, Tensor.From(new long[] { 0, 2, 2, 1, 1, 1 }, 2, 3), x[1], "prod")
            + x[0].ScatterReduce(1, Tensor.From(new long[] { 0, 2, 2, 1, 1, 1 }, 2, 3), x[1], "amax", includeSelf: false)
            + x[0].ScatterReduce(1, Tensor.From(new long[] { 0, 2, 2, 1, 1, 1 }, 2, 3), x[1], "mean"), () => [R(2, 3), R2(2, 4)]),
    };

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var k in Checks.Keys) d.Add(k);
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FiniteDifferencesAgree(string name)
    {
        var (fn, inputs) = Checks[name];
        Assert.True(Autograd.GradCheck(fn, inputs()));
    }

    [Fact]
    public void BadInputsNameTheFunction()
    {
        var x = Tensor.Ones(3, 4);
        Assert.Equal("index_add: index 3 is out of bounds for dimension 0 with size 3", Assert.Throws<KilnException>(() => x.IndexAdd(0, Longs(3), Tensor.Ones(1, 4))).Message);
        Assert.Equal("index_copy: index -1 is out of bounds for dimension 1 with size 4", Assert.Throws<KilnException>(() => x.IndexCopy(1, Longs(-1), Tensor.Ones(3, 1))).Message);
        Assert.StartsWith("index_add: source [2, 4] must match self [3, 4] except at dim 0", Assert.Throws<KilnException>(() => x.IndexAdd(0, Longs(0), Tensor.Ones(2, 4))).Message);
        Assert.StartsWith("index_add: self (Float32) and source (Float64)", Assert.Throws<KilnException>(() => x.IndexAdd(0, Longs(0), Tensor.Ones(new[] { 1, 4 }, DType.Float64))).Message);
        Assert.StartsWith("index_fill: expected an index tensor", Assert.Throws<KilnException>(() => x.IndexFill(0, Tensor.Ones(1), 2)).Message);
        Assert.StartsWith("repeat_interleave: repeats must have the same size as input along dim 0", Assert.Throws<KilnException>(() => x.RepeatInterleave(Longs(1, 2), 0)).Message);
        Assert.StartsWith("repeat_interleave: repeats can not be negative", Assert.Throws<KilnException>(() => x.RepeatInterleave(-1)).Message);
        Assert.StartsWith("unfold: maximum size for tensor at dimension 1 is 4 but size is 5", Assert.Throws<KilnException>(() => x.Unfold(1, 5, 1)).Message);
        Assert.StartsWith("unfold: step is 0", Assert.Throws<KilnException>(() => x.Unfold(1, 2, 0)).Message);
        Assert.StartsWith("diagonal: dim1 and dim2 cannot be identical", Assert.Throws<KilnException>(() => x.Diagonal(0, 1, -1)).Message);
        Assert.StartsWith("kthvalue: selected number k out of range", Assert.Throws<KilnException>(() => x.Kthvalue(5)).Message);
        Assert.StartsWith("cov: expected input to have two or fewer dimensions", Assert.Throws<KilnException>(() => Tensor.Ones(2, 2, 2).Cov()).Message);
        Assert.StartsWith("cov: expected fweights to have integral dtype", Assert.Throws<KilnException>(() => x.Cov(fweights: Tensor.Ones(4))).Message);
        Assert.StartsWith("cov: aweights cannot be negative", Assert.Throws<KilnException>(() => x.Cov(aweights: Tensor.From(1f, -1f, 1f, 1f))).Message);
        Assert.StartsWith("histc: expected a floating point input", Assert.Throws<KilnException>(() => Longs(1, 2).Histc()).Message);
        Assert.StartsWith("linalg.cross: inputs dimension 1 must have length 3", Assert.Throws<KilnException>(() => Linalg.Cross(x, x)).Message);
        Assert.StartsWith("linalg.matrix_power: A must be batches of square matrices", Assert.Throws<KilnException>(() => x.MatrixPower(2)).Message);
        Assert.StartsWith("dot: inconsistent tensor size", Assert.Throws<KilnException>(() => Tensor.Ones(3).Dot(Tensor.Ones(4))).Message);
        Assert.StartsWith("mm: expected 2-D matrices", Assert.Throws<KilnException>(() => Tensor.Ones(3).Mm(x)).Message);
        Assert.StartsWith("inner: the last dimensions must match", Assert.Throws<KilnException>(() => x.Inner(Tensor.Ones(3))).Message);
        Assert.StartsWith("addr:", Assert.Throws<KilnException>(() => Tensor.Addr(Tensor.Ones(4, 4), Tensor.Ones(3), Tensor.Ones(4))).Message);
        Assert.StartsWith("tensor_split: number of sections must be larger than 0", Assert.Throws<KilnException>(() => x.TensorSplit(0)).Message);
        Assert.StartsWith("logcumsumexp: expected a floating point input", Assert.Throws<KilnException>(() => Longs(1, 2).Logcumsumexp(0)).Message);
        Assert.StartsWith("heaviside: is not yet implemented for tensors with different dtypes", Assert.Throws<KilnException>(() => x.Heaviside(Longs(1))).Message);
        Assert.StartsWith("remainder: ZeroDivisionError", Assert.Throws<KilnException>(() => Longs(3).Fmod(Longs(0))).Message);
    }

    [Fact]
    public void EmptyAndScalarInputsFollowPyTorch()
    {
        var scalar = Tensor.Scalar(2.5);
        var (v, i) = scalar.Cummax(0);
        Assert.Equal(2.5, v.Item<double>());
        Assert.Equal(0L, i.Item<long>());
        Assert.Equal(2.5, scalar.Logcumsumexp(0).Item<double>());
        Assert.Equal([2], scalar.RepeatInterleave(2).ShapeArray);
        var empty = Tensor.Zeros(0, 3);
        Assert.Equal([0, 3], empty.Cummax(0).Values.ShapeArray);
        Assert.Equal([0, 3], empty.Logcumsumexp(0).ShapeArray);
        Assert.Equal([0, 3], empty.IndexAdd(0, Tensor.Zeros(new[] { 0 }, DType.Int64), Tensor.Zeros(0, 3)).ShapeArray);
        Assert.Equal(0.0, empty.Nansum().Item<float>());
        Assert.True(float.IsNaN(empty.Nanmean().Item<float>()));
        Assert.Equal([0, 6], empty.RepeatInterleave(2, 1).ShapeArray);
        Assert.Equal([0, 2, 2], empty.Unfold(1, 2, 1).ShapeArray);
        Assert.Equal(new[] { 1, 1, 1 }, Tensor.Zeros(3).TensorSplit(3).Select(t => t.Size(0)).ToArray());
        // A row that is all NaN has no mean (PyTorch gives NaN).
        var nanRow = Tensor.From(new[] { float.NaN, float.NaN, 1f, 3f }, 2, 2);
        Assert.True(float.IsNaN(nanRow.Nanmean(1).ToArray<float>()[0]));
        Assert.Equal(2f, nanRow.Nanmean(1).ToArray<float>()[1]);
    }

    [Fact]
    public void AmaxOverInfiniteValuesWhileRecording()
    {
        // amax's gradient was written as peak + Σ (x - peak)·tie/ties, which reads -inf·0 and inf - inf: NaN values as soon
        // as the input required a gradient and held an infinity (a masked max, an empty bag of EmbeddingBag).
        var x = Tensor.From(new[] { 1f, 2f, float.NegativeInfinity, 3f, float.NegativeInfinity, float.PositiveInfinity, 2f, 2f, 0f }, 3, 3).RequiresGrad_();
        var y = x.Amax(1);
        Assert.Equal(new[] { 2f, float.PositiveInfinity, 2f }, y.ToArray<float>());
        y.Sum().Backward();
        Assert.Equal(new[] { 0f, 1f, 0f, 0f, 0f, 1f, 0.5f, 0.5f, 0f }, x.Grad!.ToArray<float>());
        var z = Tensor.From(new[] { float.NegativeInfinity, float.NegativeInfinity }, 2).RequiresGrad_();
        Assert.Equal(float.NegativeInfinity, z.Amin().Item<float>());
    }

    [Fact]
    public void ScatterFromALargerSourceGivesItsWholeShapeAGradient()
    {
        // scatter and scatter_add read only the leading block of a src larger than the index; its gradient had the index's
        // shape and the backward failed to accumulate it into src.
        var src = Tensor.Ones(2, 5).RequiresGrad_();
        var index = Tensor.From(new long[] { 0, 1, 0, 2, 2, 2, 1, 0 }, 2, 4);
        using (var added = Tensor.Zeros(3, 4).ScatterAdd(0, index, src)) added.Sum().Backward();
        Assert.Equal(new float[] { 1, 1, 1, 1, 0, 1, 1, 1, 1, 0 }, src.Grad!.ToArray<float>());
        src.Grad = null;
        using (var written = Tensor.Zeros(3, 4).Scatter(0, Tensor.From(new long[] { 0, 1 }, 1, 2), src)) written.Sum().Backward();
        Assert.Equal(new float[] { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, src.Grad!.ToArray<float>());
    }

    [Fact]
    public void ScatterReduceRejectsBadInput()
    {
        var x = Tensor.Zeros(3, 4);
        Assert.StartsWith("scatter_reduce: reduce argument must be either sum, prod, mean, amax or amin", Assert.Throws<KilnException>(() => x.ScatterReduce(0, Tensor.From(new long[] { 0 }, 1, 1), Tensor.Ones(1, 1), "max")).Message);
        Assert.Equal("scatter_reduce: index 3 is out of bounds for dimension 0 with size 3",
            Assert.Throws<KilnException>(() => x.ScatterReduce(0, Tensor.From(new long[] { 3 }, 1, 1), Tensor.Ones(1, 1), "amax")).Message);
        Assert.StartsWith("scatter_reduce: expected self and src to have the same dtype", Assert.Throws<KilnException>(() => x.ScatterReduce(0, Tensor.From(new long[] { 0 }, 1, 1), Tensor.Ones(new[] { 1, 1 }, DType.Float64), "sum")).Message);
    }

    [Fact]
    public void SymmetricFactorizationsHoldAndRefuseBadInput()
    {
        var x = Tensor.Randn([5, 5], DType.Float64, new Generator(97));
        var a = x + x.T;
        var (values, vectors) = Linalg.Eigh(a);
        Assert.True(a.Matmul(vectors).AllClose(vectors * values.Unsqueeze(0), 1e-10, 1e-10));           // A·V = V·diag(L)
        Assert.True(vectors.T.Matmul(vectors).AllClose(Tensor.Eye(5, null, DType.Float64), 1e-10, 1e-12));
        var spd = x.Matmul(x.T) + Tensor.Eye(5, null, DType.Float64);
        var l = Linalg.Cholesky(spd);
        Assert.True(l.Matmul(l.T).AllClose(spd, 1e-10, 1e-10));
        Assert.Equal(0.0, l.Triu(1).Abs().Sum().Item<double>());
        Assert.StartsWith("linalg.cholesky: The factorization could not be completed because the input is not positive-definite (the leading minor of order 2",
            Assert.Throws<KilnException>(() => Linalg.Cholesky(Tensor.From(new[] { 1.0, 2.0, 2.0, 1.0 }, 2, 2))).Message);
        Assert.StartsWith("linalg.eigh: A must be batches of square matrices", Assert.Throws<KilnException>(() => Linalg.Eigh(Tensor.Ones(2, 3))).Message);
        var (sign, log) = Linalg.Slogdet(Tensor.From(new[] { 1.0, 2.0, 2.0, 4.0 }, 2, 2));
        Assert.Equal(0.0, sign.Item<double>());
        Assert.Equal(double.NegativeInfinity, log.Item<double>());
    }
}
