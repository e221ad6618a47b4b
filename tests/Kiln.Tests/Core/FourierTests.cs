using System;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// torch.fft beyond its golden cases: float64 finite differences through every transform, the radix-2 and Bluestein
/// paths against a direct O(n²) sum at large and prime lengths, round trips, and bad input.
/// </summary>
public class FourierTests
{
    [Fact]
    public void GradientsPassFiniteDifferences()
    {
        var g = new Generator(61);
        var z = Tensor.Randn([3, 6, 2], DType.Float64, g).RequiresGrad_();
        var x = Tensor.Randn([3, 7], DType.Float64, g).RequiresGrad_();
        Assert.True(Autograd.GradCheck(t => Fourier.Fft(ComplexTensor.ViewAsComplex(t[0]), n: 5).AsReal, [z]));
        Assert.True(Autograd.GradCheck(t => Fourier.Ifft(ComplexTensor.ViewAsComplex(t[0]), n: 8, dim: 0, norm: "ortho").AsReal, [z]));
        Assert.True(Autograd.GradCheck(t => Fourier.Rfft(t[0], n: 9).AsReal, [x]));
        Assert.True(Autograd.GradCheck(t => Fourier.Irfft(ComplexTensor.ViewAsComplex(t[0]), n: 9), [z]));
        Assert.True(Autograd.GradCheck(t => Fourier.Irfftn(ComplexTensor.ViewAsComplex(t[0])), [z]));
        Assert.True(Autograd.GradCheck(t => Fourier.Stft(t[0], 4, hopLength: 2, window: Tensor.HannWindow(4, dtype: DType.Float64)).AsReal, [x]));
        Assert.True(Autograd.GradCheck(t => ComplexTensor.ViewAsComplex(t[0]).Abs(), [z]));
        var spec = Tensor.Randn([5, 4, 2], DType.Float64, g).RequiresGrad_();
        Assert.True(Autograd.GradCheck(t => Fourier.Istft(ComplexTensor.ViewAsComplex(t[0]), 8, 2, window: Tensor.HannWindow(8, dtype: DType.Float64)), [spec]));
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(1000)]
    [InlineData(997)]
    public void MatchesTheDirectSum(int n)
    {
        var g = new Generator((ulong)n);
        var z = Tensor.Randn([n, 2], DType.Float64, g);
        var fast = Fourier.Fft(ComplexTensor.ViewAsComplex(z)).AsReal.ToArray<double>();
        var v = z.ToArray<double>();
        double worst = 0, scale = 0;
        foreach (int k in new[] { 0, 1, 7, n / 3, n - 1 })
        {
            double re = 0, im = 0;
            for (int j = 0; j < n; j++)
            {
                double angle = -2 * Math.PI * ((long)j * k % n) / n;
                re += v[2 * j] * Math.Cos(angle) - v[2 * j + 1] * Math.Sin(angle);
                im += v[2 * j] * Math.Sin(angle) + v[2 * j + 1] * Math.Cos(angle);
            }
            worst = Math.Max(worst, Math.Max(Math.Abs(re - fast[2 * k]), Math.Abs(im - fast[2 * k + 1])));
            scale = Math.Max(scale, Math.Sqrt(re * re + im * im));
        }
        Assert.True(worst <= 1e-10 * Math.Max(1, scale), $"n = {n}: largest difference {worst}");
        // And back.
        var back = Fourier.Ifft(Fourier.Fft(ComplexTensor.ViewAsComplex(z))).AsReal.ToArray<double>();
        for (int i = 0; i < v.Length; i++) Assert.True(Math.Abs(back[i] - v[i]) <= 1e-12, $"ifft(fft(z))[{i}] = {back[i]}, z = {v[i]}");
    }

    [Theory]
    [InlineData(8)]
    [InlineData(30)]
    [InlineData(1000)]
    [InlineData(997)]
    [InlineData(49)]
    public void FourRowsAtOnceEqualOneRowAtATime(int n)
    {
        // 9 rows: two blocks of four through the vector lanes, one row alone; each must equal that row transformed alone.
        var x = Tensor.Randn([9, n], DType.Float64, new Generator((ulong)(n + 1)));
        var z = Tensor.Randn([9, n, 2], DType.Float64, new Generator((ulong)(n + 2)));
        var real = Fourier.Rfft(x).AsReal.ToArray<double>();
        var complex = Fourier.Fft(ComplexTensor.ViewAsComplex(z), norm: "ortho").AsReal.ToArray<double>();
        int bins = n / 2 + 1;
        for (int r = 0; r < 9; r++)
        {
            var one = Fourier.Rfft(x.Narrow(0, r, 1)).AsReal.ToArray<double>();
            for (int i = 0; i < one.Length; i++) Assert.True(Math.Abs(one[i] - real[r * 2 * bins + i]) <= 1e-12 * Math.Sqrt(n), $"rfft row {r}, value {i}");
            var alone = Fourier.Fft(ComplexTensor.ViewAsComplex(z.Narrow(0, r, 1)), norm: "ortho").AsReal.ToArray<double>();
            for (int i = 0; i < alone.Length; i++) Assert.True(Math.Abs(alone[i] - complex[r * 2 * n + i]) <= 1e-12, $"fft row {r}, value {i}");
        }
        // And both against the direct sum for the last value of the first row.
        var row = x.Narrow(0, 0, 1).ToArray<double>();
        int k = bins - 1;
        double re = 0, im = 0;
        for (int j = 0; j < n; j++)
        {
            double angle = -2 * Math.PI * ((long)j * k % n) / n;
            re += row[j] * Math.Cos(angle);
            im += row[j] * Math.Sin(angle);
        }
        Assert.True(Math.Abs(re - real[2 * k]) <= 1e-10 * n && Math.Abs(im - real[2 * k + 1]) <= 1e-10 * n, $"bin {k}: ({real[2 * k]}, {real[2 * k + 1]}) vs ({re}, {im})");
    }

    [Theory]
    [InlineData(8)]
    [InlineData(30)]
    [InlineData(400)]
    [InlineData(997)]
    [InlineData(4096)]
    public void Float32RowsMatchFloat64WithinFloat32Rounding(int n)
    {
        // 17 float32 rows: two blocks of eight through the float32 lanes, one row alone in float64. Every value must be
        // the float64 transform of the same data within float32 rounding of the spectrum's scale (a DFT's error grows
        // with log n relative to the row's largest bin, as pocketfft's does).
        var g = new Generator((ulong)(n + 3));
        var x = Tensor.Randn([17, n], generator: g);
        var z = Tensor.Randn([17, n, 2], generator: g);
        Check("rfft", Fourier.Rfft(x).AsReal, Fourier.Rfft(x.To(DType.Float64)).AsReal);
        Check("fft", Fourier.Fft(ComplexTensor.ViewAsComplex(z)).AsReal, Fourier.Fft(ComplexTensor.ViewAsComplex(z.To(DType.Float64))).AsReal);
        Check("ifft", Fourier.Ifft(ComplexTensor.ViewAsComplex(z), norm: "ortho").AsReal, Fourier.Ifft(ComplexTensor.ViewAsComplex(z.To(DType.Float64)), norm: "ortho").AsReal);

        static void Check(string what, Tensor single, Tensor reference)
        {
            Assert.Equal(DType.Float32, single.DType);
            var got = single.To(DType.Float64).ToArray<double>();
            var want = reference.ToArray<double>();
            int perRow = want.Length / 17;
            for (int r = 0; r < 17; r++)
            {
                double scale = 0, worst = 0;
                for (int i = r * perRow; i < (r + 1) * perRow; i++) scale = Math.Max(scale, Math.Abs(want[i]));
                for (int i = r * perRow; i < (r + 1) * perRow; i++) worst = Math.Max(worst, Math.Abs(got[i] - want[i]));
                Assert.True(worst <= 1e-7 * Math.Log2(perRow) * scale, $"{what} row {r}: largest difference {worst}, largest bin {scale}");
            }
        }
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        var x = Tensor.Randn(4, 8);
        Assert.Contains("invalid normalization mode 'half'", Assert.Throws<KilnException>(() => Fourier.Rfft(x, norm: "half")).Message);
        Assert.Contains("invalid number of data points (0)", Assert.Throws<KilnException>(() => Fourier.Fft(x, n: 0)).Message);
        Assert.Contains("expected a float32 or float64 tensor, got Int64", Assert.Throws<KilnException>(() => Fourier.Rfft(Tensor.Zeros([4], DType.Int64))).Message);
        Assert.Contains("view_as_complex: expected a last dim of size 2", Assert.Throws<KilnException>(() => ComplexTensor.ViewAsComplex(x)).Message);
        Assert.Contains("stft: expected a 1-D window of 8 samples", Assert.Throws<KilnException>(() => Fourier.Stft(x, 8, window: Tensor.Ones(5))).Message);
        Assert.Contains("is shorter than n_fft = 16", Assert.Throws<KilnException>(() => Fourier.Stft(x, 16, center: false)).Message);
        var spectrum = Fourier.Stft(x, 8, window: Tensor.HannWindow(8));
        Assert.Contains("NOLA condition fails", Assert.Throws<KilnException>(() => Fourier.Istft(spectrum, 8, window: Tensor.HannWindow(8), center: false)).Message);
        Assert.Contains("istft: 5 frequency bins do not match n_fft = 16", Assert.Throws<KilnException>(() => Fourier.Istft(spectrum, 16)).Message);
        Assert.Contains("s has 1 sizes for 2 dims", Assert.Throws<KilnException>(() => Fourier.Rfft2(x, s: [4])).Message);
    }
}
