using ILGPU;

namespace Kiln.Gpu.Kernels;

/// <summary>Scalars of one SGD step.</summary>
public struct SgdArgs
{
#pragma warning disable CS1591
    public float Lr, WeightDecay, Momentum, Dampening;
    public int FirstStep, Nesterov, Maximize, HasBuffer;
#pragma warning restore CS1591
}

/// <summary>Scalars of one Adam / AdamW step.</summary>
public struct AdamArgs
{
#pragma warning disable CS1591
    public float Lr, Beta1, Beta2, Eps, WeightDecay, StepSize, Bc2Sqrt;
    public int Decoupled, Maximize, AmsGrad;
#pragma warning restore CS1591
}

/// <summary>
/// The fused optimizer updates for float32 parameters on a CUDA device, one thread per element, with the CPU's scalar
/// loop's operations in its order (no contractions the CPU does not make), so both give the same numbers.
/// </summary>
public static class OptimizerKernels
{
    /// <summary>SGD with weight decay, momentum (the first step copies the gradient), dampening, Nesterov, maximize.</summary>
    [GpuKernel]
    public static void Sgd(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> buf, SgdArgs a)
    {
        float d = a.Maximize != 0 ? -g[i] : g[i];
        if (a.WeightDecay != 0) d += a.WeightDecay * p[i];
        if (a.HasBuffer != 0)
        {
            float b = a.FirstStep != 0 ? d : buf[i] * a.Momentum + (1f - a.Dampening) * d;
            buf[i] = b;
            d = a.Nesterov != 0 ? d + a.Momentum * b : b;
        }
        p[i] -= a.Lr * d;
    }

    /// <summary>Adam / AdamW with optional AMSGrad (<paramref name="vmax"/> read only when set).</summary>
    [GpuKernel]
    public static void Adam(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, ArrayView<float> vmax, AdamArgs a)
    {
        float grad = a.Maximize != 0 ? -g[i] : g[i];
        float param = p[i];
        if (a.WeightDecay != 0)
        {
            if (a.Decoupled != 0) param *= 1f - a.Lr * a.WeightDecay;
            else grad += a.WeightDecay * param;
        }
        float mi = m[i] * a.Beta1 + (1f - a.Beta1) * grad;
        float vi = v[i] * a.Beta2 + (1f - a.Beta2) * (grad * grad);
        m[i] = mi;
        v[i] = vi;
        if (a.AmsGrad != 0)
        {
            if (vmax[i] > vi) vi = vmax[i];
            vmax[i] = vi;
        }
        float denom = System.MathF.Sqrt(vi) / a.Bc2Sqrt + a.Eps;
        p[i] = param - a.StepSize * (mi / denom);
    }
}
