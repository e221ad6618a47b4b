using System;
using System.IO;
using Kiln.Kernels.Gemm;
using Kiln.Kernels.Native;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// The AVX512_BF16 dot-product kernels (assembled at start-up): where this CPU has the instructions they run, and the
/// bf16 products they serve — the decode-shaped few-rows tile and the blocked GEMM's micro-kernel with its pair packing —
/// equal the float64 sums of the same bfloat16 values within float32 summation error. Where the CPU lacks them the
/// same products run the float32 kernels and the same assertions hold. Products are checked with C written and with C
/// accumulated into (K over 1024 runs its later chunks into the first's sums).
/// </summary>
public unsafe class Bf16DotTests
{
    [Fact]
    public void TheKernelsRunWhereTheCpuHasAvx512Bf16()
    {
        // The oracle is the kernel's own flag list, not Kiln's CPUID reading: a silent fallback would fail here.
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/cpuinfo")) return;
        bool listed = File.ReadAllText("/proc/cpuinfo").Contains(" avx512_bf16");
        bool x64 = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
        Assert.Equal(listed && x64 && Bf16DotInstructions.Enabled, Bf16DotInstructions.IsSupported);
        Assert.Equal(Bf16DotInstructions.IsSupported, FewRowsTiles.IsSupported);
        Assert.Equal(Bf16DotInstructions.IsSupported, Bf16DotMicroKernel.IsSupported);
    }

    [Fact]
    public void PairPackingPutsEachPairOfKInOneWordAndPadsWithZeros()
    {
        // kc = 5: pairs (0,1), (2,3), (4,0). A: 13 rows = one whole 12-row panel and one of a single row;
        // B: 33 columns = one whole 32-column panel and one of a single column.
        const int kc = 5, pairs = 3, rows = 13, cols = 33, mr = Bf16DotMicroKernel.MR, nr = Bf16DotMicroKernel.NR;
        var a = new ushort[rows * 6];   // rows 6 apart (a wider matrix's first five columns)
        for (int i = 0; i < a.Length; i++) a[i] = (ushort)(i + 1);
        var w = new ushort[cols * 8];   // weight rows 8 apart (even: the packer's register transposes)
        for (int i = 0; i < w.Length; i++) w[i] = (ushort)(1000 + i);
        var ap = new uint[2 * mr * pairs];
        var bp = new uint[2 * nr * pairs];
        fixed (ushort* pa = a, pw = w)
        fixed (uint* pap = ap, pbp = bp)
        {
            Bf16PairPacking.PackA(pa, 6, rows, kc, pap);
            Bf16PairPacking.PackB(pw, 8, kc, cols, 0, 2, pbp);
        }
        static uint Pair(ushort[] m, int row, int stride, int p) =>
            (uint)m[row * stride + 2 * p] | (2 * p + 1 < kc ? (uint)m[row * stride + 2 * p + 1] << 16 : 0u);
        for (int panel = 0; panel < 2; panel++)
            for (int p = 0; p < pairs; p++)
                for (int r = 0; r < mr; r++)
                {
                    int row = panel * mr + r;
                    Assert.Equal(row < rows ? Pair(a, row, 6, p) : 0u, ap[(panel * mr * pairs) + p * mr + r]);
                }
        for (int panel = 0; panel < 2; panel++)
            for (int p = 0; p < pairs; p++)
                for (int j = 0; j < nr; j++)
                {
                    int col = panel * nr + j;
                    Assert.Equal(col < cols ? Pair(w, col, 8, p) : 0u, bp[(panel * nr * pairs) + p * nr + j]);
                }
    }

    [Theory]
    [InlineData(18, 20, 25)]   // whole pairs, rows an even number apart: the register-transposing path (8 + 1 pairs, 12 + 12 + 1 rows)
    [InlineData(18, 19, 13)]   // rows an odd number of elements apart: word by word
    [InlineData(17, 18, 13)]   // an odd k: the last pair with zero, word by word
    public void PackedAHoldsEachRowsPairsPanelByPanel(int kc, int stride, int rows)
    {
        const int mr = Bf16DotMicroKernel.MR;
        int pairs = (kc + 1) / 2, panels = (rows + mr - 1) / mr;
        var a = new ushort[rows * stride];
        for (int i = 0; i < a.Length; i++) a[i] = (ushort)(7 + 3 * i);
        var ap = new uint[panels * mr * pairs];
        Array.Fill(ap, 0xDEADBEEFu);   // padding rows must be written as zeros, not left
        fixed (ushort* pa = a)
        fixed (uint* pap = ap)
            Bf16PairPacking.PackA(pa, stride, rows, kc, pap);
        for (int panel = 0; panel < panels; panel++)
            for (int p = 0; p < pairs; p++)
                for (int r = 0; r < mr; r++)
                {
                    int row = panel * mr + r;
                    uint want = row >= rows ? 0u : a[row * stride + 2 * p] | (2 * p + 1 < kc ? (uint)a[row * stride + 2 * p + 1] << 16 : 0u);
                    Assert.Equal(want, ap[panel * mr * pairs + p * mr + r]);
                }
    }

    [Theory]
    [InlineData(4, 32, 8)]        // few rows: one 4-row group, one 32-element chunk
    [InlineData(5, 70, 9)]        // a row after the group, a k tail of 6, an output after the 4-wide tiles
    [InlineData(4, 768, 64)]      // a batch-4 decode step's shape: one group, four far-spaced weight rows
    [InlineData(8, 768, 64)]      // a batch-8 decode step's shape: eight rows against three far-spaced weight rows (one left)
    [InlineData(9, 64, 7)]        // two 8 × 3 tiles a column apart, the last column and the ninth row by single dots
    [InlineData(12, 2100, 16)]    // K over 1024: chunks of 1024 then one of 52 (a vector and a tail); four rows after the group
    [InlineData(16, 1030, 50)]    // two groups of eight; the last K chunk (6) shorter than a vector, added to the first
    [InlineData(6, 40, 13)]       // one 4-row group and two rows by single dots
    [InlineData(4, 64, 3)]        // fewer than four outputs: no tile at all, every output by single dots
    [InlineData(64, 33, 37)]      // blocked: odd K (a last pair with zero), partial row and column panels
    [InlineData(77, 1001, 100)]   // blocked: K in several even blocks, odd in total
    [InlineData(130, 256, 2051)]  // blocked: N in several blocks of B
    public void Bf16ProductsEqualTheFloat64SumsOfTheSameValues(int m, int k, int n)
    {
        var g = new Generator(31);
        using var x16 = Tensor.Randn([m, k], generator: g).To(DType.BFloat16);
        using var w16 = Tensor.Randn([n, k], generator: g).To(DType.BFloat16);
        using var xf = x16.To(DType.Float32);
        using var y = Tensor.Empty([m, n], DType.Float32);
        Sgemm.MultiplyBf16Weight(m, n, k, xf.Ptr<float>(), k, w16.Ptr<ushort>(), y.Ptr<float>(), n, default, x16.Ptr<ushort>());
        float[] xs = xf.ToArray<float>(), ws = w16.To(DType.Float32).ToArray<float>(), got = y.ToArray<float>();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double t = (double)xs[i * k + p] * ws[j * k + p];
                    sum += t;
                    magnitude += Math.Abs(t);
                }
                // float32 accumulation in any order: a few ulps of the magnitude summed, per add.
                Assert.True(Math.Abs(got[i * n + j] - sum) <= 1e-6 * magnitude * Math.Max(1, Math.Log2(k)) + 1e-6,
                    $"[{i}, {j}] {got[i * n + j]} vs {sum}");
            }
    }
}
