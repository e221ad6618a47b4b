using ILGPU;
using ILGPU.Runtime;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// Row reductions over a contiguous [rows, length] matrix — the shape every reduction is brought to (the host moves the
/// reduced dims last). One group of threads per row (<see cref="GroupSize"/> on a GPU; the kernels read the size from the
/// launch, a power of two up to that, as the emulator launches fewer): a strided pass, then a tree in shared memory.
/// Floats accumulate in double and integers in long, as the CPU's row kernels do.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class RowKernels
{
    /// <summary>Threads per row group on a GPU, and the most any launch may use (the shared arrays' length).</summary>
    public const int GroupSize = 256;

    /// <summary>Row operation codes.</summary>
    public const int Sum = 0, Mean = 1, LogSumExp = 2, Prod = 3;

    /// <summary>
    /// y[row] = sum / mean / log-sum-exp / product of the row. With <paramref name="splits"/> &gt; 1 (few long rows: one
    /// group per row would leave most of the device idle) group g reduces part g % splits of row g / splits into the
    /// partials <paramref name="pd"/>/<paramref name="pl"/> (double / long, so nothing rounds to T before the end) and
    /// <see cref="FinishSplit{T, TN}"/> combines them; log-sum-exp always runs with one split.
    /// </summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(int), typeof(I32)), GpuKernel(typeof(long), typeof(I64))]
    public static void Reduce<T, TN>(ArrayView<T> x, ArrayView<T> y, ArrayView<double> pd, ArrayView<long> pl, long length, int op, int splits)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        var sd = SharedMemory.Allocate<double>(GroupSize);
        var sl = SharedMemory.Allocate<long>(GroupSize);
        int t = Group.IdxX;
        long g = Grid.IdxX, row = g / splits, part = g - row * splits;
        long start = row * length + part * length / splits, count = (part + 1) * length / splits - part * length / splits;
        double max = 0;
        if (op == LogSumExp)
        {
            max = RowBound<T, TN>(x, start, length, sd, true);
            if (double.IsInfinity(max)) max = 0;
        }
        bool product = op == Prod;
        double accD = product ? 1 : 0;
        long accL = product ? 1 : 0;
        for (long j = t; j < count; j += Group.DimX) Accumulate<T, TN>(x[start + j], op, max, ref accD, ref accL);
        sd[t] = accD;
        sl[t] = accL;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s)
            {
                if (product) { sd[t] *= sd[t + s]; sl[t] *= sl[t + s]; }
                else { sd[t] += sd[t + s]; sl[t] += sl[t + s]; }
            }
            Group.Barrier();
        }
        if (t != 0) return;
        if (splits > 1) { pd[g] = sd[0]; pl[g] = sl[0]; return; }
        y[row] = Result<T, TN>(sd[0], sl[0], length, op, max);
    }

    /// <summary>Folds one element into a row's accumulators: double for floats, long for integers, log-sum-exp shifted by <paramref name="max"/>.</summary>
    static void Accumulate<T, TN>(T v, int op, double max, ref double d, ref long l)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        var n = default(TN);
        if (op == LogSumExp) d += GpuMath.Exp(n.ToDouble(v) - max);
        else if (op == Prod) { d *= n.ToDouble(v); l *= n.ToLong(v); }
        else if (n.IsFloat) d += n.ToDouble(v);
        else l += n.ToLong(v);
    }

    /// <summary>A row's result from its accumulators.</summary>
    static T Result<T, TN>(double d, long l, long length, int op, double max)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        var n = default(TN);
        if (op == LogSumExp) return n.FromDouble(GpuMath.Log(d) + max);
        if (op == Mean) return n.FromDouble(d / length);
        return n.IsFloat ? n.FromDouble(d) : n.FromLong(l);
    }

    /// <summary>Rows up to this long are reduced one thread per row by <see cref="ShortRows{T, TN}"/>.</summary>
    public const int ShortRowLength = 32;

    /// <summary>
    /// y[row] = sum / mean / log-sum-exp / product of a short row (at most <see cref="ShortRowLength"/>), one thread per
    /// row. A reduction over a leading dim (a bias gradient, a batch sum) becomes many rows of a few elements: a group of
    /// <see cref="GroupSize"/> threads per row left all but a few idle and paid the whole shared-memory tree for each.
    /// Same accumulation as <see cref="Reduce{T, TN}"/>: double or long, log-sum-exp shifted by the row's maximum.
    /// </summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(int), typeof(I32)), GpuKernel(typeof(long), typeof(I64))]
    public static void ShortRows<T, TN>(Index1D row, ArrayView<T> x, ArrayView<T> y, long length, int op)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        long start = (long)(int)row * length;
        double max = 0;
        if (op == LogSumExp)
        {
            max = ShortBound<T, TN>(x, start, length, true);
            if (double.IsInfinity(max)) max = 0;
        }
        double accD = op == Prod ? 1 : 0;
        long accL = op == Prod ? 1 : 0;
        for (long j = 0; j < length; j++) Accumulate<T, TN>(x[start + j], op, max, ref accD, ref accL);
        y[row] = Result<T, TN>(accD, accL, length, op, max);
    }

    /// <summary>y[row] from the <paramref name="splits"/> partials of <see cref="Reduce{T, TN}"/> (sum, mean or product); one thread per row.</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(int), typeof(I32)), GpuKernel(typeof(long), typeof(I64))]
    public static void FinishSplit<T, TN>(Index1D row, ArrayView<T> y, ArrayView<double> pd, ArrayView<long> pl, long length, int op, int splits)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        bool product = op == Prod;
        double d = product ? 1 : 0;
        long l = product ? 1 : 0;
        for (long s = (long)(int)row * splits, end = s + splits; s < end; s++)
        {
            if (product) { d *= pd[s]; l *= pl[s]; }
            else { d += pd[s]; l += pl[s]; }
        }
        y[row] = Result<T, TN>(d, l, length, op, 0);
    }

    /// <summary>Each row of contiguous x [rows, length] replaced by its running sum (floats accumulate in double, as on the CPU); one thread per row.</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(long), typeof(I64))]
    public static void CumSum<T, TN>(Index1D row, ArrayView<T> x, long length)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        var n = default(TN);
        long start = row * length;
        double accD = 0;
        long accL = 0;
        for (long j = 0; j < length; j++)
        {
            if (n.IsFloat) { accD += n.ToDouble(x[start + j]); x[start + j] = n.FromDouble(accD); }
            else { accL += n.ToLong(x[start + j]); x[start + j] = n.FromLong(accL); }
        }
    }

    /// <summary>The row's maximum (or minimum) as double (∓inf for an empty row; NaN wins), left in every thread.</summary>
    static double RowBound<T, TN>(ArrayView<T> x, long start, long length, ArrayView<double> sd, bool max)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        int t = Group.IdxX;
        double m = max ? double.NegativeInfinity : double.PositiveInfinity;
        for (long j = t; j < length; j += Group.DimX)
        {
            double v = default(TN).ToDouble(x[start + j]);
            if (Beyond(v, m, max)) m = v;
        }
        sd[t] = m;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s)
            {
                double o = sd[t + s];
                if (Beyond(o, sd[t], max)) sd[t] = o;
            }
            Group.Barrier();
        }
        double r = sd[0];
        Group.Barrier();
        return r;
    }

    /// <summary><see cref="RowBound{T, TN}"/> for a short row, by one thread.</summary>
    static double ShortBound<T, TN>(ArrayView<T> x, long start, long length, bool max)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        double m = max ? double.NegativeInfinity : double.PositiveInfinity;
        for (long j = 0; j < length; j++)
        {
            double v = default(TN).ToDouble(x[start + j]);
            if (Beyond(v, m, max)) m = v;
        }
        return m;
    }

    /// <summary>Whether v replaces the bound m: larger (smaller), or NaN (NaN wins).</summary>
    static bool Beyond(double v, double m, bool max) => (max ? v > m : v < m) || double.IsNaN(v);

    /// <summary>values[row], indices[row] = the row's max (or min) and its first index; NaN counts as the extreme.</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(int), typeof(I32)), GpuKernel(typeof(long), typeof(I64))]
    public static void Extreme<T, TN>(ArrayView<T> x, ArrayView<T> values, ArrayView<long> indices, long length, int max)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        var sv = SharedMemory.Allocate<double>(GroupSize);
        var si = SharedMemory.Allocate<long>(GroupSize);
        int t = Group.IdxX;
        long row = Grid.IdxX, start = row * length;
        double best = 0;
        long bestAt = -1;
        for (long j = t; j < length; j += Group.DimX)
        {
            double v = default(TN).ToDouble(x[start + j]);
            if (bestAt < 0 || Better(v, j, best, bestAt, max != 0)) { best = v; bestAt = j; }
        }
        sv[t] = best;
        si[t] = bestAt;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s && si[t + s] >= 0 && (si[t] < 0 || Better(sv[t + s], si[t + s], sv[t], si[t], max != 0)))
            {
                sv[t] = sv[t + s];
                si[t] = si[t + s];
            }
            Group.Barrier();
        }
        if (t != 0) return;
        indices[row] = si[0];
        values[row] = x[start + si[0]];
    }

    /// <summary><see cref="Extreme{T, TN}"/> for short rows (at most <see cref="ShortRowLength"/>), one thread per row.</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(int), typeof(I32)), GpuKernel(typeof(long), typeof(I64))]
    public static void ShortExtreme<T, TN>(Index1D row, ArrayView<T> x, ArrayView<T> values, ArrayView<long> indices, long length, int max)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        long start = (long)(int)row * length, bestAt = 0;
        double best = default(TN).ToDouble(x[start]);
        for (long j = 1; j < length; j++)
        {
            double v = default(TN).ToDouble(x[start + j]);
            if (Better(v, j, best, bestAt, max != 0)) { best = v; bestAt = j; }
        }
        indices[row] = bestAt;
        values[row] = x[start + bestAt];
    }

    /// <summary>Whether (a at ia) beats (b at ib): NaN wins, then the larger (smaller), then the earlier index.</summary>
    static bool Better(double a, long ia, double b, long ib, bool max)
    {
        bool an = double.IsNaN(a), bn = double.IsNaN(b);
        if (an || bn) return an && (!bn || ia < ib);
        if (a == b) return ia < ib;
        return max ? a > b : a < b;
    }

    /// <summary>y = softmax or log-softmax of x·scale along each row (max-subtracted, double sums).</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64))]
    public static void Softmax<T, TN>(ArrayView<T> x, ArrayView<T> y, long length, int log, double scale)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        var sd = SharedMemory.Allocate<double>(GroupSize);
        int t = Group.IdxX;
        long row = Grid.IdxX, start = row * length;
        var n = default(TN);
        // The largest of x·scale: the row's max, or its min for a negative scale.
        double max = RowBound<T, TN>(x, start, length, sd, scale >= 0) * scale;
        double acc = 0;
        for (long j = t; j < length; j += Group.DimX) acc += GpuMath.Exp(n.ToDouble(x[start + j]) * scale - max);
        sd[t] = acc;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) sd[t] += sd[t + s];
            Group.Barrier();
        }
        double sum = sd[0], logSum = GpuMath.Log(sum);
        for (long j = t; j < length; j += Group.DimX)
        {
            double z = n.ToDouble(x[start + j]) * scale - max;
            y[start + j] = n.FromDouble(log != 0 ? z - logSum : GpuMath.Exp(z) / sum);
        }
    }

    /// <summary><see cref="Softmax{T, TN}"/> for short rows (at most <see cref="ShortRowLength"/>), one thread per row.</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64))]
    public static void ShortSoftmax<T, TN>(Index1D row, ArrayView<T> x, ArrayView<T> y, long length, int log, double scale)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        var n = default(TN);
        long start = (long)(int)row * length;
        double max = ShortBound<T, TN>(x, start, length, scale >= 0) * scale, sum = 0;
        for (long j = 0; j < length; j++) sum += GpuMath.Exp(n.ToDouble(x[start + j]) * scale - max);
        double logSum = GpuMath.Log(sum);
        for (long j = 0; j < length; j++)
        {
            double z = n.ToDouble(x[start + j]) * scale - max;
            y[start + j] = n.FromDouble(log != 0 ? z - logSum : GpuMath.Exp(z) / sum);
        }
    }
}
