using System;

namespace Kiln;

// The window functions of torch (hann_window, hamming_window, blackman_window, bartlett_window, kaiser_window): each a
// formula over n = 0..N-1, worked out in double precision. A periodic window (the default, for spectral analysis) is
// the symmetric window of length + 1 with its last point dropped.
public sealed partial class Tensor
{
    /// <summary>The Hann window 0.5 - 0.5·cos(2πn/(N - 1)) (<c>torch.hann_window</c>).</summary>
    public static Tensor HannWindow(int windowLength, bool periodic = true, DType dtype = DType.Float32) =>
        Window("hann_window", windowLength, periodic, dtype, (n, last) => 0.5 - 0.5 * Math.Cos(2 * Math.PI * n / last));

    /// <summary>The Hamming window α - β·cos(2πn/(N - 1)) (<c>torch.hamming_window</c>).</summary>
    public static Tensor HammingWindow(int windowLength, bool periodic = true, double alpha = 0.54, double beta = 0.46, DType dtype = DType.Float32) =>
        Window("hamming_window", windowLength, periodic, dtype, (n, last) => alpha - beta * Math.Cos(2 * Math.PI * n / last));

    /// <summary>The Blackman window 0.42 - 0.5·cos(2πn/(N - 1)) + 0.08·cos(4πn/(N - 1)) (<c>torch.blackman_window</c>).</summary>
    public static Tensor BlackmanWindow(int windowLength, bool periodic = true, DType dtype = DType.Float32) =>
        Window("blackman_window", windowLength, periodic, dtype, (n, last) => 0.42 - 0.5 * Math.Cos(2 * Math.PI * n / last) + 0.08 * Math.Cos(4 * Math.PI * n / last));

    /// <summary>The Bartlett (triangular) window 1 - |2n/(N - 1) - 1| (<c>torch.bartlett_window</c>).</summary>
    public static Tensor BartlettWindow(int windowLength, bool periodic = true, DType dtype = DType.Float32) =>
        Window("bartlett_window", windowLength, periodic, dtype, (n, last) => 1 - Math.Abs(2 * n / last - 1));

    /// <summary>The Kaiser window I₀(β·√(1 - (2n/(N - 1) - 1)²)) / I₀(β) (<c>torch.kaiser_window</c>).</summary>
    public static Tensor KaiserWindow(int windowLength, bool periodic = true, double beta = 12.0, DType dtype = DType.Float32)
    {
        const string op = "kaiser_window";
        if (beta < 0) throw new KilnException(op, $"{op}: beta must be non-negative, got {beta}");
        if (windowLength == 1) return Ones([1], dtype);                // one point: 1, as every window
        using var radial = Window(op, windowLength, periodic, DType.Float64, (n, last) => beta * Math.Sqrt(Math.Max(0, 1 - Math.Pow(2 * n / last - 1, 2))));
        using var numerator = radial.I0();
        using var betaTensor = Full([], beta, DType.Float64);
        using var denominator = betaTensor.I0();
        using var window = numerator / denominator;
        return window.To(dtype);
    }

    /// <summary>The window of <paramref name="length"/> points from <paramref name="formula"/>(n, N - 1) of the symmetric window of N points.</summary>
    static Tensor Window(string op, int length, bool periodic, DType dtype, Func<double, double, double> formula)
    {
        if (length < 0) throw new KilnException(op, $"{op}: requires non-negative window_length, got window_length={length}", KilnErrorKind.Shape);
        if (!dtype.IsFloatingPoint()) throw new KilnException(op, $"{op}: expects floating point dtypes, got: {dtype}", KilnErrorKind.DType);
        var values = new double[length];
        if (length == 1) values[0] = 1;
        else
        {
            double last = periodic ? length : length - 1;           // N - 1 for N = length + 1 (periodic) or length
            for (int n = 0; n < length; n++) values[n] = formula(n, last);
        }
        using var wide = From(values, length);
        return wide.To(dtype);
    }
}
