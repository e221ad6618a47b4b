using System;
using System.Runtime.Intrinsics;
using Kiln;
using Kiln.Kernels.Elementwise;
using Xunit;

namespace Kiln.Tests.Core;

[Collection("Allocator")]
public class KernelTests
{
    [Fact]
    public void VectorExpIsWithinTwoUlpsAcrossItsRange()
    {
        var rng = new Random(3);
        for (int i = 0; i < 20_000; i++)
        {
            var x = (float)(rng.NextDouble() * 175 - 87);
            float got = FloatMath.Exp(Vector256.Create(x)).GetElement(0);
            double want = Math.Exp(x);
            Assert.True(Math.Abs(got - want) <= 2.5e-7 * want, $"exp({x:R}) = {got:R}, expected {want:R}");
            Assert.Equal(got, FloatMath.Exp(Vector512.Create(x)).GetElement(0)); // one algorithm, both widths
        }
        // Just below float's largest value (n = 128 in the reduction): finite, as e^x is, where AVX-512's scale instruction
        // applies 2^n; through the exponent field (AVX2 only) n = 128 is +inf.
        foreach (float edge in new[] { 88.4f, 88.7f, 88.72f })
        {
            float got = FloatMath.Exp(Vector256.Create(edge)).GetElement(0);
            bool early = !System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported && float.IsPositiveInfinity(got);
            Assert.True(early || Math.Abs(got - Math.Exp(edge)) <= 2.5e-7 * Math.Exp(edge), $"exp({edge:R}) = {got:R}, expected {Math.Exp(edge):R}");
            Assert.Equal(got, FloatMath.Exp(Vector512.Create(edge)).GetElement(0));
        }
        Assert.Equal(0f, FloatMath.Exp(Vector256.Create(-100f)).GetElement(0));
        Assert.True(float.IsPositiveInfinity(FloatMath.Exp(Vector256.Create(89f)).GetElement(0)));
        Assert.True(float.IsNaN(FloatMath.Exp(Vector256.Create(float.NaN)).GetElement(0)));
    }

    [Fact]
    public void VectorTanhAndErfMatchDoublePrecision()
    {
        for (double x = -9; x <= 9; x += 0.001)
        {
            float f = (float)x;
            Assert.True(Math.Abs(FloatMath.Tanh(Vector256.Create(f)).GetElement(0) - Math.Tanh(f)) <= 1e-6 * Math.Abs(Math.Tanh(f)) + 1e-9, $"tanh({f})");
            double onePlusErf = FloatMath.OnePlusErf((double)f);
            // In the tail the float exponent (-z^2 plus the fit) carries rounding of ~1e-5 relative; nearer 0, 1e-6.
            double rel = Math.Abs(f) > 2 ? 2e-5 : 1e-6;
            Assert.True(Math.Abs(FloatMath.OnePlusErf(Vector256.Create(f)).GetElement(0) - onePlusErf) <= rel * onePlusErf + 1e-37, $"1+erf({f})");
        }
    }

    [Fact]
    public void VectorErfMatchesDoublePrecision()
    {
        // The odd series below 0.5 keeps tiny arguments relative (1 - erfc would cancel there); 1 - erfc above.
        for (double x = -6; x <= 6; x += 0.0005)
        {
            float f = (float)x;
            double want = FloatMath.Erf((double)f);
            float got = FloatMath.Erf(Vector256.Create(f)).GetElement(0);
            Assert.True(Math.Abs(got - want) <= 3e-7 * Math.Abs(want) + 1e-38, $"erf({f:R}) = {got:R}, expected {want:R}");
            Assert.Equal(got, FloatMath.Erf(Vector512.Create(f)).GetElement(0)); // one algorithm, both widths
        }
        foreach (float tiny in new[] { 1e-30f, -3e-12f, 1e-5f, 0.4999f, 0.5f })
        {
            float got = FloatMath.Erf(Vector256.Create(tiny)).GetElement(0);
            Assert.True(Math.Abs(got - FloatMath.Erf((double)tiny)) <= 2e-7 * Math.Abs(FloatMath.Erf((double)tiny)), $"erf({tiny:R}) = {got:R}");
        }
        Assert.Equal(0f, FloatMath.Erf(Vector256.Create(0f)).GetElement(0));
        Assert.Equal(1f, FloatMath.Erf(Vector256.Create(float.PositiveInfinity)).GetElement(0));
        Assert.Equal(-1f, FloatMath.Erf(Vector256.Create(float.NegativeInfinity)).GetElement(0));
        Assert.True(float.IsNaN(FloatMath.Erf(Vector256.Create(float.NaN)).GetElement(0)));
    }

    [Fact]
    public void VectorLog1pMatchesDoublePrecision()
    {
        // Goldberg's form keeps log(1 + x) relative near 0 (a plain log(1 + x) loses every digit below 1e-7).
        var rng = new Random(11);
        for (int i = 0; i < 20_000; i++)
        {
            // Magnitudes from 4e-18 to 1e9, a quarter of them negative in (-1, 0).
            float f = (float)Math.Exp(rng.NextDouble() * 60 - 40);
            if (rng.Next(4) == 0) f = -Math.Min(f, 0.999f);
            double want = FloatMath.Log1p((double)f);
            float got = FloatMath.Log1p(Vector256.Create(f)).GetElement(0);
            Assert.True(Math.Abs(got - want) <= 3e-7 * Math.Abs(want) + 1e-40, $"log1p({f:R}) = {got:R}, expected {want:R}");
            Assert.Equal(got, FloatMath.Log1p(Vector512.Create(f)).GetElement(0));
        }
        Assert.Equal(1e-30f, FloatMath.Log1p(Vector256.Create(1e-30f)).GetElement(0));
        Assert.True(float.IsNegativeInfinity(FloatMath.Log1p(Vector256.Create(-1f)).GetElement(0)));
        Assert.True(float.IsPositiveInfinity(FloatMath.Log1p(Vector256.Create(float.PositiveInfinity)).GetElement(0)));
        Assert.True(float.IsNaN(FloatMath.Log1p(Vector256.Create(-2f)).GetElement(0)));
        Assert.True(float.IsNaN(FloatMath.Log1p(Vector256.Create(float.NaN)).GetElement(0)));
    }

    [Theory]
    [InlineData("gelu")]
    [InlineData("erf")]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    [InlineData("exp")]
    [InlineData("log1p")]
    public void UnaryOpsGiveEachElementTheSameFunctionWhereverItSits(string op)
    {
        // A float run's ends and strided runs go through the vector body a vector at a time, so an element's value does not
        // depend on its position: a transposed input and odd-length slices (every head and tail length) equal the
        // contiguous result bit for bit, and match the double-precision formula.
        Func<Tensor, Tensor> f = op switch
        {
            "gelu" => t => Kiln.NN.F.Gelu(t),
            "erf" => t => t.Erf(),
            "sigmoid" => t => t.Sigmoid(),
            "tanh" => t => t.Tanh(),
            "exp" => t => t.Exp(),
            _ => t => t.Log1p(),
        };
        using var x = Tensor.Randn([37, 45], DType.Float32, new Generator(5)) * 2;
        using var input = op == "log1p" ? x.Abs() : x.Clone();
        using var t = input.T;
        using var dense = t.Contiguous();
        using var viaStrides = f(t);
        using var viaDense = f(dense);
        Assert.Equal(viaDense.ToArray<float>(), viaStrides.ToArray<float>());
        var all = viaDense.ToArray<float>();
        var from = dense.ToArray<float>();
        using var flat = dense.Reshape(-1);
        for (int start = 0; start < 17; start++)
            foreach (int length in new[] { 1, 7, 15, 16, 17, 33, 100 })
            {
                using var slice = flat.Narrow(0, start, length);
                var part = f(slice).ToArray<float>();
                for (int i = 0; i < length; i++) Assert.Equal(all[start + i], part[i]);
            }
        for (int i = 0; i < from.Length; i++)
        {
            double v = from[i], want = op switch
            {
                "gelu" => FloatMath.Gelu(v),
                "erf" => FloatMath.Erf(v),
                "sigmoid" => 1 / (1 + Math.Exp(-v)),
                "tanh" => Math.Tanh(v),
                "exp" => Math.Exp(v),
                _ => FloatMath.Log1p(v),
            };
            Assert.True(Math.Abs(all[i] - want) <= 2e-5 * Math.Abs(want) + 1e-7, $"{op}({v:R}) = {all[i]:R}, expected {want:R}");
        }
    }

    /// <summary>
    /// Elementwise ops whose operand is walked across its layout (a transposed view against a row-major result) run in
    /// tiles of the last two dims, and a 4-byte copy of one in 8 × 8 register transposes: every element still meets its
    /// own partners — copy (float and int), unary, binary with a broadcast operand, compare, where and a dtype conversion —
    /// over sizes that are not multiples of the tile or the block, a batch dim in front, on one thread and split over two.
    /// </summary>
    [Theory]
    [InlineData(3, 70, 50, 1)]
    [InlineData(2, 300, 170, 2)]    // 102,000 elements: the row blocks are shared out
    public void TransposedOperandsWalkedInTilesMeetTheirPartners(int batch, int rows, int cols, int threads)
    {
        int saved = Threads.Count;
        try
        {
            Threads.Count = threads;
            var source = Tensor.Randn(batch, rows, cols);
            var x = source.Transpose(1, 2);                         // [batch, cols, rows], strides (rows·cols, 1, cols)
            var other = Tensor.Randn(batch, cols, rows);
            var bias = Tensor.Randn(rows);
            float[] s = source.ToArray<float>(), o = other.ToArray<float>(), b = bias.ToArray<float>();
            float X(int n, int i, int j) => s[(n * rows + j) * cols + i];   // x[n, i, j]
            var copy = x.Contiguous().ToArray<float>();
            var exp = x.Exp().ToArray<float>();
            var sum = (x + other).ToArray<float>();
            var shifted = (x - bias).ToArray<float>();
            var greater = (x > other).ToArray<bool>();
            var picked = Tensor.Where(x > 0, x, other).ToArray<float>();
            var wide = x.To(DType.Float64).ToArray<double>();
            var ints = (source * 1000).To(DType.Int32).Transpose(1, 2).Contiguous().ToArray<int>();   // 4-byte copies move bits
            for (int n = 0, at = 0; n < batch; n++)
                for (int i = 0; i < cols; i++)
                    for (int j = 0; j < rows; j++, at++)
                    {
                        float v = X(n, i, j);
                        Assert.Equal(v, copy[at]);
                        Assert.True(Math.Abs(exp[at] - Math.Exp(v)) <= 2e-6 * Math.Exp(v), $"exp at {at}");
                        Assert.Equal(v + o[at], sum[at]);
                        Assert.Equal(v - b[j], shifted[at]);
                        Assert.Equal(v > o[at], greater[at]);
                        Assert.Equal(v > 0 ? v : o[at], picked[at]);
                        Assert.Equal(v, wide[at]);
                        Assert.Equal((int)(v * 1000), ints[at]);
                    }
        }
        finally { Threads.Count = saved; }
    }

    /// <summary>
    /// Sums over a run of leading or middle dims (bias gradients, a group of heads) add rows four at a time in float, the
    /// rest one by one, in 512-column blocks: row counts with every remainder, widths with an 8-lane tail and a second
    /// block, against a double reference.
    /// </summary>
    [Theory]
    [InlineData(1, 4, 8)]
    [InlineData(1, 7, 1037)]
    [InlineData(1, 2050, 19)]
    [InlineData(3, 9, 515)]
    [InlineData(2, 6, 3)]
    public void ColumnSumsMatchADoubleReference(int outer, int rows, int cols)
    {
        var x = Tensor.Randn(new[] { outer, rows, cols }, generator: new Generator(12));
        var got = (outer == 1 ? x.Reshape(rows, cols).Sum(0) : x.Sum(1)).ToArray<float>();
        var xs = x.ToArray<float>();
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < cols; c++)
            {
                double r = 0, scale = 0;
                for (int i = 0; i < rows; i++) { double v = xs[((long)o * rows + i) * cols + c]; r += v; scale += Math.Abs(v); }
                Assert.True(Math.Abs(got[o * cols + c] - r) <= 1e-6 * scale + 1e-6, $"[{o}, {c}]: {got[o * cols + c]} vs {r}");
            }
    }

    [Fact]
    public void DoubleErfMatchesKnownValues()
    {
        // erf(0.5), erf(1), erf(2) and erfc(3), erfc(5) to 15 digits.
        Assert.True(Math.Abs(FloatMath.OnePlusErf(0.5) - (1 + 0.520499877813046538)) < 1e-15);
        Assert.True(Math.Abs(FloatMath.OnePlusErf(1) - (1 + 0.842700792949714869)) < 1e-15);
        Assert.True(Math.Abs(FloatMath.OnePlusErf(2) - (1 + 0.995322265018952734)) < 1e-15);
        Assert.True(Math.Abs(FloatMath.OnePlusErf(-3) / 2.20904969985854413e-5 - 1) < 1e-13);
        Assert.True(Math.Abs(FloatMath.OnePlusErf(-5) / 1.53745979442803485e-12 - 1) < 1e-13);
    }

    [Fact]
    public void ParallelForRethrowsTheFirstChunkFailure()
    {
        int saved = Threads.Count;
        try
        {
            Threads.Count = 2;
            var e = Assert.Throws<InvalidOperationException>(() =>
                Threads.For(1000, 1, (s, end) => { if (s > 0) throw new InvalidOperationException("chunk failed"); }));
            Assert.Equal("chunk failed", e.Message);
            long total = 0;
            Threads.For(1000, 1, (s, end) => System.Threading.Interlocked.Add(ref total, end - s));
            Assert.Equal(1000, total);
            Assert.Throws<KilnException>(() => Threads.Count = 0);
        }
        finally { Threads.Count = saved; }
    }

    [Fact]
    public void InPlaceVariantsMatchOutOfPlace()
    {
        var x = Tensor.Rand(new[] { 5, 7 }, generator: new Generator(4)) + 0.1;
        Assert.Equal(x.Log().ToArray<float>(), x.Clone().Log_().ToArray<float>());
        Assert.Equal(x.Tanh().ToArray<float>(), x.Clone().Tanh_().ToArray<float>());
        Assert.Equal(x.Sigmoid().ToArray<float>(), x.Clone().Sigmoid_().ToArray<float>());
        Assert.Equal(x.Pow(2).ToArray<float>(), x.Clone().Pow_(2).ToArray<float>());
        Assert.Equal((x - 0.5).Abs().ToArray<float>(), (x - 0.5).Abs_().ToArray<float>());
    }
}
