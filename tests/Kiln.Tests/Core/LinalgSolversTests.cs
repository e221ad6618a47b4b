using System;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// Least squares, triangular and Cholesky solves, multi_dot, matrix_exp and batched matrix norms beyond the golden
/// values (course.json's linalg_* cases): closed forms, result shapes and the errors that name the op and the shapes.
/// </summary>
public class LinalgSolversTests
{
    [Fact]
    public void MatrixExpOfKnownMatrices()
    {
        // exp(diag(d)) = diag(eᵈ); exp of the rotation generator [[0, -t], [t, 0]] is the rotation by t; exp(0) = I.
        var d = Tensor.From(new[] { -1.0, 0.5, 3.0 }, 3);
        var expDiag = Linalg.MatrixExp(d.DiagEmbed()).ToArray<double>();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(i == j ? Math.Exp(d.ToArray<double>()[i]) : 0, expDiag[i * 3 + j], 12);
        double t = 2.5;
        var rotation = Linalg.MatrixExp(Tensor.From(new[] { 0, -t, t, 0 }, 2, 2)).ToArray<double>();
        Assert.Equal(new[] { Math.Cos(t), -Math.Sin(t), Math.Sin(t), Math.Cos(t) }, rotation, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(Tensor.Eye(4, null, DType.Float64).ToArray<double>(), Linalg.MatrixExp(Tensor.Zeros([4, 4], DType.Float64)).ToArray<double>());
    }

    [Fact]
    public void LstsqFitsALineAndReportsWhatItsDriverGives()
    {
        // y = 2 + 3x exactly: the fit recovers it, residuals 0 (gelsd), rank 2.
        var x = Tensor.From(new[] { 0.0, 1.0, 2.0, 3.0, 4.0 }, 5);
        var design = Tensor.Stack([Tensor.OnesLike(x), x], 1);
        var y = x * 3.0 + 2.0;
        var fit = Linalg.Lstsq(design, y, driver: "gelsd");
        Assert.Equal([2], fit.Solution.ShapeArray);
        Assert.Equal(new[] { 2.0, 3.0 }, fit.Solution.ToArray<double>(), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.True(Math.Abs(fit.Residuals.Item<double>()) < 1e-20);
        Assert.Equal(2L, fit.Rank.Item<long>());
        Assert.Equal([2], fit.SingularValues.ShapeArray);
        var gelsy = Linalg.Lstsq(design, y);
        Assert.Equal(0, gelsy.Residuals.Numel);
        Assert.Equal(0, gelsy.SingularValues.Numel);
        Assert.Equal(0, Linalg.Lstsq(design, y, driver: "gels").Rank.Numel);
        // Rank deficient (a repeated column): residuals are left empty, as LAPACK's drivers do.
        var deficient = Tensor.Cat([design, design.Narrow(1, 1, 1)], 1);
        Assert.Equal(0, Linalg.Lstsq(deficient, y, driver: "gelsd").Residuals.Numel);
        Assert.Equal(2L, Linalg.Lstsq(deficient, y, driver: "gelsd").Rank.Item<long>());
    }

    [Fact]
    public void BatchedMatrixNormsMatchEachMatrixAlone()
    {
        var a = Tensor.Randn([3, 4, 5], DType.Float64, new Generator(7));
        foreach (var ord in new[] { 1.0, -1.0, 2.0, -2.0, double.PositiveInfinity, double.NegativeInfinity })
        {
            var batched = Linalg.MatrixNorm(a, ord).ToArray<double>();
            var kept = Linalg.MatrixNorm(a, ord, keepDim: true);
            Assert.Equal([3, 1, 1], kept.ShapeArray);
            for (int i = 0; i < 3; i++) Assert.Equal(Linalg.Norm(a[i], ord).Item<double>(), batched[i], 12);
        }
        // Over other dims: the norm of each [4, 3] slice taken as dims (1, 0) is the transposed matrix's.
        var swapped = Linalg.MatrixNorm(a, 1, [2, 1]).ToArray<double>();
        for (int i = 0; i < 3; i++) Assert.Equal(Linalg.Norm(a[i].T, 1).Item<double>(), swapped[i], 12);
        Assert.Equal(Linalg.MatrixNorm(a, "nuc").ToArray<double>()[1], Linalg.Norm(a[1], "nuc").Item<double>(), 12);
    }

    [Fact]
    public void BadInputsNameTheOpAndShapes()
    {
        static void Throws(Action a, string text) => Assert.Contains(text, Assert.Throws<KilnException>(a).Message);
        Throws(() => Linalg.Lstsq(Tensor.Ones(4, 2), Tensor.Ones(3, 1)), "linalg.lstsq: A [4, 2] and B [3, 1]: B's rows must be A's 4");
        Throws(() => Linalg.Lstsq(Tensor.Ones(4, 2), Tensor.Ones(4, 1), driver: "gelsx"), "parameter `driver` should be one of (gels, gelsy, gelsd, gelss), got gelsx");
        Throws(() => Linalg.SolveTriangular(Tensor.Ones(3, 3), Tensor.Ones(2, 2), upper: true), "linalg.solve_triangular: A [3, 3] and B [2, 2]: B's rows must be A's 3");
        Throws(() => Linalg.SolveTriangular(Tensor.Ones(3, 2), Tensor.Ones(3, 2), upper: true), "A must be batches of square matrices");
        Throws(() => Linalg.MultiDot(Tensor.Ones(2, 3)), "linalg.multi_dot: expected at least 2 tensors but got 1");
        Throws(() => Linalg.MultiDot(Tensor.Ones(2, 3), Tensor.Ones(4, 2)), "tensors 0 and 1 with shapes [2, 3] and [4, 2] cannot be multiplied");
        Throws(() => Linalg.MultiDot(Tensor.Ones(2, 3), Tensor.Ones(3), Tensor.Ones(3, 2)), "tensor 1 must be 2D but got 1D [3]");
        Throws(() => Linalg.MatrixExp(Tensor.Ones(2, 3)), "linalg.matrix_exp: A must be batches of square matrices");
        Throws(() => Linalg.MatrixNorm(Tensor.Ones(2, 3), 3), "linalg.matrix_norm: order 3 is not a matrix norm");
        Throws(() => Linalg.MatrixNorm(Tensor.Ones(2, 3), 1, [1, 1]), "dims must be different");
        Throws(() => Linalg.Cond(Tensor.Ones(2, 3), 1), "linalg.cond: A must be batches of square matrices");
    }
}
