using System;
using System.Collections.Generic;
using System.Linq;
using Kiln;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// The tensor functions PyTorch code reaches for beyond their golden cases (their float64 finite-difference checks are in
/// <see cref="CompositeGradCheckTests"/>): bad input names the function, empty and 0-d inputs, infinities under amax,
/// scatter from a larger source, the symmetric factorizations' identities.
/// </summary>
public class TensorSurfaceTests
{
    static Tensor Longs(params long[] values) => Tensor.From(values, values.Length);

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
        // Arrangements, integration, frexp and renorm.
        Assert.Equal("tensordot: contracted dimensions need to match, but first has size 4 in dim 1 and second has size 3 in dim 0",
            Assert.Throws<KilnException>(() => x.Tensordot(Tensor.Ones(3, 2), 1)).Message);
        Assert.StartsWith("tensordot: dims must be in [0, 2]", Assert.Throws<KilnException>(() => x.Tensordot(x, 3)).Message);
        Assert.StartsWith("block_diag: Input tensors must have 2 or fewer dimensions. Input 1 has 3 dimensions", Assert.Throws<KilnException>(() => Tensor.BlockDiag(x, Tensor.Ones(1, 1, 1))).Message);
        Assert.StartsWith("cartesian_prod: expects one-dimensional tensors, got tensor 0 of shape [3, 4]", Assert.Throws<KilnException>(() => Tensor.CartesianProd(x, x)).Message);
        Assert.StartsWith("combinations: Expect a 1D vector, but got shape [3, 4]", Assert.Throws<KilnException>(() => x.Combinations()).Message);
        Assert.StartsWith("vander: x must be a one-dimensional tensor", Assert.Throws<KilnException>(() => x.Vander()).Message);
        Assert.StartsWith("trapezoid: There must be one `x` value for each sample point, got 3 for 4 samples", Assert.Throws<KilnException>(() => x.Trapezoid(Tensor.Ones(3))).Message);
        Assert.StartsWith("frexp: torch.frexp() only supports floating-point dtypes", Assert.Throws<KilnException>(() => Longs(1, 2).Frexp()).Message);
        Assert.StartsWith("renorm: non-positive-norm not supported", Assert.Throws<KilnException>(() => x.Renorm(0, 0, 1)).Message);
        Assert.StartsWith("tril_indices: row and col must be non-negative", Assert.Throws<KilnException>(() => Tensor.TrilIndices(-1, 2)).Message);
        Assert.Equal(new[] { 0 }, x[0].Combinations(0).ShapeArray);   // r = 0 and r > n give empty results, as PyTorch
        Assert.Equal(new[] { 0, 3 }, Tensor.Ones(2).Combinations(3).ShapeArray);
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
