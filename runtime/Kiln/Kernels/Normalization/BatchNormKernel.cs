using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Normalization;

/// <summary>
/// Batch norm over a contiguous [N, C, S] float32 tensor (S: the product of the spatial dims, 1 for [N, C]), one channel per
/// task: statistics in double, then y = (x - mean)·rstd·w + b; backward gives dw = Σ dy·x̂, db = Σ dy and
/// dx = w·rstd·(dy - (db + x̂·dw)/M) with the batch's statistics (M = N·S values per channel), or w·rstd·dy with fixed ones.
/// </summary>
internal static unsafe class BatchNormKernel
{
    /// <summary>Each channel's mean and biased variance (float32) of <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Statistics(float* x, long n, int c, long s, float* mean, float* variance)
    {
        Threads.For(c, 1, (c0, c1) =>
        {
            for (long ch = c0; ch < c1; ch++)
            {
                // The layer-norm kernel's run sums (eight lanes widened to double), over each sample's run of this channel.
                double sum = 0, sq = 0;
                for (long i = 0; i < n; i++) sum += LayerNormKernel.Sum(x + (i * c + ch) * s, (int)s);
                double mu = sum / (n * s);
                for (long i = 0; i < n; i++) sq += LayerNormKernel.SumSquaredDeviation(x + (i * c + ch) * s, (int)s, mu);
                mean[ch] = (float)mu;
                variance[ch] = (float)(sq / (n * s));
            }
        });
    }

    /// <summary>y = (x - mean)·rstd·w + b per channel (w, b may be null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normalize(float* x, float* y, long n, int c, long s, float* mean, float* rstd, float* w, float* b)
    {
        Threads.For(n * c, Math.Max(1, 16384 / Math.Max(1, s)), (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                int ch = (int)(r % c);
                float m = mean[ch], k = rstd[ch], scale = w == null ? 1f : w[ch], shift = b == null ? 0f : b[ch];
                float* xr = x + r * s, yr = y + r * s;
                long j = 0;
                // (x - mean)·rstd·w + b in eager's order of operations, eight lanes at a time.
                var vm = Vector256.Create(m); var vk = Vector256.Create(k); var vw = Vector256.Create(scale); var vb = Vector256.Create(shift);
                for (; j + 8 <= s; j += 8) ((Vector256.Load(xr + j) - vm) * vk * vw + vb).Store(yr + j);
                for (; j < s; j++) yr[j] = (xr[j] - m) * k * scale + shift;
            }
        });
    }

    /// <summary>The gradients of <see cref="Normalize"/>: dx (when not null), dw and db (when not null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(float* x, float* dy, float* dx, long n, int c, long s, float* mean, float* rstd, float* w, float* dw, float* db, bool batchStatistics)
    {
        Threads.For(c, 1, (c0, c1) =>
        {
            for (long ch = c0; ch < c1; ch++)
            {
                float m = mean[ch], k = rstd[ch];
                double sumG = 0, sumGX = 0;
                for (long i = 0; i < n; i++)
                {
                    float* xr = x + (i * c + ch) * s, gr = dy + (i * c + ch) * s;
                    for (long j = 0; j < s; j++) { sumG += gr[j]; sumGX += (double)gr[j] * ((xr[j] - m) * k); }
                }
                if (dw != null) dw[ch] = (float)sumGX;
                if (db != null) db[ch] = (float)sumG;
                if (dx == null) continue;
                double count = n * s;
                float scale = (w == null ? 1f : w[ch]) * k;
                float meanG = batchStatistics ? (float)(sumG / count) : 0f, meanGX = batchStatistics ? (float)(sumGX / count) : 0f;
                for (long i = 0; i < n; i++)
                {
                    float* xr = x + (i * c + ch) * s, gr = dy + (i * c + ch) * s, dr = dx + (i * c + ch) * s;
                    long j = 0;
                    var vs = Vector256.Create(scale); var vg = Vector256.Create(meanG); var vm = Vector256.Create(m); var vk = Vector256.Create(k); var vx = Vector256.Create(meanGX);
                    for (; j + 8 <= s; j += 8) (vs * (Vector256.Load(gr + j) - vg - (Vector256.Load(xr + j) - vm) * vk * vx)).Store(dr + j);
                    for (; j < s; j++) dr[j] = scale * (gr[j] - meanG - (xr[j] - m) * k * meanGX);
                }
            }
        });
    }
}
