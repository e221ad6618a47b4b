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
internal static unsafe class AvgPoolKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Each output's window mean into <paramref name="y"/> [planes, OH, OW] from <paramref name="x"/> [planes, H, W].</summary>
    public static void Forward(T* x, T* y, AvgPoolShape s) => EachWindow<Mean>(x, y, s);

    /// <summary><paramref name="gradX"/> [planes, H, W] (zeroed) += each output gradient divided over its window.</summary>
    public static void Backward(T* gradY, T* gradX, AvgPoolShape s) => EachWindow<Spread>(gradX, gradY, s);

    /// <summary>What is done with one window, given its top-left input cell (rows × columns, rows stride apart) and its output.</summary>
    interface IWindowOp
    {
        static abstract void Apply(T* cells, int rows, int columns, int stride, T* output, T divisor);
    }

    /// <summary>output = Σ cells / divisor (divided, as PyTorch, not multiplied by a reciprocal).</summary>
    readonly struct Mean : IWindowOp
    {
        public static void Apply(T* cells, int rows, int columns, int stride, T* output, T divisor)
        {
            T sum = T.Zero;
            for (int r = 0; r < rows; r++, cells += stride)
                for (int c = 0; c < columns; c++) sum += cells[c];
            *output = sum / divisor;
        }
    }

    /// <summary>cells += output / divisor.</summary>
    readonly struct Spread : IWindowOp
    {
        public static void Apply(T* cells, int rows, int columns, int stride, T* output, T divisor)
        {
            T share = *output / divisor;
            for (int r = 0; r < rows; r++, cells += stride)
                for (int c = 0; c < columns; c++) cells[c] += share;
        }
    }

    /// <summary>Every window of every plane of <paramref name="inputs"/> [planes, H, W] with its output in <paramref name="outputs"/> [planes, OH, OW], planes over the threads.</summary>
    static void EachWindow<TOp>(T* inputs, T* outputs, AvgPoolShape s) where TOp : struct, IWindowOp
    {
        var windows = Windows.Of(s);
        T* xs = inputs, ys = outputs;
        Threads.For(s.Planes, Math.Max(1, 16384 / Math.Max(1, (long)s.H * s.W)), (p0, p1) =>
        {
            for (long p = p0; p < p1; p++)
            {
                T* plane = xs + p * s.H * s.W;
                T* o = ys + p * s.OH * s.OW;
                for (int i = 0; i < s.OH; i++)
                {
                    int h0 = windows.H0[i], rows = windows.H1[i] - h0;
                    for (int j = 0; j < s.OW; j++)
                        TOp.Apply(plane + (long)h0 * s.W + windows.W0[j], rows, windows.W1[j] - windows.W0[j], s.W, o + i * s.OW + j, windows.Divisor(i, j));
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
        T[] _divisor = [];
        int _ow;

        public T Divisor(int i, int j) => _divisor[i * _ow + j];

        public static Windows Of(in AvgPoolShape s)
        {
            var w = new Windows { H0 = new int[s.OH], H1 = new int[s.OH], W0 = new int[s.OW], W1 = new int[s.OW], _divisor = new T[s.OH * s.OW], _ow = s.OW };
            for (int i = 0; i < s.OH; i++)
                for (int j = 0; j < s.OW; j++)
                {
                    var (h0, h1, w0, w1, divisor) = Window(s, i, j);
                    w.H0[i] = h0; w.H1[i] = h1; w.W0[j] = w0; w.W1[j] = w1;
                    w._divisor[i * s.OW + j] = divisor;
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
