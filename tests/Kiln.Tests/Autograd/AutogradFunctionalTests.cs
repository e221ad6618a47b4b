using System;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// <see cref="Autograd.Functional"/> beyond the golden values (course.json's autograd_functional cases): closed forms,
/// independence (zeros, or strict's error), create_graph, the vector checks, and that the caller's tensors are untouched.
/// </summary>
public class AutogradFunctionalTests
{
    static Tensor T(params double[] v) => Tensor.From(v, v.Length);

    [Fact]
    public void ClosedFormsOfAQuadraticAndALinearMap()
    {
        // f(x) = xᵀAx: gradient (A + Aᵀ)x, Hessian A + Aᵀ; g(x) = Ax: Jacobian A.
        var a = Tensor.From(new[] { 1.0, 2.0, -1.0, 0.5, 3.0, 0.0, 2.0, -2.0, 1.5 }, 3, 3);
        var x = T(0.3, -1.2, 2.0);
        var symmetric = (a + a.T).ToArray<double>();
        Assert.Equal(symmetric, Autograd.Functional.Hessian(v => v.Matmul(a).Dot(v), x).ToArray<double>());
        Assert.Equal(a.ToArray<double>(), Autograd.Functional.Jacobian(v => a.Matmul(v), x).ToArray<double>());
        var (value, hv) = Autograd.Functional.Hvp(v => v.Matmul(a).Dot(v), x, T(1, 0, 0));
        Assert.Equal(x.Matmul(a).Dot(x).Item<double>(), value.Item<double>(), 12);
        Assert.Equal(new[] { symmetric[0], symmetric[3], symmetric[6] }, hv.ToArray<double>());
        var (y, jv) = Autograd.Functional.Jvp(v => a.Matmul(v), x, T(0, 1, 0));
        Assert.Equal(a.Matmul(x).ToArray<double>(), y.ToArray<double>());
        Assert.Equal(new[] { 2.0, 3.0, -2.0 }, jv.ToArray<double>());   // A's second column
        Assert.False(hv.RequiresGrad || y.RequiresGrad);
        Assert.False(x.RequiresGrad);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void IndependentOutputsGiveZerosOrStrictErrors()
    {
        var a = T(1, 2);
        var b = T(3, 4, 5);
        Tensor[] F(Tensor[] t) => [t[0] * 2, Tensor.Ones(2)];
        var j = Autograd.Functional.Jacobian(F, [a, b]);
        Assert.Equal([2, 2], j[0][0].ShapeArray);
        Assert.Equal([2, 3], j[0][1].ShapeArray);
        Assert.All(j[0][1].ToArray<double>(), v => Assert.Equal(0.0, v));
        Assert.All(j[1][0].ToArray<double>(), v => Assert.Equal(0.0, v));
        var e = Assert.Throws<KilnException>(() => Autograd.Functional.Jacobian(F, [a, b], strict: true));
        Assert.Contains("jacobian: output 0 of the user-provided function is independent of input 1; this is not allowed in strict mode", e.Message);
        // A linear function's Hessian is zero, not an error, unless strict.
        Assert.All(Autograd.Functional.Hessian(t => t.Sum() * 3, b).ToArray<double>(), v => Assert.Equal(0.0, v));
        Assert.Throws<KilnException>(() => Autograd.Functional.Hessian(t => t.Sum() * 3, b, strict: true));
    }

    [Fact]
    public void CreateGraphResultsDifferentiateAgain()
    {
        // d/dx of the Jacobian's trace of sin: Σ cos(xᵢ) → gradient -sin(x).
        var x = T(0.2, -0.7, 1.1).RequiresGrad_();
        var jacobian = Autograd.Functional.Jacobian(t => t.Sin(), x, createGraph: true);
        Assert.True(jacobian.RequiresGrad);
        var trace = jacobian.Diagonal().Sum();
        var g = Autograd.Grad(trace, x);
        var want = x.Detach().Sin().Neg().ToArray<double>();
        var got = g.ToArray<double>();
        for (int i = 0; i < 3; i++) Assert.Equal(want[i], got[i], 12);
    }

    [Fact]
    public void VectorsAreCheckedAgainstTheirShapes()
    {
        var x = T(1, 2, 3);
        var e = Assert.Throws<KilnException>(() => Autograd.Functional.Vjp(t => t * 2, x));
        Assert.Contains("vjp: The vector v can only be None if the user-provided function returns a single Tensor with a single element", e.Message);
        e = Assert.Throws<KilnException>(() => Autograd.Functional.Jvp(t => t * 2, x, T(1, 2)));
        Assert.Contains("jvp: mismatch in shape of v[0]: [2] against the inputs' [3]", e.Message);
        e = Assert.Throws<KilnException>(() => Autograd.Functional.Hessian(t => t * 2, x));
        Assert.Contains("hessian: The function given to hessian should return a single Tensor with a single element (got shape [3])", e.Message);
        e = Assert.Throws<KilnException>(() => Autograd.Functional.Jacobian(t => t, Tensor.From(new long[] { 1, 2 }, 2)));
        Assert.Contains("input 0 is Int64", e.Message);
        // A one-element output needs no v.
        var (y, g) = Autograd.Functional.Vjp(t => t.Square().Sum(), x);
        Assert.Equal(14.0, y.Item<double>());
        Assert.Equal(new[] { 2.0, 4.0, 6.0 }, g.ToArray<double>());
    }

    [Fact]
    public void RunsInsideNoGrad()
    {
        using var _ = Autograd.NoGrad();
        Assert.Equal(new[] { 2.0, 0, 0, 0, 4.0, 0, 0, 0, 6.0 }, Autograd.Functional.Jacobian(t => t.Square(), T(1, 2, 3)).ToArray<double>());
    }
}
