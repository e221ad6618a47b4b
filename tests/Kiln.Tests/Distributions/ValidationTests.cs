using System;
using Kiln.Distributions;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>
/// PyTorch's validate_args: parameters outside their constraints are refused when a distribution is built, values
/// outside the support when a log density is asked for; a scope turns it off for the distributions built inside.
/// </summary>
public class ValidationTests
{
    static Tensor T(params double[] values) => Tensor.From(values, values.Length);

    [Fact]
    public void ParametersOutsideTheirConstraintsAreRefusedByName()
    {
        var e = Assert.Throws<KilnException>(() => new Normal(T(0.0, 1.0), T(1.0, -2.0)));
        Assert.Equal("Normal: expected parameter scale (shape [2]) to satisfy the constraint GreaterThan(lower_bound=0.0), but found invalid values, the first at flat index 1: -2",
            e.Message);
        Assert.Equal(KilnErrorKind.Argument, e.Kind);
        Assert.Contains("parameter probs (shape [2]) to satisfy the constraint Interval(lower_bound=0.0, upper_bound=1.0)",
            Assert.Throws<KilnException>(() => new Bernoulli(probs: T(0.5, 1.5))).Message);
        Assert.Contains("parameter total_count (shape [1]) to satisfy the constraint IntegerGreaterThan(lower_bound=0)",
            Assert.Throws<KilnException>(() => new Binomial(T(2.5), probs: T(0.5))).Message);
        Assert.Contains("parameter concentration (shape [3]) to satisfy the constraint IndependentConstraint(GreaterThan(lower_bound=0.0), 1)",
            Assert.Throws<KilnException>(() => new Dirichlet(T(1.0, 0.0, 2.0))).Message);
        Assert.Contains("Uniform: expected parameter high",
            Assert.Throws<KilnException>(() => new Uniform(T(1.0), T(0.5))).Message);
        Assert.Contains("parameter scale_tril (shape [2, 2]) to satisfy the constraint LowerCholesky()",
            Assert.Throws<KilnException>(() => new MultivariateNormal(T(0, 0), scaleTril: Tensor.From(new[] { 1.0, 0.5, 0.0, 1.0 }, 2, 2))).Message);
        Assert.Contains("parameter covariance_matrix (shape [2, 2]) to satisfy the constraint PositiveDefinite()",
            Assert.Throws<KilnException>(() => new Wishart(3.0, covarianceMatrix: Tensor.From(new[] { 1.0, 2.0, 0.0, 1.0 }, 2, 2))).Message);
        Assert.Contains("Gamma: expected parameter rate",
            Assert.Throws<KilnException>(() => new Gamma(T(1.0), T(double.NaN))).Message);
    }

    [Fact]
    public void ValuesOutsideTheSupportAreRefusedByLogProb()
    {
        Assert.Equal("Exponential: expected value argument (shape [3]) to be within the support (GreaterThanEq(lower_bound=0.0)) of the distribution, but found invalid values, the first at flat index 2: -0.5",
            Assert.Throws<KilnException>(() => new Exponential(T(1.0)).LogProb(T(0.0, 1.0, -0.5))).Message);
        Assert.Contains("within the support (Boolean())",
            Assert.Throws<KilnException>(() => new Bernoulli(probs: T(0.3)).LogProb(T(0.5))).Message);
        Assert.Contains("within the support (IntegerInterval(lower_bound=0, upper_bound=2))",
            Assert.Throws<KilnException>(() => new Categorical(probs: T(0.2, 0.3, 0.5)).LogProb(Tensor.From(new long[] { 1, 3 }, 2))).Message);
        Assert.Contains("within the support (Simplex())",
            Assert.Throws<KilnException>(() => new Dirichlet(T(1.0, 2.0)).LogProb(T(0.5, 0.6))).Message);
        Assert.Contains("within the support (Interval(lower_bound=0.0, upper_bound=1.0))",
            Assert.Throws<KilnException>(() => new Beta(T(2.0), T(2.0)).LogProb(T(1.5))).Message);
        Assert.Contains("within the support (CorrCholesky())",
            Assert.Throws<KilnException>(() => new LKJCholesky(2, 1.0).LogProb(Tensor.From(new[] { 1.0, 0.0, 0.5, 0.5 }, 2, 2))).Message);
        // Values in the support pass: ends of closed intervals, whole counts.
        Assert.True(double.IsFinite(new Binomial(T(5.0), probs: T(0.5)).LogProb(T(5.0)).Item<double>()));
        Assert.True(double.IsFinite(new Uniform(T(0.0), T(2.0)).LogProb(T(0.0)).Item<double>()));
    }

    [Fact]
    public void AScopeBuildsDistributionsWithoutValidation()
    {
        Normal unchecked_;
        using (Distribution.ValidateArgsScope(false))
        {
            unchecked_ = new Normal(T(0.0), T(-1.0));
            Assert.False(unchecked_.ValidateArgs);
            // log λ - λx read outside the support, as PyTorch reads it with validate_args=False.
            Assert.Equal(1.0, new Exponential(T(1.0)).LogProb(T(-1.0)).Item<double>());
        }
        Assert.True(double.IsNaN(unchecked_.LogProb(T(0.5)).Item<double>()));   // the object keeps its choice
        Assert.True(new Normal(T(0.0), T(1.0)).ValidateArgs);
        Assert.Throws<KilnException>(() => new Normal(T(0.0), T(-1.0)));
    }
}
