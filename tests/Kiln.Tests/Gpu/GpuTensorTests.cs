using System;
using System.Linq;
using Kiln;
using Kiln.NN;
using Xunit;
using static Kiln.Tests.Gpu.EmulatedCuda;

namespace Kiln.Tests.Gpu;

/// <summary>
/// The CUDA backend's eager kernels on the emulated device, each against the CPU backend at small sizes: copies and
/// conversions of every dtype, elementwise ops with broadcasting and host scalars, reductions, softmax, matrix products.
/// </summary>
[Collection(EmulatedCuda.Collection)]
public class GpuTensorTests
{
    static Tensor Rand(params int[] shape)
    {
        var g = new Generator((ulong)(7 + shape.Sum()));
        using var u = Tensor.Rand(shape, DType.Float32, g);
        using var c = u * 4.0;
        return c - 2.0;
    }

    [Fact]
    public void LikeConstructorsKeepTheDevice()
    {
        // RandLike/RandnLike drew on the host and stayed there: x + RandnLike(x) then failed for a CUDA x.
        using var cuda = new EmulatedCuda();
        using var x = Tensor.Zeros([2, 3], DType.Float32, Device.Cuda());
        using var r = Tensor.RandLike(x, new Generator(3));
        using var n = Tensor.RandnLike(x, new Generator(3));
        Assert.Equal(Device.Cuda(0), r.Device);
        Assert.Equal(Device.Cuda(0), n.Device);
        using var hostDraw = Tensor.Randn([2, 3], DType.Float32, new Generator(3));
        Assert.Equal(hostDraw.ToArray<float>(), n.ToArray<float>());   // the same stream as on the host
        foreach (var t in new[] { Tensor.ZerosLike(x), Tensor.OnesLike(x), Tensor.EmptyLike(x), Tensor.FullLike(x, 2), x.NewZeros(4), x.NewFull([1], 3) })
            using (t) Assert.Equal(Device.Cuda(0), t.Device);
    }

    [Fact]
    public void EveryDTypeMakesTheRoundTripExactly()
    {
        using var cuda = new EmulatedCuda();
        using var x = Tensor.From(new float[] { -2.75f, -1f, 0f, 0.5f, 1f, 3.25f, 65519f, 1e-6f }, 2, 4);
        foreach (DType t in Enum.GetValues<DType>())
        {
            using var host = x.To(t);
            using var dev = host.Cuda();
            Assert.Equal(Device.Cuda(0), dev.Device);
            Assert.Equal(t, dev.DType);
            using var back = dev.Cpu();
            Assert.Equal(Device.Cpu, back.Device);
            Assert.Equal(host.ToArray<double>(), back.ToArray<double>());
        }
    }

    [Fact]
    public void ConversionsOnTheDeviceMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        // Between floating types: values that round differently to half and bfloat16 (ties, subnormals, overflow to
        // infinity, NaN); anything involving an integer type: values every type holds (out-of-range float-to-integer
        // casts are undefined behaviour in C and differ between PyTorch's own backends).
        using var special = Tensor.From(new double[] { -70000, -2.5, -1.00048828125, 0, 5.960464477539063e-8, 3e-8, 1.0009765625, 0.33333, 65520, 1e30, double.NaN }, 11);
        using var plain = Tensor.From(new double[] { 0, 0.5, 1, 2.5, 3.75, 100, 7 }, 7);
        foreach (DType from in Enum.GetValues<DType>())
            foreach (DType to in Enum.GetValues<DType>())
            {
                var values = from.IsFloatingPoint() && to.IsFloatingPoint() ? special : plain;
                using var src = values.To(from);
                using var expected = src.To(to);
                using var dsrc = src.Cuda();
                using var got = dsrc.To(to);
                Same(expected, got, 0, $"{from}->{to}");
            }
    }

    [Fact]
    public void StridedAndBroadcastCopiesLandInPlace()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(3, 4, 5);
        using var t = x.Transpose(0, 2);          // non-contiguous source on the host
        using var d = t.Cuda();
        Same(t.Contiguous(), d);
        using var dx = x.Cuda();
        using var dt = dx.Permute(2, 0, 1);         // non-contiguous on the device
        using var c = dt.Contiguous();
        Same(x.Permute(2, 0, 1).Contiguous(), c);
        // Views that start inside their storage: conversions, copies and concatenation read from the view's offset.
        using var inner = dx.Narrow(0, 1, 2);
        Same(x.Narrow(0, 1, 2).To(DType.Float16), inner.To(DType.Float16), 0, "converted offset view");
        Same(x.Narrow(0, 1, 2).Contiguous(), inner.Contiguous(), 0, "copied offset view");
        Same(Tensor.Cat(new[] { x.Narrow(0, 2, 1), x.Narrow(0, 0, 1) }, 0), Tensor.Cat(new[] { dx.Narrow(0, 2, 1), dx.Narrow(0, 0, 1) }, 0), 0, "cat of offset views");
        using var target = Tensor.Zeros([2, 3, 4, 5], DType.Float32, Device.Cuda());
        target.Copy_(x);                            // host source broadcast into a device tensor
        Same(x.Expand([2, 3, 4, 5]).Contiguous(), target);
    }

    [Theory]
    [InlineData("neg"), InlineData("abs"), InlineData("relu"), InlineData("exp"), InlineData("log"), InlineData("sqrt"), InlineData("rsqrt")]
    [InlineData("sin"), InlineData("cos"), InlineData("tanh"), InlineData("sigmoid"), InlineData("silu"), InlineData("gelu"), InlineData("gelu_tanh")]
    [InlineData("softplus"), InlineData("pow3"), InlineData("square"), InlineData("clamp"), InlineData("log1p")]
    public void UnaryOpsMatchTheCpu(string op)
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(5, 7);
        using var pos = x.Abs();
        using var dx = x.Cuda();
        using var dpos = pos.Cuda();
        Func<Tensor, Tensor> f = op switch
        {
            "neg" => t => -t,
            "abs" => t => t.Abs(),
            "relu" => t => t.Relu(),
            "exp" => t => t.Exp(),
            "log" => t => t.Log(),
            "sqrt" => t => t.Sqrt(),
            "rsqrt" => t => t.Rsqrt(),
            "sin" => t => t.Sin(),
            "cos" => t => t.Cos(),
            "tanh" => t => t.Tanh(),
            "sigmoid" => t => t.Sigmoid(),
            "silu" => t => t.Silu(),
            "gelu" => t => t.Gelu(),
            "gelu_tanh" => t => t.Gelu("tanh"),
            "softplus" => t => t.Softplus(2, 3),
            "pow3" => t => t.Pow(3),
            "square" => t => t.Pow(2),
            "clamp" => t => t.Clamp(-0.5, 1),
            _ => t => t.Log1p(),
        };
        bool positive = op is "log" or "sqrt" or "rsqrt" or "log1p";
        using var expected = f(positive ? pos : x);
        using var got = f(positive ? dpos : dx);
        Same(expected, got, 1e-5, op);
    }

    /// <summary>The first-hour functions on the device: the same kernels' op codes, the CPU's numbers (issue 15).</summary>
    [Fact]
    public void FirstHourElementwiseOpsMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var x = Tensor.From(new float[] { -2.5f, -1.5f, -0.5f, 0f, 0.5f, 1.5f, 2.5f, 3.7f, -3.7f, 0.25f }, 2, 5);
        using var unit = x * 0.25;
        using var pos = x.Abs() + 0.1;
        using var dx = x.Cuda();
        using var dunit = unit.Cuda();
        using var dpos = pos.Cuda();
        foreach (var (name, f, input, device) in new (string, Func<Tensor, Tensor>, Tensor, Tensor)[]
        {
            ("floor", t => t.Floor(), x, dx), ("ceil", t => t.Ceil(), x, dx), ("round", t => t.Round(), x, dx), ("trunc", t => t.Trunc(), x, dx),
            ("sign", t => t.Sign(), x, dx), ("erf", t => t.Erf(), x, dx), ("log2", t => t.Log2(), pos, dpos), ("log10", t => t.Log10(), pos, dpos),
            ("tan", t => t.Tan(), unit, dunit), ("asin", t => t.Asin(), unit, dunit), ("acos", t => t.Acos(), unit, dunit), ("atan", t => t.Atan(), x, dx),
        })
            Same(f(input), f(device), 1e-5, name, 1e-7);
        using var b = Tensor.From(new float[] { 2f, -2f, 0.75f, -3.5f, 1f }, 5);
        using var db = b.Cuda();
        Same(x.Atan2(b), dx.Atan2(db), 1e-5, "atan2", 1e-7);
        Same(x.Remainder(b), dx.Remainder(db), 1e-5, "remainder", 1e-6);
        Same(Kiln.NN.F.SwiGlu(x, b), Kiln.NN.F.SwiGlu(dx, db), 1e-5, "swiglu", 1e-7);
        using var i = Tensor.From(new long[] { 12, -7, 0, 255, -9 }, 5);
        using var j = Tensor.From(new long[] { 10, 3, -1, 15, 4 }, 5);
        using var di = i.Cuda();
        using var dj = j.Cuda();
        Same(i % j, di % dj, 0, "integer remainder");
        Same(i & j, di & dj, 0, "and");
        Same(i | j, di | dj, 0, "or");
        Same(i ^ j, di ^ dj, 0, "xor");
        Same(~i, ~di, 0, "not");
        Same(i.Sign(), di.Sign(), 0, "integer sign");
    }

    [Fact]
    public void BinaryOpsBroadcastAndTakeHostScalars()
    {
        using var cuda = new EmulatedCuda();
        using var a = Rand(4, 1, 6);
        using var b = Rand(3, 1);
        using var da = a.Cuda();
        using var db = b.Cuda();
        Same(a + b, da + db, 1e-6, "add");
        Same(a - b, da - db, 1e-6, "sub");
        Same(a * b, da * db, 1e-6, "mul");
        Same(a / b, da / db, 1e-6, "div");
        Same(a.Maximum(b), da.Maximum(db), 0, "maximum");
        Same(a.Minimum(b), da.Minimum(db), 0, "minimum");
        Same(a * 2.5, da * 2.5, 0, "scalar right");
        Same(3.0 - a, 3.0 - da, 0, "scalar left");
        Same(a.Gt(b), da.Gt(db), 0, "gt");
        Same(a.Le(0.25), da.Le(0.25), 0, "le scalar");
        Same(Tensor.Where(a.Gt(0), a, b), Tensor.Where(da.Gt(0), da, db), 0, "where");
        Same(a.MaskedFill(a.Lt(0), -7), da.MaskedFill(da.Lt(0), -7), 0, "masked_fill");
        using var ia = Tensor.Arange(0, 12).Reshape(3, 4);
        using var dia = ia.Cuda();
        Same(ia * 3 + ia, dia * 3 + dia, 0, "int64");
        Same((ia.To(DType.Int32) - 5).Abs(), (dia.To(DType.Int32) - 5).Abs(), 0, "int32");
    }

    [Fact]
    public void ReductionsMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(4, 300, 3);
        using var d = x.Cuda();
        Same(x.Sum(), d.Sum(), 1e-4, "sum all");
        Same(x.Sum(new[] { 1 }), d.Sum(new[] { 1 }), 1e-4, "sum dim 1");
        Same(x.Sum(new[] { 0, 2 }, keepDim: true), d.Sum(new[] { 0, 2 }, keepDim: true), 1e-4, "sum dims 0,2");
        Same(x.Mean(new[] { 1 }), d.Mean(new[] { 1 }), 1e-4, "mean");
        Same(x.Var(new[] { 1 }), d.Var(new[] { 1 }), 1e-4, "var");
        Same(x.Norm(), d.Norm(), 1e-4, "norm");
        Same(x.LogSumExp(1), d.LogSumExp(1), 1e-4, "logsumexp");
        Same(x.Max(), d.Max(), 0, "max");
        Same(x.ArgMax(1), d.ArgMax(1), 0, "argmax");
        Same(x.ArgMin(2), d.ArgMin(2), 0, "argmin");
        using var i = Tensor.Arange(0, 10);
        Same(i.Sum(), i.Cuda().Sum(), 0, "int sum");
    }

    [Fact]
    public void FewLongRowsAreReducedInPartsWithTheSameResult()
    {
        // Rows too few to fill a device are split into parts (partials in double / long, combined once): lengths that do
        // not divide evenly, one row and three, every op that splits; log-sum-exp and max stay one group per row.
        Assert.Equal(1, Kiln.Gpu.GpuOps.SplitsFor(3, 100, Kiln.Gpu.Kernels.RowKernels.Sum));
        Assert.Equal(3, Kiln.Gpu.GpuOps.SplitsFor(1, 3 * 2048 + 5, Kiln.Gpu.Kernels.RowKernels.Sum));
        Assert.Equal(1, Kiln.Gpu.GpuOps.SplitsFor(1, 1 << 20, Kiln.Gpu.Kernels.RowKernels.LogSumExp));
        using var cuda = new EmulatedCuda();
        using var x = Rand(3, 9001);
        using var d = x.Cuda();
        Same(x.Sum(), d.Sum(), 1e-6, "sum all");
        Same(x.Sum(new[] { 1 }), d.Sum(new[] { 1 }), 1e-6, "sum rows");
        Same(x.Mean(new[] { 1 }), d.Mean(new[] { 1 }), 1e-6, "mean rows");
        Same(x.LogSumExp(1), d.LogSumExp(1), 1e-6, "logsumexp rows");
        using var near1 = x * 1e-4 + 1.0;
        Same(near1.Prod(1), near1.Cuda().Prod(1), 1e-5, "prod rows");
        using var ints = Tensor.Arange(0, 20011);
        Same(ints.Sum(), ints.Cuda().Sum(), 0, "int sum");
    }

    [Fact]
    public void ShortRowsAreReducedOneThreadPerRowWithTheSameResult()
    {
        // Rows of at most RowKernels.ShortRowLength elements (a leading dim reduced: bias gradients, batch sums) take one
        // thread per row; 32 and 33 sit on either side of that switch. Every op, float, double and integer rows.
        Assert.Equal(32, Kiln.Gpu.Kernels.RowKernels.ShortRowLength);
        using var cuda = new EmulatedCuda();
        foreach (int length in new[] { 1, 2, 5, 32, 33 })
        {
            using var x = Rand(length, 3, 7);
            using var d = x.Cuda();
            Same(x.Sum(new[] { 0 }), d.Sum(new[] { 0 }), 1e-5, $"sum over a leading dim of {length}");
            Same(x.Mean(new[] { 0 }), d.Mean(new[] { 0 }), 1e-5, $"mean over {length}");
            Same(x.LogSumExp(0), d.LogSumExp(0), 1e-5, $"logsumexp over {length}");
            using var near1 = x * 0.01 + 1.0;
            Same(near1.Prod(0), near1.Cuda().Prod(0), 1e-5, $"prod over {length}");
            using var x64 = x.To(DType.Float64);
            Same(x64.Sum(new[] { 0 }), x64.Cuda().Sum(new[] { 0 }), 1e-12, $"float64 sum over {length}");
            using var ints = Tensor.Arange(0, length * 21).Reshape(length, 21);
            Same(ints.Sum(new[] { 0 }), ints.Cuda().Sum(new[] { 0 }), 0, $"int64 sum over {length}");
            using var i32 = ints.To(DType.Int32);
            Same(i32.Sum(new[] { 0 }), i32.Cuda().Sum(new[] { 0 }), 0, $"int32 sum over {length}");
        }
        // A NaN or an infinity in a short row: log-sum-exp is NaN / inf as on the CPU, max/argmax take the NaN, ties the
        // first index.
        using var odd = Tensor.From(new float[] { 1, float.NaN, 2, 3, float.PositiveInfinity, 0, 4, 1, 4 }, 3, 3);
        Same(odd.LogSumExp(1), odd.Cuda().LogSumExp(1), 0, "logsumexp with NaN and inf");
        Same(odd.ArgMax(1), odd.Cuda().ArgMax(1), 0, "argmax with NaN, inf and a tie");
        Same(odd.ArgMin(1), odd.Cuda().ArgMin(1), 0, "argmin with NaN and a tie");
        Same(odd.Max(1).Values, odd.Cuda().Max(1).Values, 0, "max with NaN");
    }

    [Fact]
    public void ShortRowsTakeTheirSoftmaxAndExtremesOneThreadPerRow()
    {
        // Softmax, log-softmax (scaled, both signs: attention over a few positions, a 10-class head) and max/argmax over
        // rows on either side of RowKernels.ShortRowLength, against the CPU.
        using var cuda = new EmulatedCuda();
        foreach (int length in new[] { 1, 3, 10, 32, 33 })
        {
            using var x = Rand(17, length);
            using var d = x.Cuda();
            Same(x.Softmax(-1), d.Softmax(-1), 1e-5, $"softmax over {length}");
            Same(x.LogSoftmax(-1), d.LogSoftmax(-1), 1e-5, $"log_softmax over {length}", atol: 1e-6);
            Same(x.ArgMax(1), d.ArgMax(1), 0, $"argmax over {length}");
            Same(x.ArgMin(1), d.ArgMin(1), 0, $"argmin over {length}");
            using var xi = (x * 3).To(DType.Int64);
            Same(xi.ArgMax(1), xi.Cuda().ArgMax(1), 0, $"int64 argmax over {length} (ties)");
        }
        using var q = Rand(2, 3, 5, 4);
        Same(F.ScaledDotProductAttention(q, q, q, isCausal: true), F.ScaledDotProductAttention(q.Cuda(), q.Cuda(), q.Cuda(), isCausal: true), 1e-5, "causal attention over 5 positions", atol: 1e-6);
    }

    [Fact]
    public void SoftmaxAndLogSoftmaxMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(3, 5, 300);
        using var d = x.Cuda();
        Same(x.Softmax(-1), d.Softmax(-1), 1e-5, "softmax");
        Same(x.LogSoftmax(1), d.LogSoftmax(1), 1e-5, "log_softmax dim 1");
    }

    [Fact]
    public void MatrixProductsMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var a = Rand(37, 19);
        using var b = Rand(19, 23);
        using var batch = Rand(3, 37, 19);
        using var bias = Rand(23);
        using var da = a.Cuda();
        using var db = b.Cuda();
        using var dbatch = batch.Cuda();
        using var dbias = bias.Cuda();
        Same(a.Matmul(b), da.Matmul(db), 1e-4, "2-D", atol: 1e-5);
        Same(batch.Matmul(b), dbatch.Matmul(db), 1e-4, "batched, broadcast right", atol: 1e-5);
        Same(a.Matmul(a.T), da.Matmul(da.T), 1e-4, "transposed right", atol: 1e-5);
        Same(Tensor.Addmm(bias, a, b, 0.5, 2), Tensor.Addmm(dbias, da, db, 0.5, 2), 1e-4, "addmm", atol: 1e-5);
        using var h = a.To(DType.Float16);
        using var hb = b.To(DType.Float16);
        Same(h.Matmul(hb), h.Cuda().Matmul(hb.Cuda()), 1e-3, "float16");
        using var bf = a.To(DType.BFloat16);
        using var bfb = b.To(DType.BFloat16);
        Same(bf.Matmul(bfb), bf.Cuda().Matmul(bfb.Cuda()), 1e-2, "bfloat16");
    }

    [Fact]
    public void MoreOpsRunOnTheDevice()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(1, 2, 3, 4);
        using var d = x.Cuda();
        Same(x.Prod(1), d.Prod(1), 1e-5, "prod");
        Same(x.Flip(3), d.Flip(3), 0, "flip");
        Same(Kiln.NN.F.Interpolate(x, new[] { 5, 7 }), Kiln.NN.F.Interpolate(d, new[] { 5, 7 }), 0, "interpolate nearest");
        Same(Kiln.NN.F.Interpolate(x, new[] { 5, 7 }, mode: "bilinear"), Kiln.NN.F.Interpolate(d, new[] { 5, 7 }, mode: "bilinear"), 1e-5, "interpolate bilinear", 1e-6);
        Same(Kiln.NN.F.Pad(x, new[] { 1, 2, 1, 1 }, "reflect"), Kiln.NN.F.Pad(d, new[] { 1, 2, 1, 1 }, "reflect"), 0, "pad reflect");
        using var labels = Tensor.From(new long[] { 2, 0, 1 }, 3);
        Same(Kiln.NN.F.OneHot(labels, 4), Kiln.NN.F.OneHot(labels.Cuda(), 4), 0, "one_hot");
        Assert.Contains("cuda:0", Assert.Throws<KilnException>(() => d.AsSpan<float>()).Message);
    }

    /// <summary>module.To/Cuda/Cpu hand back the module as its own type (PyTorch's <c>model = Net().to(device)</c>), converted in place.</summary>
    [Fact]
    public void ModuleConversionsChainAndKeepTheType()
    {
        using var cuda = new EmulatedCuda();
        var linear = new Kiln.NN.Linear(4, 3);
        var weight = linear.Weight;
        Kiln.NN.Linear moved = linear.To(Device.Cuda());
        Assert.Same(linear, moved);
        Assert.Same(weight, moved.Weight); // the same parameter object, now on the device
        Assert.True(moved.Weight.IsCuda);
        Kiln.NN.Linear wide = new Kiln.NN.Linear(2, 2).To(DType.Float64).Cuda();
        Assert.Equal(DType.Float64, wide.Weight.DType);
        Assert.True(wide.Bias!.IsCuda);
        Assert.False(wide.Cpu().Weight.IsCuda);
        using var y = moved.Call(Tensor.Ones(2, 4).Cuda());
        Assert.True(y.IsCuda);
    }

    [Fact]
    public void ACudaModelSavesAndLoadsThroughSafetensors()
    {
        using var cuda = new EmulatedCuda();
        var model = new Kiln.NN.Sequential(new Kiln.NN.Linear(4, 3), new Kiln.NN.ReLU(), new Kiln.NN.Linear(3, 2));
        model.To(Device.Cuda());
        Kiln.NN.Init.KaimingUniform_(((Kiln.NN.Linear)model[0]).Weight);   // in-place initialisation of a device tensor
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kiln-cuda-{Guid.NewGuid():N}.safetensors");
        try
        {
            Kiln.IO.SafeTensors.Save(path, model.StateDict());
            var copy = new Kiln.NN.Sequential(new Kiln.NN.Linear(4, 3), new Kiln.NN.ReLU(), new Kiln.NN.Linear(3, 2));
            copy.To(Device.Cuda());
            copy.LoadStateDict(Kiln.IO.SafeTensors.Load(path));
            foreach (var (a, b) in model.Parameters().Zip(copy.Parameters()))
            {
                Assert.True(b.IsCuda);
                Same(a.Detach().Cpu(), b.Detach(), 0, "parameter after the round trip");
            }
        }
        finally { System.IO.File.Delete(path); }
    }

    [Fact]
    public void MixingDevicesNamesBoth()
    {
        using var cuda = new EmulatedCuda();
        using var a = Tensor.Ones(2, 3);
        using var d = Tensor.Ones([2, 3], DType.Float32, Device.Cuda());
        var e = Assert.Throws<KilnException>(() => a + d);
        Assert.Contains("cpu", e.Message);
        Assert.Contains("cuda:0", e.Message);
        var m = Assert.Throws<KilnException>(() => a.Matmul(d.T));
        Assert.Contains("cuda:0", m.Message);
    }

    [Fact]
    public void CumSumMatchesTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(3, 5, 4);
        Same(x.CumSum(1), x.Cuda().CumSum(1), 1e-5, "cumsum float");
        using var i = Tensor.Arange(0, 12).Reshape(3, 4);
        Same(i.CumSum(0), i.Cuda().CumSum(0), 0, "cumsum int64");
    }

    [Fact]
    public void AnOpWithoutACudaKernelSaysSo()
    {
        using var cuda = new EmulatedCuda();
        using var d = Tensor.Ones([2, 3], DType.Float32, Device.Cuda());
        // Every public op has a CUDA path now; the CPU's fused layer-norm kernel (internal) stands for one that has not.
        var e = Assert.Throws<KilnException>(() => Tensor.LayerNormOp(d, 3, null, null, 1e-5));
        Assert.Contains("no CUDA kernel", e.Message);
        Assert.Contains("cuda:0", e.Message);
    }

    [Fact]
    public void TheCachingAllocatorReusesBlocks()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(64, 64).Cuda();
        void Step()
        {
            using var a = x * 2;
            using var b = a + 1;
            using var y = b.Relu();
        }
        for (int i = 0; i < 3; i++) Step();
        long before = Kiln.Cuda.DriverAllocations();
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(before, Kiln.Cuda.DriverAllocations());
        Assert.True(Kiln.Cuda.MemoryReserved() >= Kiln.Cuda.MemoryAllocated());
    }
}
