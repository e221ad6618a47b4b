using System;
using Kiln.Distributions;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>
/// biject_to/transform_to over the constraints, the transforms they build, enumerate_support's refusals (values are the
/// golden cases transform_to, transforms_more and enumerate_support).
/// </summary>
public class TransformRegistryTests
{
    static Tensor T(params double[] values) => Tensor.From(values, values.Length);

    [Fact]
    public void BijectionsLandInTheirConstraintAndInvert()
    {
        using var x = T(-3.0, -0.2, 0.0, 1.5, 4.0);
        foreach (var c in new[] { Constraints.Positive, Constraints.GreaterThan(2.0), Constraints.LessThan(-1.0), Constraints.Interval(-1.0, 3.0), Constraints.UnitInterval, Constraints.Real })
        {
            var t = Constraints.BijectTo(c);
            using var y = t.Forward(x);
            using var inside = c.Check(y);
            Assert.True(inside.All().Item<bool>(), $"{c}: a value left the set");
            using var back = t.Inverse(y);
            var b = back.ToArray<double>();
            var a = x.ToArray<double>();
            for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 9);
        }
        var simplex = Constraints.BijectTo(Constraints.Simplex);
        using var p = simplex.Forward(T(0.3, -1.0, 2.0));
        using var onSimplex = Constraints.Simplex.Check(p);
        Assert.True(onSimplex.Item<bool>());
        Assert.Equal(new[] { 4 }, p.ShapeArray);
    }

    [Fact]
    public void LogDeterminantsPassFiniteDifferencesInFloat64()
    {
        var interval = Constraints.BijectTo(Constraints.Interval(-1.0, 3.0));
        Assert.True(Autograd.GradCheck(a => interval.LogAbsDetJacobian(a[0], interval.Forward(a[0])), [T(-2.0, 0.1, 1.7).RequiresGrad_()]));
        var soft = new SoftplusTransform();
        Assert.True(Autograd.GradCheck(a => soft.Inverse(soft.Forward(a[0])), [T(-2.0, 0.1, 1.7).RequiresGrad_()]));
        var positives = Constraints.BijectTo(Constraints.Independent(Constraints.Positive, 1));
        Assert.True(Autograd.GradCheck(a => positives.LogAbsDetJacobian(a[0], positives.Forward(a[0])), [T(-2.0, 0.1, 1.7).RequiresGrad_()]));
    }

    [Fact]
    public void WhatHasNoTransformOrNoEnumerationIsRefusedByName()
    {
        Assert.Equal("biject_to: cannot transform LowerCholesky() constraints", Assert.Throws<KilnException>(() => Constraints.BijectTo(Constraints.LowerCholesky)).Message);
        Assert.IsType<LowerCholeskyTransform>(Constraints.TransformTo(Constraints.LowerCholesky));
        Assert.Contains("cannot transform Boolean()", Assert.Throws<KilnException>(() => Constraints.TransformTo(Constraints.Boolean)).Message);
        Assert.Contains("AbsTransform is not bijective", Assert.Throws<KilnException>(() => new AbsTransform().LogAbsDetJacobian(T(1.0), T(1.0))).Message);
        Assert.Contains("Normal has no finite support", Assert.Throws<KilnException>(() => new Normal(0, 1).EnumerateSupport()).Message);
        Assert.False(new Normal(0, 1).HasEnumerateSupport);
        Assert.Contains("inhomogeneous total_count",
            Assert.Throws<KilnException>(() => new Binomial(T(3.0, 4.0), probs: T(0.5, 0.5)).EnumerateSupport()).Message);
        Assert.Equal(new[] { 4, 2 }, new Binomial(T(3.0, 3.0), probs: T(0.5, 0.2)).EnumerateSupport().ShapeArray);
    }
}
