using System;
using Kiln.Gpu.Kernels;
using Kiln.Kernels.Elementwise;
using Xunit;

namespace Kiln.Tests.Gpu;

/// <summary>
/// GPU kernels' own exp, log, expm1, tanh and pow (ILGPU's are CORDIC loops) against the BCL on the CPU: within a few
/// double ulps over the whole range, the special values exactly.
/// </summary>
public class GpuMathTests
{
    static void Close(double expected, double got, double rel, string what)
    {
        if (double.IsNaN(expected)) { Assert.True(double.IsNaN(got), $"{what}: expected NaN, got {got}"); return; }
        if (double.IsInfinity(expected) || expected == 0) { Assert.Equal(expected, got); return; }
        double err = Math.Abs(got - expected) / Math.Abs(expected);
        Assert.True(err <= rel, $"{what}: expected {expected:R}, got {got:R} (relative {err:E2})");
    }

    static double[] Sweep(double lo, double hi, int n)
    {
        var xs = new double[n];
        for (int i = 0; i < n; i++) xs[i] = lo + (hi - lo) * i / (n - 1) + 1e-9 * i;
        return xs;
    }

    [Fact]
    public void ExpMatchesTheBclAcrossItsRange()
    {
        foreach (double x in Sweep(-745, 709.7, 20001)) Close(Math.Exp(x), GpuMath.Exp(x), x < -708 ? 1e-3 : 4e-16, $"exp({x})");
        foreach (double x in new[] { 0.0, -0.0, 1e-300, -1e-20, 0.5 * Math.Log(2), 710.0, -746.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN })
            Close(Math.Exp(x), GpuMath.Exp(x), 4e-16, $"exp({x})");
    }

    [Fact]
    public void LogMatchesTheBclAcrossItsRange()
    {
        foreach (double e in Sweep(-1070, 1020, 4001))
        {
            double x = Math.Pow(2, e) * 1.2345;
            Close(Math.Log(x), GpuMath.Log(x), 4e-16, $"log({x})");
        }
        foreach (double x in Sweep(0.5, 2, 3001)) Close(Math.Log(x), GpuMath.Log(x), 1e-15, $"log({x})");
        foreach (double x in new[] { 1.0, 0.0, -1.0, 4.9e-324, double.Epsilon * 3, double.MaxValue, double.PositiveInfinity, double.NaN })
            Close(Math.Log(x), GpuMath.Log(x), 4e-16, $"log({x})");
    }

    // e^x - 1 = 2 tanh(x/2) / (1 - tanh(x/2)): no cancellation near 0, through the BCL's accurate tanh.
    static double Expm1Reference(double x)
    {
        double t = Math.Tanh(x / 2);
        return Math.Abs(x) < 0.5 ? 2 * t / (1 - t) : Math.Exp(x) - 1;
    }

    [Fact]
    public void Expm1AndTanhKeepTheirRelativeAccuracyNearZero()
    {
        foreach (double x in Sweep(-30, 30, 6001))
        {
            Close(Math.Tanh(x), GpuMath.Tanh(x), 1e-15, $"tanh({x})");
            Close(Expm1Reference(x), GpuMath.Expm1(x), 1e-15, $"expm1({x})");
        }
        foreach (double x in new[] { 1e-10, -3e-8, 1e-300 })
        {
            Close(Math.Tanh(x), GpuMath.Tanh(x), 1e-15, $"tanh({x})");
            Close(x + x * x / 2, GpuMath.Expm1(x), 1e-15, $"expm1({x})");
        }
        Assert.True(double.IsNaN(GpuMath.Tanh(double.NaN)));
        Assert.Equal(-1.0, GpuMath.Tanh(double.NegativeInfinity));
    }

    [Fact]
    public void PowIsExactForSmallIntegerExponentsAndCloseElsewhere()
    {
        Assert.Equal(-27.0, GpuMath.Pow(-3, 3));
        Assert.Equal(1.0 / 16, GpuMath.Pow(2, -4));
        Assert.Equal(1.0, GpuMath.Pow(double.NaN, 0));
        Assert.True(double.IsNaN(GpuMath.Pow(-2, 0.5)));
        foreach (double x in Sweep(0.01, 50, 997))
            foreach (double y in new[] { 0.5, -1.7, 2.25, 3.0 })
                Close(Math.Pow(x, y), GpuMath.Pow(x, y), 1e-14, $"pow({x}, {y})");
    }

    [Fact]
    public void SharedSpecialFunctionsGiveTheCpuValuesOverTheGpuExp()
    {
        foreach (double x in Sweep(-8, 8, 1601))
        {
            Close(FloatMath.Erf(x), GpuMath.Erf(x), 1e-14, $"erf({x})");
            Close(FloatMath.OnePlusErf(x), GpuMath.OnePlusErf(x), 1e-13, $"1+erf({x})");
            Close(FloatMath.Sigmoid(x), GpuMath.Sigmoid(x), 1e-15, $"sigmoid({x})");
            if (x > -1) Close(FloatMath.Log1p(x), GpuMath.Log1p(x), 1e-15, $"log1p({x})");
        }
    }
}
