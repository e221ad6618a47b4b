using System;
using System.Numerics;
using Kiln.Compiler.Shapes;

namespace Kiln.Kernels.Pooling;

/// <summary>The sizes and rules of one <c>avg_pool2d</c> call (dilation is 1 for average pools; the same for every element type).</summary>
internal readonly record struct AvgPoolShape(long Planes, int H, int W, int OH, int OW, ConvGeometry G, bool CountIncludePad, int? Divisor);

/// <summary>
/// 2-D average pooling straight over the input planes, with PyTorch's divisor rule: a window's size counts the padding it
/// covers (not the cells past the padding a ceil-mode window reaches) unless count_include_pad is off, then only the
/// input cells; a divisor override replaces both. The backward spreads each output's gradient over its window.
/// </summary>
/// <remarks>
/// Both directions work an output row at a time through one row of the input's width: the forward adds the window's input
/// rows into it (vector adds along the row), then sums each output's few columns from it; the backward spreads each
/// output's share over its columns there, then adds it into the window's input rows. Windows overlap along a column by
/// kernel - stride rows at most, so this reads each input row kernel / stride times in whole vectors instead of every
/// cell kernel² / stride² times alone.
/// </remarks>
internal static unsafe class AvgPoolKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Each output's window mean into <paramref name="y"/> [planes, OH, OW] from <paramref name="x"/> [planes, H, W].</summary>
    public static void Forward(T* x, T* y, AvgPoolShape s) => EachOutputRow<Mean>(x, y, s);

    /// <summary><paramref name="gradX"/> [planes, H, W] = each output gradient divided over its window (any contents are overwritten).</summary>
    public static void Backward(T* gradY, T* gradX, AvgPoolShape s) => EachOutputRow<Spread>(gradX, gradY, s);

    /// <summary>What is done for one output row, given its window's first input row (rows of width W) and a row buffer of width W.</summary>
    interface IRowOp
    {
        /// <summary>Whether the op adds into the input planes, which are then zeroed first (each by the thread that fills it, while it is in cache).</summary>
        static abstract bool WritesInput { get; }

        static abstract void Apply(T* cells, int rows, int width, T* row, T* output, T* divisors, Windows windows);
    }

    /// <summary>row = Σ window rows; output[j] = Σ row[W0[j]..W1[j]) / divisor (divided, as PyTorch, not multiplied by a reciprocal).</summary>
    readonly struct Mean : IRowOp
    {
        public static bool WritesInput => false;

        public static void Apply(T* cells, int rows, int width, T* row, T* output, T* divisors, Windows windows)
        {
            new Span<T>(row, width).Clear();
            for (int r = 0; r < rows; r++, cells += width) RowVectors<T>.Add(row, cells, width);
            int[] w0 = windows.W0, w1 = windows.W1;
            for (int j = 0; j < w0.Length; j++)
            {
                T sum = T.Zero;
                for (int c = w0[j]; c < w1[j]; c++) sum += row[c];
                output[j] = sum;
            }
            RowVectors<T>.Divide(output, output, divisors, w0.Length);
        }
    }

    /// <summary>row[W0[j]..W1[j]) += output[j] / divisor; each window row += row.</summary>
    readonly struct Spread : IRowOp
    {
        public static bool WritesInput => true;

        public static void Apply(T* cells, int rows, int width, T* row, T* output, T* divisors, Windows windows)
        {
            new Span<T>(row, width).Clear();
            int[] w0 = windows.W0, w1 = windows.W1;
            for (int j = 0; j < w0.Length; j++)
            {
                T share = output[j] / divisors[j];
                for (int c = w0[j]; c < w1[j]; c++) row[c] += share;
            }
            for (int r = 0; r < rows; r++, cells += width) RowVectors<T>.Add(cells, row, width);
        }
    }

    /// <summary>Every output row of every plane of <paramref name="inputs"/> [planes, H, W] with <paramref name="outputs"/> [planes, OH, OW], planes over the threads.</summary>
    static void EachOutputRow<TOp>(T* inputs, T* outputs, AvgPoolShape s) where TOp : struct, IRowOp
    {
        var windows = Windows.Of(s);
        T* xs = inputs, ys = outputs;
        Threads.For(s.Planes, Math.Max(1, 16384 / Math.Max(1, (long)s.H * s.W)), (p0, p1) =>
        {
            var buffer = new T[s.W];   // one row per share of planes, not per window
            fixed (T* row = buffer)
            fixed (T* divisors = windows.Divisors)
                for (long p = p0; p < p1; p++)
                {
                    T* plane = xs + p * s.H * s.W;
                    T* o = ys + p * s.OH * s.OW;
                    if (TOp.WritesInput) new Span<T>(plane, s.H * s.W).Clear();
                    for (int i = 0; i < s.OH; i++)
                    {
                        int h0 = windows.H0[i];
                        TOp.Apply(plane + (long)h0 * s.W, windows.H1[i] - h0, s.W, row, o + i * s.OW, divisors + i * s.OW, windows);
                    }
                }
        });
    }

    /// <summary>
    /// Every output row's and column's window inside the input, and each output's divisor — the same for every plane, so
    /// worked out once per call.
    /// </summary>
    sealed class Windows
    {
        public int[] H0 = [], H1 = [], W0 = [], W1 = [];

        /// <summary>Output (i, j)'s divisor at i · OW + j.</summary>
        public T[] Divisors = [];

        public static Windows Of(in AvgPoolShape s)
        {
            var w = new Windows { H0 = new int[s.OH], H1 = new int[s.OH], W0 = new int[s.OW], W1 = new int[s.OW], Divisors = new T[s.OH * s.OW] };
            for (int i = 0; i < s.OH; i++)
                for (int j = 0; j < s.OW; j++)
                {
                    var (h0, h1, w0, w1, divisor) = Window(s, i, j);
                    w.H0[i] = h0; w.H1[i] = h1; w.W0[j] = w0; w.W1[j] = w1;
                    w.Divisors[i * s.OW + j] = divisor;
                }
            return w;
        }
    }

    /// <summary>Output (i, j)'s window inside the input, and its divisor.</summary>
    static (int H0, int H1, int W0, int W1, T Divisor) Window(in AvgPoolShape s, int i, int j)
    {
        var g = s.G;
        int h0 = i * g.SH - g.PH, w0 = j * g.SW - g.PW;
        int h1 = Math.Min(h0 + g.KH, s.H + g.PH), w1 = Math.Min(w0 + g.KW, s.W + g.PW);
        int padded = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0);
        h1 = Math.Min(h1, s.H); w1 = Math.Min(w1, s.W);
        int divisor = s.Divisor ?? (s.CountIncludePad ? padded : (h1 - h0) * (w1 - w0));
        return (h0, h1, w0, w1, T.CreateChecked(divisor));
    }
}
