using Kiln.Gpu.Kernels;

namespace Kiln.Compilation;

public static partial class CompiledOps
{
    /// <summary>
    /// The double functions a generated GPU kernel body calls (the op table's formulas printed for ILGPU): the runtime's
    /// <see cref="GpuMath"/>, which avoids ILGPU's CORDIC lowering of exp/log/tanh/pow. Part of the generated-code contract.
    /// </summary>
    public static class GpuFunctions
    {
#pragma warning disable CS1591 // each is GpuMath's function of the same name
        public static double Exp(double x) => GpuMath.Exp(x);
        public static double Log(double x) => GpuMath.Log(x);
        public static double Tanh(double x) => GpuMath.Tanh(x);
        public static double Pow(double x, double y) => GpuMath.Pow(x, y);
        public static double Sqrt(double x) => GpuMath.Sqrt(x);
        public static double Sin(double x) => GpuMath.Sin(x);
        public static double Cos(double x) => GpuMath.Cos(x);
        public static double Asin(double x) => GpuMath.Asin(x);
        public static double Acos(double x) => GpuMath.Acos(x);
        public static double Atan(double x) => GpuMath.Atan(x);
        public static double Atan2(double y, double x) => GpuMath.Atan2(y, x);
        public static double Floor(double x) => GpuMath.Floor(x);
        public static double Ceiling(double x) => GpuMath.Ceiling(x);
        public static double Abs(double x) => GpuMath.Abs(x);
        public static double Max(double a, double b) => GpuMath.Max(a, b);
        public static double Min(double a, double b) => GpuMath.Min(a, b);
        public static double Log1p(double x) => GpuMath.Log1p(x);
        /// <summary>e^x - 1, accurate near 0.</summary>
        public static double Expm1(double x) => GpuMath.Expm1(x);
        public static double Sigmoid(double x) => GpuMath.Sigmoid(x);
        public static double Erf(double x) => GpuMath.Erf(x);
        public static double OnePlusErf(double x) => GpuMath.OnePlusErf(x);
        public static double RoundHalfEven(double x) => GpuMath.RoundHalfEven(x);
        public static double Trunc(double x) => GpuMath.Trunc(x);
#pragma warning restore CS1591
    }
}
