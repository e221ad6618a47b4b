using System;
using Kiln.Compiler.Ops.Pointwise;
using Kiln.Kernels.Elementwise;

namespace Kiln.Tests.Golden;

/// <summary>The op table's formulas interpreted on doubles: the reference the generated kernels are held to.</summary>
internal sealed class DoubleAlgebra : IScalarAlgebra<double>
{
    public static readonly DoubleAlgebra Instance = new();

    public double Add(double a, double b) => a + b;
    public double Sub(double a, double b) => a - b;
    public double Mul(double a, double b) => a * b;
    public double Div(double a, double b) => a / b;
    public double Neg(double a) => -a;
    public double Scale(double a, double s) => a * s;
    public double AddScalar(double a, double s) => a + s;
    public double PowScalar(double a, double exponent) => Math.Pow(a, exponent);
    public double Reciprocal(double a) => 1 / a;
    public double Maximum(double a, double b) => Math.Max(a, b);
    public double Minimum(double a, double b) => Math.Min(a, b);
    public double Pow(double a, double b) => Math.Pow(a, b);
    public double Atan2(double a, double b) => Math.Atan2(a, b);
    public double MaxScalar(double a, double s) => Math.Max(a, s);
    public double MinScalar(double a, double s) => Math.Min(a, s);
    public double Exp(double a) => Math.Exp(a);
    public double Log(double a) => Math.Log(a);
    public double Log1p(double a) => FloatMath.Log1p(a);
    public double Expm1(double a) => FloatMath.Expm1(a);
    public double Log2(double a) => Math.Log2(a);
    public double Log10(double a) => Math.Log10(a);
    public double Sqrt(double a) => Math.Sqrt(a);
    public double Sin(double a) => Math.Sin(a);
    public double Cos(double a) => Math.Cos(a);
    public double Tan(double a) => Math.Tan(a);
    public double Asin(double a) => Math.Asin(a);
    public double Acos(double a) => Math.Acos(a);
    public double Atan(double a) => Math.Atan(a);
    public double Tanh(double a) => Math.Tanh(a);
    public double Sigmoid(double a) => FloatMath.Sigmoid(a);
    public double Erf(double a) => FloatMath.Erf(a);
    public double OnePlusErf(double a) => FloatMath.OnePlusErf(a);
    public double Floor(double a) => Math.Floor(a);
    public double Ceil(double a) => Math.Ceiling(a);
    public double Round(double a) => Math.Round(a, MidpointRounding.ToEven);
    public double Trunc(double a) => Math.Truncate(a);
    public double Abs(double a) => Math.Abs(a);
    public double Sign(double a) => a > 0 ? 1 : a < 0 ? -1 : a * 0;
    public double NormalPdf(double a) => Math.Exp(-0.5 * a * a) / Math.Sqrt(2 * Math.PI);
    public double NormalCdf(double a) => 0.5 * FloatMath.OnePlusErf(a / Math.Sqrt(2));
    // Also the interface's GreaterMask(a, b): on doubles the two signatures are one.
    public double GreaterMask(double a, double s) => a > s ? 1 : 0;
    public double KeepWhereGreater(double grad, double a, double s) => a > s ? grad : 0;
    public double EqualMask(double a, double b) => a == b ? 1 : 0;
    public double InRangeMask(double a, double? lo, double? hi) => (lo is null || a >= lo) && (hi is null || a <= hi) ? 1 : 0;
    public double ZerosLike(double a) => 0;
}
