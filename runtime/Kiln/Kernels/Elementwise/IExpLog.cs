using System;

namespace Kiln.Kernels.Elementwise;

/// <summary>
/// The exp and log a scalar special function (log1p, erf, sigmoid) is written over, so one formula serves the CPU (the
/// BCL's) and GPU kernels (<see cref="Gpu.Kernels.GpuMath"/>'s, where ILGPU's own are slow).
/// </summary>
internal interface IExpLog
{
    /// <summary>e^x.</summary>
    double Exp(double x);
    /// <summary>ln x.</summary>
    double Log(double x);
}

/// <summary>The BCL's <see cref="Math.Exp"/> and <see cref="Math.Log(double)"/>.</summary>
internal readonly struct SystemExpLog : IExpLog
{
    public double Exp(double x) => Math.Exp(x);
    public double Log(double x) => Math.Log(x);
}
