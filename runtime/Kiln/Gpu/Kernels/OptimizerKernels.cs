using ILGPU;

namespace Kiln.Gpu.Kernels;

/// <summary>Scalars of one SGD step.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct SgdArgs
{
#pragma warning disable CS1591
    public float Lr, WeightDecay, Momentum, Dampening;
    public int FirstStep, Nesterov, Maximize, HasBuffer;
#pragma warning restore CS1591
}

/// <summary>Scalars of one Adam / AdamW step.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct AdamArgs
{
#pragma warning disable CS1591
    public float Lr, Beta1, Beta2, Eps, WeightDecay, StepSize, Bc2Sqrt;
    public int Decoupled, Maximize, AmsGrad;
#pragma warning restore CS1591
}

/// <summary>Scalars of one RMSprop step.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct RmsPropArgs
{
#pragma warning disable CS1591
    public float Lr, Alpha, Eps, WeightDecay, Momentum;
    public int Maximize, Centered, HasBuffer;
#pragma warning restore CS1591
}

/// <summary>Scalars of one Adagrad step (the learning rate already decayed).</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct AdagradArgs
{
#pragma warning disable CS1591
    public float Lr, Eps, WeightDecay;
    public int Maximize;
#pragma warning restore CS1591
}

/// <summary>
/// The fused optimizer updates for float32 parameters on a CUDA device, one thread per element, with the CPU's scalar
/// loop's operations in its order (no contractions the CPU does not make), so both give the same numbers.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
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

    /// <summary>RMSprop, optionally centred (<paramref name="gAvg"/>) and with momentum (<paramref name="buf"/>).</summary>
    [GpuKernel]
    public static void RmsProp(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> sq, ArrayView<float> gAvg, ArrayView<float> buf, RmsPropArgs a)
    {
        float grad = a.Maximize != 0 ? -g[i] : g[i];
        if (a.WeightDecay != 0) grad += a.WeightDecay * p[i];
        float a1 = 1f - a.Alpha;
        float sqi = sq[i] * a.Alpha + a1 * (grad * grad);
        sq[i] = sqi;
        float avg;
        if (a.Centered != 0)
        {
            float ga = gAvg[i] * a.Alpha + a1 * grad;
            gAvg[i] = ga;
            avg = System.MathF.Sqrt(sqi - ga * ga);
        }
        else avg = System.MathF.Sqrt(sqi);
        avg += a.Eps;
        if (a.HasBuffer != 0)
        {
            float b = buf[i] * a.Momentum + grad / avg;
            buf[i] = b;
            p[i] -= a.Lr * b;
        }
        else p[i] -= a.Lr * (grad / avg);
    }

    /// <summary>Adagrad: the squared-gradient sum and a step scaled by its root.</summary>
    [GpuKernel]
    public static void Adagrad(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> sum, AdagradArgs a)
    {
        float grad = a.Maximize != 0 ? -g[i] : g[i];
        if (a.WeightDecay != 0) grad += a.WeightDecay * p[i];
        float acc = sum[i] + grad * grad;
        sum[i] = acc;
        p[i] -= a.Lr * (grad / (System.MathF.Sqrt(acc) + a.Eps));
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
