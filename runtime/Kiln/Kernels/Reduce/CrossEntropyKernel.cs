using System;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Reduce;

/// <summary>
/// Log-softmax and negative log likelihood of rows of logits in one pass, as compiled models run cross entropy: forward
/// keeps each row's log-sum-exp and never writes the log-probabilities; backward forms (softmax - one-hot)·scale from the
/// logits and that log-sum-exp. Rows whose target is the ignore index add nothing and get a zero gradient.
/// </summary>
internal static unsafe class CrossEntropyKernel
{
    /// <summary>The index of the first target outside [0, classes) that is not <paramref name="ignore"/>, or -1.</summary>
    public static long FirstBadTarget(long* target, long rows, int classes, long ignore)
    {
        for (long r = 0; r < rows; r++)
            if (target[r] != ignore && (target[r] < 0 || target[r] >= classes)) return r;
        return -1;
    }

    /// <summary>Each row's log-sum-exp into <paramref name="lse"/>; returns Σ (lse - x[target]) over the rows kept and their count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double Sum, long Count) Forward(float* x, long* target, float* lse, long rows, int classes, long ignore)
    {
        var partial = new double[rows];
        Threads.For(rows, Math.Max(1, 16384 / Math.Max(1, classes)), (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                float* row = x + r * classes;
                float m = float.NegativeInfinity;
                for (int j = 0; j < classes; j++) m = MathF.Max(m, row[j]);
                if (float.IsNegativeInfinity(m)) m = 0;
                double s = 0;
                for (int j = 0; j < classes; j++) s += MathF.Exp(row[j] - m);
                float shift = m + (float)Math.Log(s);
                lse[r] = shift;
                partial[r] = target[r] == ignore ? 0 : shift - row[target[r]];
            }
        });
        double sum = 0;
        long count = 0;
        for (long r = 0; r < rows; r++) { sum += partial[r]; if (target[r] != ignore) count++; }
        return (sum, count);
    }

    /// <summary>dx = (exp(x - lse) - one-hot(target))·scale for kept rows, 0 for ignored ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(float* x, long* target, float* lse, float* dx, long rows, int classes, long ignore, float scale)
    {
        Threads.For(rows, Math.Max(1, 16384 / Math.Max(1, classes)), (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                float* row = x + r * classes, d = dx + r * classes;
                if (target[r] == ignore) { new Span<float>(d, classes).Clear(); continue; }
                float shift = lse[r];
                for (int j = 0; j < classes; j++) d[j] = MathF.Exp(row[j] - shift) * scale;
                d[target[r]] -= scale;
            }
        });
    }
}
