using System;
using Kiln;
using Kiln.Kernels.Gemm;
using Xunit;

namespace Kiln.Tests.Core;

[Collection("Allocator")]
public class GemmTests
{
    static double[] Reference(float[] a, float[] b, int m, int k, int n)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++) c[i * n + j] += (double)a[i * k + p] * b[p * n + j];
        return c;
    }

    /// <summary>
    /// A transposed right operand (x·Wᵀ, the Linear layout): packed in 8 × 8 register transposes with scalar edges, and for
    /// up to sixteen rows (sixty-four over K of 256 or more) the dot-product path (one to three rows: four weight rows a quarter of
    /// the outputs apart at a time, two rows sharing each weight vector; more: 4×4 tiles with row, column and k tails; K
    /// over 1024 with two or more row groups in chunks of 1024, the last with a tail); bias and activation epilogue and
    /// accumulation into C included.
    /// </summary>
    [Theory]
    [InlineData(1, 784, 128)]
    [InlineData(1, 768, 37)]      // one row: four weight rows a quarter apart at a time (9 each), one row left
    [InlineData(1, 13, 6)]        // one quarter of one row, two left; K under one 16-lane vector
    [InlineData(1, 100, 3)]       // fewer than four weight rows: all left over
    [InlineData(5, 100, 3)]       // several rows, fewer than four weight rows: no tile for the tile kernels
    [InlineData(2, 300, 41)]      // two rows sharing each weight vector, a k tail of 12 (16 lanes)
    [InlineData(2, 13, 9)]        // two rows, K under one 8-lane vector's worth of steps
    [InlineData(3, 37, 19)]
    [InlineData(4, 8, 8)]
    [InlineData(5, 37, 19)]
    [InlineData(8, 45, 36)]
    [InlineData(13, 43, 17)]
    [InlineData(16, 64, 40)]
    [InlineData(17, 43, 17)]
    [InlineData(40, 203, 45)]
    [InlineData(70, 16, 1030)]
    [InlineData(40, 300, 45)]
    [InlineData(64, 256, 1030)]
    [InlineData(9, 80, 33)]
    [InlineData(12, 100, 67)]
    [InlineData(24, 300, 70)]
    [InlineData(8, 2100, 37)]
    [InlineData(8, 1300, 20)]
    [InlineData(13, 2500, 9)]
    public unsafe void ATransposedRightOperandMatchesADoubleReference(int m, int k, int n)
    {
        var g = new Generator(5);
        var a = Tensor.Randn(new[] { m, k }, generator: g).ToArray<float>();
        var w = Tensor.Randn(new[] { n, k }, generator: g).ToArray<float>();   // B = Wᵀ: column j of B is row j of W
        var bias = Tensor.Randn(new[] { n }, generator: g).ToArray<float>();
        var start = Tensor.Randn(new[] { m, n }, generator: g).ToArray<float>();
        var bT = new float[k * n];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bT[p * n + j] = w[j * k + p];
        var r = Reference(a, bT, m, k, n);
        foreach (bool accumulate in new[] { false, true })
        {
            var c = (float[])start.Clone();
            fixed (float* pa = a, pw = w, pc = c, pb = bias)
                Sgemm.Multiply(m, n, k, 1f, pa, k, 1, pw, 1, k, accumulate ? 1f : 0f, pc, n,
                    new GemmEpilogue { ColumnBias = pb, Activation = GemmActivation.Relu });
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double expected = Math.Max(0, r[i * n + j] + (accumulate ? start[i * n + j] : 0) + bias[j]);
                    Assert.True(Math.Abs(c[i * n + j] - expected) <= 1e-4 * Math.Sqrt(k) + 1e-4 * Math.Abs(expected), $"[{i},{j}] (accumulate={accumulate}): {c[i * n + j]} vs {expected}");
                }
        }
    }

    /// <summary>
    /// Both kernels over edge tiles: on AVX-512 the last row panel runs the 4- or 8-row kernel and the last column panel
    /// the 16-column one, exactly into C (20 rows = 12 + 8, 48 columns = 32 + 16, 100 rows = 96 + 4) or through the scratch
    /// tile (7, 10 or 13 rows; 3, 6 or 25 columns); K over 256 accumulates a second k-block into C.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 1, false)]
    [InlineData(20, 300, 48, true)]
    [InlineData(7, 300, 40, true)]
    [InlineData(25, 300, 57, true)]
    [InlineData(13, 300, 35, false)]
    [InlineData(13, 300, 35, true)]
    [InlineData(100, 257, 70, true)]
    [InlineData(250, 40, 1030, false)]
    [InlineData(250, 40, 1030, true)]
    [InlineData(25, 600, 40, true)]
    [InlineData(13, 600, 56, true)]
    [InlineData(13, 600, 56, false)]
    [InlineData(100, 1100, 70, true)]    // narrow and deep: k-blocks of 512 (three of 367)
    [InlineData(30, 2050, 256, true)]
    public void BothMicroKernelsMatchADoubleReference(int m, int k, int n, bool wide)
    {
        if (wide && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return; // the CPU has no AVX-512 kernel to test
        bool saved = Sgemm.UseAvx512;
        try
        {
            Sgemm.UseAvx512 = wide;
            var g = new Generator(11);
            var a = Tensor.Randn(new[] { m, k }, generator: g);
            var b = Tensor.Randn(new[] { k, n }, generator: g);
            var c = a.Matmul(b).ToArray<float>();
            var r = Reference(a.ToArray<float>(), b.ToArray<float>(), m, k, n);
            for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c[i] - r[i]) <= 1e-4 * Math.Sqrt(k) + 1e-4 * Math.Abs(r[i]), $"element {i}: {c[i]} vs {r[i]}");
        }
        finally { Sgemm.UseAvx512 = saved; }
    }

    [Fact]
    public void ReadingBInPlaceEqualsPackingIt()
    {
        bool saved = Sgemm.ReadBInPlace;
        try
        {
            var g = new Generator(8);
            var a = Tensor.Randn(new[] { 64, 784 }, generator: g);
            var b = Tensor.Randn(new[] { 784, 128 }, generator: g);   // row-major, width a multiple of NR: read in place
            Sgemm.ReadBInPlace = true;
            var inPlace = a.Matmul(b).ToArray<float>();
            Sgemm.ReadBInPlace = false;
            Assert.Equal(a.Matmul(b).ToArray<float>(), inPlace);
        }
        finally { Sgemm.ReadBInPlace = saved; }
    }

    [Fact]
    public void StridedOperandsNeedNoCopyAndGiveTheSameResult()
    {
        var g = new Generator(5);
        var a = Tensor.Randn(new[] { 70, 90 }, generator: g);
        var b = Tensor.Randn(new[] { 60, 70 }, generator: g);
        var viaTranspose = a.T.Matmul(b.T);          // both operands column-major views
        var viaCopy = a.T.Contiguous().Matmul(b.T.Contiguous());
        Assert.Equal(viaCopy.ToArray<float>(), viaTranspose.ToArray<float>());
    }

    [Fact]
    public void OneAndTwoThreadsAgreeExactly()
    {
        int saved = Threads.Count;
        try
        {
            var g = new Generator(9);
            // Many rows (row blocks shared out) and few rows (column slices shared out instead).
            foreach (var (m, n) in new[] { (300, 500), (40, 1030), (7, 300) })
            {
                var a = Tensor.Randn(new[] { m, 200 }, generator: g);
                var b = Tensor.Randn(new[] { 200, n }, generator: g);
                Threads.Count = 1;
                var one = a.Matmul(b).ToArray<float>();
                Threads.Count = 2;
                Assert.Equal(one, a.Matmul(b).ToArray<float>());
            }
        }
        finally { Threads.Count = saved; }
    }

    [Fact]
    public unsafe void EpilogueAddsBiasAndAppliesActivation()
    {
        var g = new Generator(2);
        int m = 37, k = 50, n = 45;
        var a = Tensor.Randn(new[] { m, k }, generator: g);
        var b = Tensor.Randn(new[] { k, n }, generator: g);
        var bias = Tensor.Randn(new[] { n }, generator: g);
        var expected = (a.Matmul(b) + bias).Relu().ToArray<float>();
        var c = Tensor.Empty(new[] { m, n });
        Sgemm.Multiply(m, n, k, 1, (float*)a.DataPointer, k, 1, (float*)b.DataPointer, n, 1, 0, (float*)c.DataPointer, n,
            new GemmEpilogue { ColumnBias = (float*)bias.DataPointer, Activation = GemmActivation.Relu });
        var got = c.ToArray<float>();
        for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], 5);
    }

    /// <summary>
    /// The epilogue keeps the pre-activation and multiplies by a per-element factor, on the few-rows path, the blocked path,
    /// and (two threads, few rows) column slabs computed on their own, each seeing its columns' bias, factors and kept values.
    /// </summary>
    [Theory]
    [InlineData(3, 45, 1)]
    [InlineData(37, 45, 1)]
    [InlineData(37, 300, 2)]
    public unsafe void EpilogueKeepsThePreActivationAndMultipliesByAFactor(int m, int n, int threads)
    {
        int saved = Threads.Count;
        Threads.Count = threads;
        try { EpilogueCase(m, n); }
        finally { Threads.Count = saved; }
    }

    unsafe void EpilogueCase(int m, int n)
    {
        var g = new Generator(4);
        int k = 50;
        var a = Tensor.Randn(new[] { m, k }, generator: g);
        var w = Tensor.Randn(new[] { n, k }, generator: g);
        var bias = Tensor.Randn(new[] { n }, generator: g);
        var factor = Tensor.Rand(new[] { m, n }, generator: g);
        var pre = (a.Matmul(w.T) + bias).ToArray<float>();
        var expected = ((a.Matmul(w.T) + bias).Gelu() * factor).ToArray<float>();
        var c = Tensor.Empty(new[] { m, n });
        var kept = Tensor.Empty(new[] { m, n });
        Sgemm.Multiply(m, n, k, 1, (float*)a.DataPointer, k, 1, (float*)w.DataPointer, 1, k, 0, (float*)c.DataPointer, n,
            new GemmEpilogue { ColumnBias = (float*)bias.DataPointer, Activation = GemmActivation.Gelu, PreActivation = (float*)kept.DataPointer, Multiplier = (float*)factor.DataPointer, Ld = n });
        var got = c.ToArray<float>();
        var gotPre = kept.ToArray<float>();
        for (int i = 0; i < got.Length; i++)
        {
            Assert.True(Math.Abs(pre[i] - gotPre[i]) <= 1e-4 * Math.Max(1, Math.Abs(pre[i])), $"pre-activation [{i}]: {gotPre[i]} vs {pre[i]}");
            Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"output [{i}]: {got[i]} vs {expected[i]}");
        }
    }

    /// <summary>
    /// A gate on A (a ReLU output) passes A·scale where the gate is positive and 0 elsewhere, for A read by rows (the input
    /// gradient dZ·W) and read transposed (the weight gradient dZᵀ·X).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public unsafe void AGateOnTheLeftOperandFiltersItAsItIsPacked(bool transposed)
    {
        var g = new Generator(6);
        int m = 29, k = 41, n = 19;
        // Stored as [m, k], or as [k, m] and read transposed.
        var stored = Tensor.Randn(transposed ? new[] { k, m } : new[] { m, k }, generator: g);
        var gateStored = Tensor.Randn(stored.ShapeArray, generator: g);
        var b = Tensor.Randn(new[] { k, n }, generator: g);
        var aT = transposed ? stored.T : stored;
        var gT = transposed ? gateStored.T : gateStored;
        var masked = Tensor.Where(gT.Gt(0), aT * 1.25, Tensor.ZerosLike(aT));
        var expected = masked.Matmul(b).ToArray<float>();
        var c = Tensor.Empty(new[] { m, n });
        long rsa = transposed ? 1 : k, csa = transposed ? m : 1;
        Sgemm.Multiply(m, n, k, 1, (float*)stored.DataPointer, rsa, csa, (float*)b.DataPointer, n, 1, 0, (float*)c.DataPointer, n,
            gate: new GemmGate { Values = (float*)gateStored.DataPointer, Scale = 1.25f });
        var got = c.ToArray<float>();
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: {got[i]} vs {expected[i]}");
    }
}
