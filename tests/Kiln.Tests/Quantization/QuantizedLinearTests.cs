using System;
using System.Linq;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Peft;
using Kiln.Quantization;
using Xunit;

namespace Kiln.Tests.Quantization;

/// <summary>The quantized layers: fused kernels equal dequantize-then-multiply, gradients reach input and bias, QLoRA trains.</summary>
public class QuantizedLinearTests
{
    static void Close(Tensor want, Tensor got, double tol, string what)
    {
        Assert.Equal(want.Shape.ToArray(), got.Shape.ToArray());
        var a = want.ToArray<float>(); var b = got.ToArray<float>();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= tol + tol * Math.Abs(a[i]), $"{what}[{i}]: {b[i]} vs {a[i]}");
    }

    [Theory]
    [InlineData(QuantType.Nf4, 64, false, 256)]
    [InlineData(QuantType.Fp4, 128, true, 256)]
    [InlineData(QuantType.Nf4, 32, true, 256)]
    // Deep rows run in K chunks (8 rows: 1024 columns, so 1024 + 1024 + 256; 5 rows: 1600 + 704 at blocksize 64).
    [InlineData(QuantType.Nf4, 64, true, 2304)]
    [InlineData(QuantType.Fp4, 256, false, 2304)]
    public void FusedFourBitProductEqualsDequantizedLinear(QuantType type, int blocksize, bool dq, int inFeatures)
    {
        Generator.ManualSeed(11);
        var lin = new Linear(inFeatures, 41);              // odd: a thread's last weight row runs alone
        var q = new Linear4bit(lin, type, blocksize, dq);
        var w = q.DequantizedWeight();
        using var _ = Autograd.NoGrad();
        foreach (int m in new[] { 1, 2, 3, 5, 8, 9, 17 })
        {
            var x = Tensor.Randn(m, inFeatures);
            Close(F.Linear(x, w, lin.Bias), q.Forward(x), 1e-4, $"m={m}");
        }
        var x3 = Tensor.Randn(2, 3, inFeatures);          // leading dims kept
        Close(F.Linear(x3, w, lin.Bias), q.Forward(x3), 1e-4, "3-D");
    }

    [Theory]
    [InlineData(100, 24)]     // not a multiple of 16: the scalar loop
    [InlineData(2320, 41)]    // 16·145: K chunks (8 rows: 1024 + 1024 + 272) ending in a 16-column step; an odd row last
    [InlineData(512, 40)]
    public void FusedInt8ProductEqualsDequantizedLinear(int inFeatures, int outFeatures)
    {
        Generator.ManualSeed(12);
        var lin = new Linear(inFeatures, outFeatures);
        var q = new Linear8bitLt(lin);
        var w = q.DequantizedWeight();
        using var _ = Autograd.NoGrad();
        foreach (int m in new[] { 1, 2, 3, 4, 5, 8, 12 })
        {
            var x = Tensor.Randn(m, inFeatures);
            Close(F.Linear(x, w, lin.Bias), q.Forward(x), 1e-4, $"m={m}");
        }
    }

    /// <summary>
    /// More rows than the fused kernels take run the blocked GEMM, each panel of the weight dequantized as it is packed:
    /// equal to x·Wᵀ in double over the dequantized weight, with 4-bit blocks straddling rows (an odd K starts every other
    /// row on a low nibble), K blocks that start off a multiple of 32, a partial last panel, on one and two threads (two
    /// threads and few rows split the columns: each slab reads the weight from its own first row). The input gradient
    /// g·W runs the same GEMM over W's panels dequantized untransposed, equal to it in double too (after the fused
    /// forward of a few rows as well).
    /// </summary>
    [Theory]
    [InlineData(99, 70, 64)]      // odd K: rows start mid-byte and mid-block; 70 outputs = 32 + 32 + 6
    [InlineData(600, 70, 64)]     // three K blocks of 200
    [InlineData(1024, 33, 128)]
    public void ManyRowsRunTheGemmOverPanelsDequantizedAsPacked(int inFeatures, int outFeatures, int blocksize)
    {
        Generator.ManualSeed(13);
        var lin = new Linear(inFeatures, outFeatures);
        var nf4 = new Linear4bit(lin, QuantType.Nf4, blocksize, true);
        var int8 = new Linear8bitLt(lin);
        var layers = new (Linear Layer, Tensor Weight)[] { (nf4, nf4.DequantizedWeight()), (int8, int8.DequantizedWeight()) };
        int saved = Threads.Count;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Threads.Count = threads;
                foreach (var (layer, weight) in layers)
                    foreach (int m in new[] { 3, 9, 40, 130 })
                    {
                        string what = $"{layer.GetType().Name} m={m} threads={threads}";
                        var x = Tensor.Randn(m, inFeatures).RequiresGrad_();
                        var gy = Tensor.Randn(m, outFeatures);
                        var y = layer.Forward(x);
                        y.Backward(gy);
                        using var _ = Autograd.NoGrad();
                        var w64 = weight.To(DType.Float64);
                        Close(F.Linear(x.To(DType.Float64), w64, lin.Bias!.To(DType.Float64)).To(DType.Float32), y.Detach(), 1e-4, what);
                        Close(gy.To(DType.Float64).Matmul(w64).To(DType.Float32), x.Grad!, 1e-4, what + " dx");
                    }
            }
        }
        finally { Threads.Count = saved; }
    }

    [Fact]
    public void GradientsReachInputAndBiasNotTheWeight()
    {
        Generator.ManualSeed(13);
        var q = new Linear4bit(new Linear(64, 6), QuantType.Nf4, 64, true);
        var x = Tensor.Randn([3, 64], DType.Float64).RequiresGrad_();
        var b = q.Bias!.To(DType.Float64).Detach().RequiresGrad_();
        Assert.True(Autograd.GradCheck(t => QuantizedForward(q, t[0], t[1]).Tanh(), [x, b]));
        var y = q.Forward(Tensor.Randn(2, 64).RequiresGrad_());
        y.Sum().Backward();
        Assert.Null(q.Weight.Grad);
        Assert.NotNull(q.Bias!.Grad);
        Assert.Contains("does not end in in_features=64", Assert.Throws<KilnException>(() => q.Forward(Tensor.Randn(2, 63))).Message);
    }

    /// <summary>
    /// bitsandbytes' dtypes: the input is cast to the compute dtype, the product rounded to it, and the output returned in
    /// the input's dtype — a float32 model with <c>bnb_4bit_compute_dtype=bfloat16</c> keeps float32 activations (its
    /// query and key, rotated by float32 tables, must match its value), and a bf16 model over int8 layers stays bf16.
    /// </summary>
    [Theory]
    [InlineData(DType.Float32, DType.BFloat16, 3)]
    [InlineData(DType.Float32, DType.BFloat16, 80)]     // the blocked GEMM
    [InlineData(DType.BFloat16, DType.Float32, 3)]
    [InlineData(DType.BFloat16, DType.BFloat16, 80)]
    [InlineData(DType.Float16, DType.Float32, 5)]
    public void TheOutputHasTheInputsDTypeAndTheProductIsRoundedToTheComputeDType(DType input, DType compute, int rows)
    {
        Generator.ManualSeed(17);
        var q = new Linear4bit(new Linear(64, 24), QuantType.Nf4, 64, true) { ComputeDType = compute };
        var x = Tensor.Randn([rows, 64]).To(input);
        using var _ = Autograd.NoGrad();
        var y = q.Forward(x);
        Assert.Equal(input, y.DType);
        var want = F.Linear(x.To(compute).To(DType.Float32), q.DequantizedWeight().To(DType.Float32), q.Bias!.To(compute).To(DType.Float32)).To(compute).To(input);
        // One rounding of the result to the compute (then input) dtype: equal, or one unit of the coarser type apart.
        Close(want.To(DType.Float32), y.To(DType.Float32), compute == DType.Float32 && input == DType.Float32 ? 1e-5 : 1e-2, $"{input}/{compute}");
        var int8 = new Linear8bitLt(new Linear(64, 24));
        Assert.Equal(input, int8.Forward(x).DType);
    }

    // The layer's product with a float64 bias (GradCheck works in float64).
    static Tensor QuantizedForward(Linear4bit q, Tensor x, Tensor bias) => q.Forward(x).Sub(q.Bias!.To(DType.Float64)).Add(bias);

    [Fact]
    public void QloraTrainsAdaptersOverAFrozenFourBitBase()
    {
        Generator.ManualSeed(14);
        var net = new Sequential(new Linear(64, 64), new ReLU(), new Linear(64, 4));
        Quantizer.Quantize(net, new BitsAndBytesConfig { LoadIn4Bit = true, Bnb4BitUseDoubleQuant = true, LlmInt8SkipModules = [] });
        Assert.All(new[] { net[0], net[2] }, m => Assert.IsType<Linear4bit>(m));
        var codes = ((Linear4bit)net[0]).Weight.ToArray<byte>();
        var peft = Kiln.Peft.Peft.GetPeftModel(net, new LoraConfig { R = 4, LoraAlpha = 8, TargetModulesRegex = "0|2", InitLoraWeights = LoraInit.Gaussian });
        Assert.IsType<LoraLinear>(net[0]);
        // PEFT's count: packed 4-bit weights as two parameters a byte (4352), fp32 biases (68), the adapters (784) train.
        Assert.Equal((784L, 5204L), peft.GetNbTrainableParameters());
        var x = Tensor.Randn(16, 64);
        var target = Tensor.From(Enumerable.Range(0, 16).Select(i => (long)(i % 4)).ToArray(), 16);
        var opt = new AdamW(net.Parameters().Where(p => p.RequiresGrad), lr: 1e-2);
        float first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            opt.ZeroGrad();
            var loss = F.CrossEntropy(net.Forward(x), target);
            loss.Backward();
            opt.Step();
            if (step == 0) first = loss.Item<float>();
            last = loss.Item<float>();
        }
        Assert.True(last < first * 0.7, $"loss {first} -> {last}");
        Assert.Equal(codes, ((Linear4bit)((LoraLinear)net[0]).BaseLayer).Weight.ToArray<byte>());   // the base never moved
        // Merging requantizes the base: outputs stay close (4-bit rounding of the merged weight).
        Tensor adapted;
        using (Autograd.NoGrad()) adapted = net.Forward(x);
        var merged = peft.MergeAndUnload();
        Assert.IsType<Linear4bit>(merged[0]);
        using (Autograd.NoGrad())
        {
            var m = merged.Forward(x);
            double err = m.Sub(adapted).Abs().Max().Item<float>(), scale = adapted.Abs().Max().Item<float>();
            Assert.True(err < 0.2 * scale, $"merged differs by {err} (scale {scale})");
        }
    }

    [Fact]
    public void FourBitModelsAreAboutHalfAByteAParameter()
    {
        Generator.ManualSeed(15);
        var net = new Sequential(new Linear(1024, 1024, bias: false), new Linear(1024, 1024, bias: false));
        long fp32 = Quantizer.ParameterBytes(net);
        Quantizer.Quantize(net, new BitsAndBytesConfig { LoadIn4Bit = true, Bnb4BitUseDoubleQuant = true, LlmInt8SkipModules = [] });
        double perParam = (double)Quantizer.ParameterBytes(net) / (2 * 1024 * 1024);
        Assert.InRange(perParam, 0.515, 0.53);        // 0.5 codes + 1/64 absmax codes + nested statistics and maps
        Assert.Equal(8L * 1024 * 1024, fp32);
    }

    [Fact]
    public void StateDictsCarryEverythingTheProductNeeds()
    {
        Generator.ManualSeed(16);
        var a = new Linear4bit(new Linear(128, 8), QuantType.Nf4, 64, doubleQuant: true);
        var b = new Linear4bit(new Linear(128, 8), QuantType.Nf4, 64, doubleQuant: true);
        var x = Tensor.Randn(2, 128);
        using var _ = Autograd.NoGrad();
        var before = b.Forward(x);                    // fills b's cached scales
        b.LoadStateDict(a.StateDict());
        Close(a.Forward(x), b.Forward(x), 1e-6, "after load");
        Assert.NotEqual(before.ToArray<float>(), b.Forward(x).ToArray<float>());
        Assert.Contains("nested_offset", a.StateDict().Keys);
    }
}
