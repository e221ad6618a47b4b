using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln;
using Kiln.NN;
using Kiln.Optim;
using Xunit;

namespace Kiln.Tests.Gpu;

/// <summary>
/// Mixed precision: <see cref="Autocast"/> against PyTorch's CPU autocast (golden, bfloat16) and on the emulated CUDA
/// device (float16), and <see cref="GradScaler"/>'s unscale / skip / back-off / growth rules.
/// </summary>
[Collection(EmulatedCuda.Collection)]
public class AutocastTests
{
    static JsonElement Golden => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "amp.json")))
        .RootElement.GetProperty("autocast_cpu_bf16");

    static Tensor Read(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var dtype = DTypes.Parse(e.GetProperty("dtype").GetString()!);
        if (dtype == DType.Int64) return Tensor.From(e.GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ToArray(), shape);
        using var f = Tensor.From(e.GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray(), shape);
        return f.To(dtype);
    }

    static void Close(Tensor expected, Tensor actual, double rel, string what)
    {
        Assert.Equal(expected.DType, actual.DType);
        var e = expected.To(DType.Float64).ToArray<double>();
        var a = actual.To(DType.Float64).ToArray<double>();
        // Relative to the tensor's largest magnitude: sums of 16-bit products cancel, so a small entry carries the
        // rounding of its large terms.
        double scale = e.Max(Math.Abs);
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= rel * Math.Max(Math.Abs(e[i]), scale), $"{what}[{i}]: PyTorch {e[i]}, Kiln {a[i]}");
    }

    [Fact]
    public void CpuAutocastMatchesPyTorch()
    {
        var g = Golden;
        using var x = Read(g.GetProperty("x"));
        using var w = Read(g.GetProperty("w")).RequiresGrad_();
        using var b = Read(g.GetProperty("b")).RequiresGrad_();
        using var target = Read(g.GetProperty("target"));
        Tensor y, sm, lsm, loss;
        using (Autocast.Enable(DType.BFloat16, DeviceType.Cpu))
        {
            Assert.True(Autocast.IsEnabled(DeviceType.Cpu));
            Assert.False(Autocast.IsEnabled(DeviceType.Cuda));
            y = F.Linear(x, w, b);
            sm = y.Softmax(1);
            lsm = y.LogSoftmax(1);
            loss = F.CrossEntropy(y, target);
        }
        Assert.False(Autocast.IsEnabled(DeviceType.Cpu));
        // bfloat16 has 8 bits of mantissa: one rounding of the product (PyTorch accumulates in float32 as Kiln does, in
        // another order) can land one bf16 step apart.
        Close(Read(g.GetProperty("y")), y, 1.6e-2, "linear (bf16)");
        // PyTorch's CPU autocast leaves softmax in the input's type (its CUDA autocast widens it; see the CUDA test).
        Close(Read(g.GetProperty("softmax")), sm, 1.6e-2, "softmax (bf16)");
        Close(Read(g.GetProperty("log_softmax")), lsm, 1.6e-2, "log_softmax (bf16)");
        Close(Read(g.GetProperty("loss")), loss, 1e-4, "cross_entropy (float32)");
        loss.Backward();
        Assert.Equal(DType.Float32, w.Grad!.DType);
        Close(Read(g.GetProperty("w_grad")), w.Grad!, 2e-2, "weight gradient");
        Close(Read(g.GetProperty("b_grad")), b.Grad!, 2e-2, "bias gradient");
    }

    [Fact]
    public void ScopesNestAndCanDisable()
    {
        using var a = Tensor.Ones(2, 3);
        using var m = Tensor.Ones(3, 2);
        using (Autocast.Enable(DType.BFloat16, DeviceType.Cpu))
        {
            using (Autocast.Enable(DType.BFloat16, DeviceType.Cpu, enabled: false))
            {
                using var inner = a.Matmul(m);
                Assert.Equal(DType.Float32, inner.DType);
            }
            using var outer = a.Matmul(m);
            Assert.Equal(DType.BFloat16, outer.DType);
            using var d = a.To(DType.Float64);
            using var dm = m.To(DType.Float64);
            using var wide = d.Matmul(dm);
            Assert.Equal(DType.Float64, wide.DType);   // float64 is left alone
        }
        Assert.Throws<KilnException>(() => Autocast.Enable(DType.Int32));
    }

    [Fact]
    public void CudaAutocastTrainsInHalfWithFloat32Weights()
    {
        using var cuda = new EmulatedCuda();
        var model = new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 4));
        model.To(Device.Cuda());
        using var x = Tensor.Randn([5, 8], DType.Float32, new Generator(3)).Cuda();
        using var y = Tensor.From(new long[] { 0, 1, 2, 3, 1 }, 5).Cuda();
        Tensor logits, loss;
        using (Autocast.Enable())
        {
            logits = model.Forward(x);
            loss = F.CrossEntropy(logits, y);
        }
        Assert.Equal(DType.Float16, logits.DType);
        Assert.Equal(DType.Float32, loss.DType);
        using (Autocast.Enable())
        using (var p = logits.Softmax(1))
            Assert.Equal(DType.Float32, p.DType);   // CUDA autocast's float32 list
        // The same network computed by hand in float16 on the CPU.
        var lin1 = (Linear)model[0];
        var lin2 = (Linear)model[2];
        using var h = F.Linear(x.Cpu().To(DType.Float16), lin1.Weight.Cpu().To(DType.Float16), lin1.Bias!.Cpu().To(DType.Float16)).Relu();
        using var expected = F.Linear(h, lin2.Weight.Cpu().To(DType.Float16), lin2.Bias!.Cpu().To(DType.Float16));
        EmulatedCuda.Same(expected, logits.Detach(), 1e-3, "float16 logits", 1e-3);
        loss.Backward();
        Assert.All(model.Parameters(), p => { Assert.Equal(DType.Float32, p.Grad!.DType); Assert.True(p.Grad!.IsCuda); });
    }

    [Fact]
    public void GradScalerUnscalesSkipsAndAdapts()
    {
        var w = Tensor.From(new float[] { 1, 2 }, 2).RequiresGrad_();
        var opt = new SGD(new[] { w }, lr: 0.1);
        var scaler = new GradScaler(initScale: 1024, growthInterval: 2);
        using var x = Tensor.From(new float[] { 3, 4 }, 2);
        for (int step = 0; step < 2; step++)
        {
            opt.ZeroGrad();
            using var loss = (w * x).Sum();
            using var scaled = scaler.Scale(loss);
            Assert.Equal(loss.Item<float>() * scaler.ScaleValue, scaled.Item<float>(), 3);
            scaled.Backward();
            Assert.True(scaler.Step(opt));
            scaler.Update();
        }
        // Two clean steps of w -= 0.1·x (the unscaled gradient), then the scale doubled once.
        Assert.Equal(new[] { 1 - 0.2f * 3, 2 - 0.2f * 4 }, w.Detach().ToArray<float>());
        Assert.Equal(2048, scaler.ScaleValue);

        opt.ZeroGrad();
        using (var bad = (w * float.PositiveInfinity).Sum()) scaler.Scale(bad).Backward();
        var before = w.Detach().ToArray<float>();
        Assert.False(scaler.Step(opt));                 // inf gradient: the step is skipped
        scaler.Update();
        Assert.Equal(before, w.Detach().ToArray<float>());
        Assert.Equal(1024, scaler.ScaleValue);          // and the scale backs off

        scaler.Unscale_(opt);
        Assert.Contains("already", Assert.Throws<KilnException>(() => scaler.Unscale_(opt)).Message);
        Assert.Throws<KilnException>(() => new GradScaler(growthFactor: 0.5));
    }
}
