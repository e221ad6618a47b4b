using System;
using System.Linq;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// The GPU backend runs LSTM and GRU layers as recorded per-step ops (<c>Tensor.CudaLstm</c>, <c>Tensor.CudaGru</c>);
/// run here on host tensors they must equal the host's fused kernels — outputs and every gradient — with and without
/// sequence lengths (held states past each end), forward and reverse.
/// </summary>
public class RecordedRecurrenceTests
{
    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, true)]
    [InlineData(false, true, true)]
    [InlineData(true, true, true)]
    public void RecordedLstmEqualsTheFusedKernel(bool reverse, bool projection, bool withLengths)
    {
        const int steps = 5, n = 3, h = 4;
        int p = projection ? 2 : h;
        var g = new Generator(41);
        Tensor[] Leaves() =>
        [
            Tensor.Randn([steps, n, 4 * h], DType.Float64, new Generator(1)).RequiresGrad_(),
            Tensor.Randn([n, p], DType.Float64, new Generator(2)).RequiresGrad_(),
            Tensor.Randn([n, h], DType.Float64, new Generator(3)).RequiresGrad_(),
            (Tensor.Randn([4 * h, p], DType.Float64, new Generator(4)) * 0.5).Detach().RequiresGrad_(),
            (Tensor.Randn([p, h], DType.Float64, new Generator(5)) * 0.5).Detach().RequiresGrad_(),
        ];
        var lengths = withLengths ? Tensor.From(new long[] { 2, 5, 1 }, n) : null;
        using var weights = Tensor.Randn([steps, n, p + h], DType.Float64, g);
        var fused = Leaves();
        var a = Tensor.LstmLayerOp(fused[0], fused[1], fused[2], fused[3], projection ? fused[4] : null, reverse, lengths);
        (a * weights).Sum().Backward();
        var recorded = Leaves();
        var b = Tensor.CudaLstm(recorded[0], recorded[1], recorded[2], recorded[3], projection ? recorded[4] : null, reverse, lengths);
        (b * weights).Sum().Backward();
        Close("output", a, b);
        for (int i = 0; i < (projection ? 5 : 4); i++) Close($"gradient {i}", fused[i].Grad!, recorded[i].Grad!);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void RecordedGruEqualsTheFusedKernel(bool reverse, bool withLengths)
    {
        const int steps = 5, n = 3, h = 4;
        Tensor[] Leaves() =>
        [
            Tensor.Randn([steps, n, 3 * h], DType.Float64, new Generator(1)).RequiresGrad_(),
            Tensor.Randn([n, h], DType.Float64, new Generator(2)).RequiresGrad_(),
            (Tensor.Randn([3 * h, h], DType.Float64, new Generator(4)) * 0.5).Detach().RequiresGrad_(),
            Tensor.Randn([3 * h], DType.Float64, new Generator(5)).RequiresGrad_(),
        ];
        var lengths = withLengths ? Tensor.From(new long[] { 4, 1, 5 }, n) : null;
        using var weights = Tensor.Randn([steps, n, h], DType.Float64, new Generator(6));
        var fused = Leaves();
        var a = Tensor.GruLayerOp(fused[0], fused[1], fused[2], fused[3], reverse, lengths);
        (a * weights).Sum().Backward();
        var recorded = Leaves();
        var b = Tensor.CudaGru(recorded[0], recorded[1], recorded[2], recorded[3], reverse, lengths);
        (b * weights).Sum().Backward();
        Close("output", a, b);
        for (int i = 0; i < 4; i++) Close($"gradient {i}", fused[i].Grad!, recorded[i].Grad!);
    }

    static void Close(string what, Tensor want, Tensor got)
    {
        var w = want.Contiguous().ToArray<double>();
        var v = got.Contiguous().ToArray<double>();
        Assert.Equal(w.Length, v.Length);
        for (int i = 0; i < w.Length; i++)
            Assert.True(Math.Abs(w[i] - v[i]) <= 1e-10 + 1e-10 * Math.Abs(w[i]), $"{what}[{i}]: {v[i]} vs {w[i]}");
        Assert.True(w.Any(x => x != 0), $"{what} is all zeros");
    }
}
