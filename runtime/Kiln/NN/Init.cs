using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

/// <summary>
/// In-place weight initialisers with PyTorch's fan and gain rules (<c>torch.nn.init</c>). Each fills the tensor
/// without recording autograd and returns it.
/// </summary>
public static class Init
{
    [ThreadStatic] static int _skip;

    /// <summary>
    /// Until the handle is disposed, the initialisers on this thread leave tensors as they are (like accelerate's
    /// <c>init_empty_weights</c> or <c>torch.nn.utils.skip_init</c>): building a model whose weights are about to be
    /// loaded then neither spends time on random draws nor touches (commits) the memory of weights that get replaced.
    /// </summary>
    public static IDisposable SkipInit()
    {
        _skip++;
        return new SkipScope();
    }

    /// <summary>True inside <see cref="SkipInit"/> on this thread.</summary>
    public static bool Skipping => _skip > 0;

    sealed class SkipScope : IDisposable
    {
        bool _done;
        public void Dispose() { if (!_done) { _done = true; _skip--; } }
    }

    /// <summary>fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (<c>_calculate_fan_in_and_fan_out</c>).</summary>
    public static (int FanIn, int FanOut) CalculateFans(Tensor t)
    {
        if (t.Dim < 2)
            throw new KilnException("init", $"init: Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (shape {ShapeText.Format(t.ShapeArray)})", KilnErrorKind.Shape);
        int receptive = 1;
        for (int i = 2; i < t.Dim; i++) receptive *= t.Size(i);
        return (t.Size(1) * receptive, t.Size(0) * receptive);
    }

    /// <summary>The recommended gain for a nonlinearity (<c>calculate_gain</c>): linear/conv/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1+a²)), selu 3/4.</summary>
    public static double CalculateGain(string nonlinearity, double? param = null) => nonlinearity switch
    {
        "linear" or "conv1d" or "conv2d" or "conv3d" or "conv_transpose1d" or "conv_transpose2d" or "conv_transpose3d" or "sigmoid" => 1,
        "tanh" => 5.0 / 3,
        "relu" => Math.Sqrt(2.0),
        "leaky_relu" => Math.Sqrt(2.0 / (1 + Math.Pow(param ?? 0.01, 2))),
        "selu" => 3.0 / 4,
        _ => throw new KilnException("calculate_gain", $"calculate_gain: Unsupported nonlinearity {nonlinearity}", KilnErrorKind.Unsupported),
    };

    /// <summary>Fills with U(low, high).</summary>
    public static Tensor Uniform_(Tensor t, double low = 0, double high = 1, Generator? generator = null) =>
        Skipping ? t : Fill(t, Tensor.Uniform(t.ShapeArray, low, high, t.DType, generator));

    /// <summary>Fills with N(mean, std²).</summary>
    public static Tensor Normal_(Tensor t, double mean = 0, double std = 1, Generator? generator = null) =>
        Skipping ? t : Fill(t, Tensor.Normal(t.ShapeArray, mean, std, t.DType, generator));

    /// <summary>Fills with N(mean, std²) truncated to [a, b] by inverse-CDF sampling (<c>trunc_normal_</c>).</summary>
    public static Tensor TruncNormal_(Tensor t, double mean = 0, double std = 1, double a = -2, double b = 2, Generator? generator = null)
    {
        if (a >= b) throw new KilnException("trunc_normal_", $"trunc_normal_: expected a < b, got a={a}, b={b}");
        if (Skipping) return t;
        double lo = NormCdf((a - mean) / std), hi = NormCdf((b - mean) / std);
        using var u = Tensor.Uniform(t.ShapeArray, 2 * lo - 1, 2 * hi - 1, DType.Float64, generator);
        var values = u.ToArray<double>();
        for (int i = 0; i < values.Length; i++)
            values[i] = Math.Clamp(mean + std * Math.Sqrt(2) * ErfInv(values[i]), a, b);
        using var d = Tensor.From(values, t.ShapeArray);
        return Fill(t, d.To(t.DType));
    }

    /// <summary>Fills with a constant.</summary>
    public static Tensor Constant_(Tensor t, double value)
    {
        if (Skipping) return t;
        using (Autograd.NoGrad()) t.Fill_(value);
        return t;
    }

    /// <summary>Fills with zeros.</summary>
    public static Tensor Zeros_(Tensor t) => Constant_(t, 0);

    /// <summary>Fills with ones.</summary>
    public static Tensor Ones_(Tensor t) => Constant_(t, 1);

    /// <summary>U(-b, b) with b = gain·√(6 / (fan_in + fan_out)) (Glorot).</summary>
    public static Tensor XavierUniform_(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = CalculateFans(t);
        double bound = gain * Math.Sqrt(6.0 / (fi + fo));
        return Uniform_(t, -bound, bound, generator);
    }

    /// <summary>N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal_(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = CalculateFans(t);
        return Normal_(t, 0, gain * Math.Sqrt(2.0 / (fi + fo)), generator);
    }

    /// <summary>U(-b, b) with b = gain·√(3 / fan) (He); <paramref name="a"/> is the leaky-relu slope, mode "fan_in" or "fan_out".</summary>
    public static Tensor KaimingUniform_(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        double bound = CalculateGain(nonlinearity, a) * Math.Sqrt(3.0 / Fan(t, mode));
        return Uniform_(t, -bound, bound, generator);
    }

    /// <summary>N(0, std²) with std = gain / √fan.</summary>
    public static Tensor KaimingNormal_(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null) =>
        Normal_(t, 0, CalculateGain(nonlinearity, a) / Math.Sqrt(Fan(t, mode)), generator);

    /// <summary>A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, scaled by <paramref name="gain"/> (<c>orthogonal_</c>).</summary>
    public static Tensor Orthogonal_(Tensor t, double gain = 1, Generator? generator = null)
    {
        if (t.Dim < 2) throw new KilnException("orthogonal_", $"orthogonal_: Only tensors with 2 or more dimensions are supported (shape {ShapeText.Format(t.ShapeArray)})", KilnErrorKind.Shape);
        int rows = t.Size(0), cols = (int)(t.Numel / Math.Max(rows, 1));
        if (t.Numel == 0 || Skipping) return t;
        using var g = Tensor.Normal(new[] { rows, cols }, 0, 1, DType.Float64, generator);
        var a = g.ToArray<double>();
        bool transpose = rows < cols;
        int m = transpose ? cols : rows, n = transpose ? rows : cols; // m >= n: QR of the tall matrix
        var x = new double[m * n];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                if (transpose) x[j * n + i] = a[i * cols + j]; else x[i * n + j] = a[i * cols + j];
        var q = ThinQ(x, m, n);
        var result = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                result[i * cols + j] = gain * (transpose ? q[j * n + i] : q[i * n + j]);
        using var r = Tensor.From(result, t.ShapeArray);
        return Fill(t, r.To(t.DType));
    }

    /// <summary>Q of a thin QR (modified Gram-Schmidt, twice for stability), columns signed so that diag(R) &gt; 0.</summary>
    static double[] ThinQ(double[] a, int m, int n)
    {
        var q = (double[])a.Clone();
        for (int j = 0; j < n; j++)
        {
            double rjj = 0;
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k < j; k++)
                {
                    double dot = 0;
                    for (int i = 0; i < m; i++) dot += q[i * n + k] * q[i * n + j];
                    for (int i = 0; i < m; i++) q[i * n + j] -= dot * q[i * n + k];
                }
            for (int i = 0; i < m; i++) rjj += q[i * n + j] * q[i * n + j];
            rjj = Math.Sqrt(rjj);
            for (int i = 0; i < m; i++) q[i * n + j] /= rjj;
        }
        return q;
    }

    static double Fan(Tensor t, string mode)
    {
        var (fi, fo) = CalculateFans(t);
        return mode switch
        {
            "fan_in" => fi,
            "fan_out" => fo,
            _ => throw new KilnException("init", $"init: Mode {mode} not supported, please use one of fan_in, fan_out", KilnErrorKind.Unsupported),
        };
    }

    static Tensor Fill(Tensor t, Tensor values)
    {
        using (values)
        using (Autograd.NoGrad()) t.Copy_(values);
        return t;
    }

    static double NormCdf(double x) => (1 + Erf(x / Math.Sqrt(2))) / 2;

    /// <summary>erf via its complement's continued-fraction-free rational fit (|error| &lt; 1.2e-7), refined by Newton steps in ErfInv.</summary>
    static double Erf(double x)
    {
        double t = 1 / (1 + 0.5 * Math.Abs(x));
        double y = 1 - t * Math.Exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? y : -y;
    }

    /// <summary>Inverse error function: Giles' single-precision approximation, then Newton steps on <see cref="Erf"/>.</summary>
    internal static double ErfInv(double y)
    {
        if (y <= -1) return double.NegativeInfinity;
        if (y >= 1) return double.PositiveInfinity;
        double w = -Math.Log((1 - y) * (1 + y)), x;
        if (w < 5)
        {
            w -= 2.5;
            x = 2.81022636e-08;
            foreach (var c in new[] { 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941 })
                x = c + x * w;
        }
        else
        {
            w = Math.Sqrt(w) - 3;
            x = -0.000200214257;
            foreach (var c in new[] { 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682 })
                x = c + x * w;
        }
        x *= y;
        for (int i = 0; i < 2; i++) x -= (Erf(x) - y) / (2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x));
        return x;
    }
}
