using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using Kiln.Gpu;
using Kiln.Gpu.Kernels;
using Xunit;

namespace Kiln.Tests.Gpu;

/// <summary>
/// The explicitly grouped kernels at a GPU's group sizes (rows 256 threads, GEMM 16 × 16, quantized products 128), run
/// on an ILGPU CPU accelerator of that size. The emulated <c>cuda:0</c> launches them with 16 threads (a group's threads
/// are OS threads there, and a barrier of 256 costs milliseconds on two cores); the kernels take their size from the
/// launch, and these cases hold them to the CPU's numbers at the size a GPU runs.
/// </summary>
[Collection(EmulatedCuda.Collection)]
public sealed class GpuGroupSizeTests : IDisposable
{
    readonly Context _context = PtxCompiler.CreateContext(b => b.CPU(new CPUDevice(32, 8, 1)));
    readonly Accelerator _accelerator;

    public GpuGroupSizeTests() => _accelerator = _context.CreateCPUAccelerator(0);

    public void Dispose()
    {
        _accelerator.Dispose();
        _context.Dispose();
    }

    TDelegate Launcher<TDelegate>(System.Reflection.MethodInfo method) where TDelegate : Delegate =>
        _accelerator.LoadKernel(method).CreateLauncherDelegate<TDelegate>();

    static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    [Fact]
    public void RowKernelsAtTwoHundredFiftySixThreads()
    {
        const int rows = 3, length = 1001;
        var x = Random(rows * length, 1);
        using var dx = _accelerator.Allocate1D(x);
        using var dy = _accelerator.Allocate1D<float>(rows);
        using var pd = _accelerator.Allocate1D<double>(1);
        using var pl = _accelerator.Allocate1D<long>(1);
        Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<long>, long, int, int>>(KernelMethods<float>.Reduce)
            (_accelerator.DefaultStream, new KernelConfig(rows, RowKernels.GroupSize), dx.View, dy.View, pd.View, pl.View, length, RowKernels.LogSumExp, 1);
        var lse = dy.GetAsArray1D();

        using var dv = _accelerator.Allocate1D<float>(rows);
        using var di = _accelerator.Allocate1D<long>(rows);
        Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<long>, long, int>>(KernelMethods<float>.Extreme)
            (_accelerator.DefaultStream, new KernelConfig(rows, RowKernels.GroupSize), dx.View, dv.View, di.View, length, 1);
        var at = di.GetAsArray1D();

        using var ds = _accelerator.Allocate1D<float>(rows * length);
        Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, long, int, double>>(KernelMethods<float>.Softmax)
            (_accelerator.DefaultStream, new KernelConfig(rows, RowKernels.GroupSize), dx.View, ds.View, length, 0, 1.0);
        var softmax = ds.GetAsArray1D();

        using var t = Tensor.From(x, rows, length);
        Assert.Equal(t.ArgMax(1).ToArray<long>(), at);
        var wantLse = t.LogSumExp(1).ToArray<float>();
        var wantSoftmax = t.Softmax(1).ToArray<float>();
        for (int r = 0; r < rows; r++) Assert.True(Math.Abs(lse[r] - wantLse[r]) <= 1e-5 * Math.Abs(wantLse[r]), $"logsumexp[{r}]: {lse[r]} vs {wantLse[r]}");
        for (int i = 0; i < softmax.Length; i++) Assert.True(Math.Abs(softmax[i] - wantSoftmax[i]) <= 1e-5 * wantSoftmax[i], $"softmax[{i}]: {softmax[i]} vs {wantSoftmax[i]}");
    }

    [Fact]
    public void GemmAtSixteenBySixteenTiles()
    {
        const int m = 37, n = 29, k = 53;
        var a = Random(m * k, 2);
        var b = Random(k * n, 3);
        using var da = _accelerator.Allocate1D(a);
        using var db = _accelerator.Allocate1D(b);
        using var dc = _accelerator.Allocate1D<float>(m * n);
        var s = new GemmShape { M = m, N = n, K = k, RowA = k, ColA = 1, RowB = n, ColB = 1, BatchC = m * n, Alpha = 1, Beta = 0 };
        int tile = GemmKernels.Tile;
        Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>>(KernelMethods.Sgemm)
            (_accelerator.DefaultStream, new KernelConfig(new Index3D((n + tile - 1) / tile, (m + tile - 1) / tile, 1), new Index3D(tile, tile, 1)), da.View, db.View, dc.View, s);
        var c = dc.GetAsArray1D();
        using var ta = Tensor.From(a, m, k);
        using var tb = Tensor.From(b, k, n);
        var want = ta.Matmul(tb).ToArray<float>();
        for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c[i] - want[i]) <= 1e-4 * Math.Max(Math.Abs(want[i]), 1), $"c[{i}]: {c[i]} vs {want[i]}");
    }

    [Fact]
    public void Int8ProductAtOneHundredTwentyEightThreads()
    {
        const int m = 3, inFeatures = 300, outFeatures = 5;
        var x = Random(m * inFeatures, 4);
        var codes = new sbyte[outFeatures * inFeatures];
        var r = new Random(5);
        for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)r.Next(-127, 128);
        var scb = new float[] { 0.5f, 1f, 2f, 0.25f, 3f };
        var bias = new float[] { 1f, -1f, 0.5f, 0f, 2f };
        using var dy = _accelerator.Allocate1D<float>(m * outFeatures);
        using var dx = _accelerator.Allocate1D(x);
        using var dc = _accelerator.Allocate1D(codes);
        using var ds = _accelerator.Allocate1D(scb);
        using var dbias = _accelerator.Allocate1D(bias);
        Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<sbyte>, ArrayView<float>, ArrayView<float>, int, int, int, int>>(KernelMethods.FusedMatmulInt8)
            (_accelerator.DefaultStream, new KernelConfig(outFeatures, QuantKernels.GroupSize), dy.View, dx.View, dc.View, ds.View, dbias.View, m, inFeatures, outFeatures, 1);
        var y = dy.GetAsArray1D();
        for (int row = 0; row < m; row++)
            for (int j = 0; j < outFeatures; j++)
            {
                double dot = 0;
                for (int i = 0; i < inFeatures; i++) dot += x[row * inFeatures + i] * (double)codes[j * inFeatures + i];
                double want = dot * scb[j] / 127 + bias[j];
                Assert.True(Math.Abs(y[row * outFeatures + j] - want) <= 1e-4 * Math.Max(Math.Abs(want), 1), $"y[{row}, {j}]: {y[row * outFeatures + j]} vs {want}");
            }
    }
}
