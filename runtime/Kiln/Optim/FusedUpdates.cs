using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Optim;

/// <summary>
/// The optimizers' update rules, each one loop that reads every buffer once and writes it once (the "fused" step),
/// split over the worker threads. Operation order follows PyTorch's single-tensor implementations so results match.
/// </summary>
internal static unsafe class FusedUpdates
{
    const long Grain = 1 << 15;

    /// <summary>SGD with weight decay, momentum (first step copies the gradient), dampening, Nesterov and maximize.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sgd<T>(long n, T* p, T* g, T* buf, bool firstStep, T lr, T wd, T momentum, T dampening, bool nesterov, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Threads.For(n, Grain, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s, e) =>
        {
            T oneMinusDamp = T.One - dampening;
            for (long i = s; i < e; i++)
            {
                T d = maximize ? -g[i] : g[i];
                if (wd != T.Zero) d += wd * p[i];
                if (buf != null)
                {
                    T b = firstStep ? d : buf[i] * momentum + oneMinusDamp * d;
                    buf[i] = b;
                    d = nesterov ? d + momentum * b : b;
                }
                p[i] -= lr * d;
            }
        });
    }

    /// <summary>Adam / AdamW: moments, optional AMSGrad maximum, bias-corrected step; <paramref name="decoupled"/> shrinks the weights first (AdamW).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Adam<T>(long n, T* p, T* g, T* m, T* v, T* vmax, T lr, T beta1, T beta2, T eps, T wd, bool decoupled, bool maximize,
        T stepSize, T bc2Sqrt) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Threads.For(n, Grain, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s, e) =>
        {
            T a1 = T.One - beta1, a2 = T.One - beta2, shrink = T.One - lr * wd;
            long i = s;
            if (typeof(T) == typeof(float) && vmax == null && Vector256.IsHardwareAccelerated)
                i = AdamLanes(s, e, (float*)p, (float*)g, (float*)m, (float*)v, float.CreateTruncating(beta1), float.CreateTruncating(beta2),
                    float.CreateTruncating(a1), float.CreateTruncating(a2), float.CreateTruncating(eps), float.CreateTruncating(wd),
                    float.CreateTruncating(shrink), decoupled, maximize, float.CreateTruncating(stepSize), float.CreateTruncating(bc2Sqrt));
            for (; i < e; i++)
            {
                T grad = maximize ? -g[i] : g[i];
                T param = p[i];
                if (wd != T.Zero)
                {
                    if (decoupled) param *= shrink;
                    else grad += wd * param;
                }
                T mi = m[i] * beta1 + a1 * grad;
                T vi = v[i] * beta2 + a2 * (grad * grad);
                m[i] = mi;
                v[i] = vi;
                if (vmax != null) { vi = T.Max(vmax[i], vi); vmax[i] = vi; }
                T denom = T.Sqrt(vi) / bc2Sqrt + eps;
                p[i] = param - stepSize * (mi / denom);
            }
        });
    }

    /// <summary>
    /// Adam's float update eight lanes at a time, with the scalar loop's operations in the scalar loop's order (no
    /// fused multiply-adds), so both give the same bits; returns where the scalar tail starts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static long AdamLanes(long s, long e, float* p, float* g, float* m, float* v, float beta1, float beta2, float a1, float a2, float eps,
        float wd, float shrink, bool decoupled, bool maximize, float stepSize, float bc2Sqrt)
    {
        var b1 = Vector256.Create(beta1); var b2 = Vector256.Create(beta2);
        var va1 = Vector256.Create(a1); var va2 = Vector256.Create(a2);
        var veps = Vector256.Create(eps); var vwd = Vector256.Create(wd); var vshrink = Vector256.Create(shrink);
        var vstep = Vector256.Create(stepSize); var vbc = Vector256.Create(bc2Sqrt);
        long i = s;
        for (; i + 8 <= e; i += 8)
        {
            var grad = Vector256.Load(g + i);
            if (maximize) grad = -grad;
            var param = Vector256.Load(p + i);
            if (wd != 0f)
            {
                if (decoupled) param *= vshrink;
                else grad += vwd * param;
            }
            var mi = Vector256.Load(m + i) * b1 + va1 * grad;
            var vi = Vector256.Load(v + i) * b2 + va2 * (grad * grad);
            mi.Store(m + i);
            vi.Store(v + i);
            var denom = Vector256.Sqrt(vi) / vbc + veps;
            (param - vstep * (mi / denom)).Store(p + i);
        }
        return i;
    }

    /// <summary>RMSprop with optional centring and momentum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsProp<T>(long n, T* p, T* g, T* sq, T* gAvg, T* buf, T lr, T alpha, T eps, T wd, T momentum, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Threads.For(n, Grain, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s, e) =>
        {
            T a1 = T.One - alpha;
            for (long i = s; i < e; i++)
            {
                T grad = maximize ? -g[i] : g[i];
                if (wd != T.Zero) grad += wd * p[i];
                T sqi = sq[i] * alpha + a1 * (grad * grad);
                sq[i] = sqi;
                T avg;
                if (gAvg != null)
                {
                    T ga = gAvg[i] * alpha + a1 * grad;
                    gAvg[i] = ga;
                    avg = T.Sqrt(sqi - ga * ga);
                }
                else avg = T.Sqrt(sqi);
                avg += eps;
                if (buf != null)
                {
                    T b = buf[i] * momentum + grad / avg;
                    buf[i] = b;
                    p[i] -= lr * b;
                }
                else p[i] -= lr * (grad / avg);
            }
        });
    }

    /// <summary>Adagrad: accumulated squared gradients scale each step; <paramref name="clr"/> already includes the lr decay.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Adagrad<T>(long n, T* p, T* g, T* sum, T clr, T eps, T wd, bool maximize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Threads.For(n, Grain, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s, e) =>
        {
            for (long i = s; i < e; i++)
            {
                T grad = maximize ? -g[i] : g[i];
                if (wd != T.Zero) grad += wd * p[i];
                T acc = sum[i] + grad * grad;
                sum[i] = acc;
                p[i] -= clr * (grad / (T.Sqrt(acc) + eps));
            }
        });
    }
}
