using System;
using System.Collections.Generic;
using System.Linq;
using Kiln;
using Kiln.NN;
using Kiln.Optim;

namespace KilnGpuBench;

/// <summary>
/// Every CUDA op family, forward and gradient, against the CPU backend on the same inputs (fp32 rel 1e-5 elementwise,
/// 1e-4 for reductions and products; 16-bit types within their precision), then a few training steps compiled and eager.
/// Prints one line per check and a summary; the exit code is the number of failures.
/// </summary>
internal static class Check
{
    static int _failed, _passed;

    public static int Run(bool small)
    {
        int n = small ? 6 : 64;
        using var x = Rand(1, n, n + 3);
        using var pos = x.Abs() + 0.1;
        foreach (var (name, f, rel) in Unary())
        {
            Same(name, f(x.Detach()), f(x.Cuda()), rel);
            Grad(name, f, x, rel);
        }
        Grad("log (positive)", t => t.Log(), pos, 1e-5);
        Grad("sqrt (positive)", t => t.Sqrt(), pos, 1e-5);
        using var y = Rand(2, 1, n + 3);
        Grad("broadcast add", t => t + y.To(t.Device), x, 1e-5);
        Grad("broadcast mul", t => t * y.To(t.Device), x, 1e-5);
        Grad("div", t => t / (t.Abs() + 1.0), x, 1e-5);
        Grad("where", t => Tensor.Where(t.Gt(0), t * 2, t.Exp()), x, 1e-5);
        Grad("sum dim", t => t.Sum(new[] { 1 }), x, 1e-4);
        Grad("mean", t => t.Mean(new[] { 0 }), x, 1e-4);
        Grad("var", t => t.Var(new[] { 1 }), x, 1e-4);
        Grad("max", t => t.Max(), x, 1e-5);
        Grad("softmax", t => t.Softmax(1), x, 1e-4);
        Grad("log_softmax", t => t.LogSoftmax(1), x, 1e-4);
        Grad("logsumexp", t => t.LogSumExp(1), x, 1e-4);
        Grad("matmul", t => t.Matmul(t.T), x, 1e-4);
        using var idx = Tensor.From(Enumerable.Range(0, n).Select(i => (long)((i * 7) % n)).ToArray(), n);
        Grad("index_select", t => t.IndexSelect(0, t.IsCuda ? idx.Cuda() : idx), x, 1e-5);
        using var g = Tensor.From(Enumerable.Range(0, n * 2).Select(i => (long)((i * 5) % (n + 3))).ToArray(), n, 2);
        Grad("gather", t => t.Gather(1, t.IsCuda ? g.Cuda() : g), x, 1e-5);
        using var img = Rand(3, 2, 3, n / 2 + 5, n / 2 + 4);
        using var kernel = Rand(4, 4, 3, 3, 3);
        Grad("conv2d", t => F.Conv2d(t, t.IsCuda ? kernel.Cuda() : kernel, null, padding: new[] { 1, 1 }), img, 1e-4);
        Grad("max_pool2d", t => F.MaxPool2d(t, new[] { 2, 2 }), img, 1e-5);
        Grad("avg_pool2d", t => F.AvgPool2d(t, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1 }), img, 1e-5);
        Grad("cumsum", t => t.CumSum(1), x, 1e-4);
        foreach (var dt in new[] { DType.Float16, DType.BFloat16 })
        {
            using var h = x.To(dt);
            Same($"matmul {dt.Name()}", h.Matmul(h.T), h.Cuda().Matmul(h.Cuda().T), dt == DType.Float16 ? 1e-2 : 5e-2);
            Same($"convert {dt.Name()}", h.To(DType.Float32), h.Cuda().To(DType.Float32), 0);
        }
        if (Kiln.Gpu.CublasLt.IsAvailable) BothGemmPaths(n);
        else Console.WriteLine("SKIP cuBLASLt vs Kiln's kernel: cuBLASLt is not loaded here");
        Adapters(n);
        Training(small);
        Console.WriteLine($"check: {_passed} passed, {_failed} failed");
        return _failed;
    }

    /// <summary>cuBLASLt and Kiln's own tiled kernel give the same products (KILN_CUBLASLT=0 switches the library off).</summary>
    static void BothGemmPaths(int n)
    {
        foreach (var dt in new[] { DType.Float32, DType.BFloat16, DType.Float16 })
        {
            using var a = Rand(7, 3, n, n + 5).To(dt).Cuda();
            using var b = Rand(8, n + 5, n + 2).To(dt).Cuda();
            using var viaLibrary = a.Matmul(b);
            Environment.SetEnvironmentVariable("KILN_CUBLASLT", "0");
            using var viaKiln = a.Matmul(b);
            Environment.SetEnvironmentVariable("KILN_CUBLASLT", null);
            Same($"matmul {dt.Name()}: cuBLASLt vs Kiln's kernel", viaKiln, viaLibrary, dt == DType.Float32 ? 1e-4 : 1e-2);
        }
        var layer = new Linear(n + 5, n + 2);
        layer.To(Device.Cuda());
        using var x = Rand(9, n, n + 5).Cuda();
        using (Autograd.NoGrad())
        {
            var (fused, _) = Kiln.Compilation.CompiledOps.LinearEpilogue(x, layer.Weight, layer.Bias, Kiln.Kernels.Gemm.GemmActivation.Relu, null, false);
            using var plain = F.Linear(x, layer.Weight, layer.Bias).Relu();
            Same("linear+bias+relu: cuBLASLt epilogue vs separate ops", plain, fused, 1e-4);
        }
    }

    static IEnumerable<(string, Func<Tensor, Tensor>, double)> Unary() => new (string, Func<Tensor, Tensor>, double)[]
    {
        ("neg", t => -t, 0), ("abs", t => t.Abs(), 0), ("relu", t => t.Relu(), 0), ("exp", t => t.Exp(), 1e-5),
        ("sin", t => t.Sin(), 1e-5), ("cos", t => t.Cos(), 1e-5), ("tanh", t => t.Tanh(), 1e-5), ("sigmoid", t => t.Sigmoid(), 1e-5),
        ("silu", t => t.Silu(), 1e-5), ("gelu", t => t.Gelu(), 1e-5), ("gelu tanh", t => t.Gelu("tanh"), 1e-5),
        ("softplus", t => t.Softplus(), 1e-5), ("pow 3", t => t.Pow(3), 1e-5), ("clamp", t => t.Clamp(-0.5, 0.5), 0),
    };

    /// <summary>Issue 17's layers on the device: a 4-bit NF4 and an int8 linear layer (weights dequantized for the product) and a LoRA layer, forward and input gradient against the CPU.</summary>
    static void Adapters(int n)
    {
        Generator.ManualSeed(17);
        var nf4 = new Kiln.Quantization.Linear4bit(new Linear(64, n + 2), Kiln.Quantization.QuantType.Nf4, 64, doubleQuant: true);
        var nf4Gpu = new Kiln.Quantization.Linear4bit(new Linear(64, n + 2), Kiln.Quantization.QuantType.Nf4, 64, doubleQuant: true);
        nf4Gpu.LoadStateDict(nf4.StateDict());
        nf4Gpu.To(Device.Cuda(0));
        using var x = Rand(31, 5, 64);
        Same("linear_4bit (NF4, double quant)", nf4.Forward(x), nf4Gpu.Forward(x.Cuda()), 1e-4);
        Grad("linear_4bit input", t => t.IsCuda ? nf4Gpu.Forward(t) : nf4.Forward(t), Rand(32, 12, 64), 1e-4);
        var int8 = new Kiln.Quantization.Linear8bitLt(new Linear(64, n + 2));
        var int8Gpu = new Kiln.Quantization.Linear8bitLt(new Linear(64, n + 2));
        int8Gpu.LoadStateDict(int8.StateDict());
        int8Gpu.To(Device.Cuda(0));
        Same("linear_8bit (LLM.int8 rows)", int8.Forward(x), int8Gpu.Forward(x.Cuda()), 1e-4);
        var lora = new Kiln.Peft.LoraLinear(new Linear(64, n + 2));
        lora.AddAdapter("default", 8, 2.0, 0, Kiln.Peft.LoraInit.Random);
        var loraGpu = new Kiln.Peft.LoraLinear(new Linear(64, n + 2));
        loraGpu.AddAdapter("default", 8, 2.0, 0, Kiln.Peft.LoraInit.Random);
        loraGpu.LoadStateDict(lora.StateDict());
        lora.Lora.SetActive("default");
        loraGpu.Lora.SetActive("default");
        loraGpu.To(Device.Cuda(0));
        Grad("lora linear (r=8)", t => t.IsCuda ? loraGpu.Forward(t) : lora.Forward(t), Rand(33, 12, 64), 1e-4);
        if (n < 64) return;
        // Times on the device (Kiln only; printed, not in the table): a 4096→4096 layer, fp32 vs NF4 and int8 — each layer's own
        // path (the fused kernel reading the codes up to 8 rows, dequantize kernel + GEMM above) and dequantize + GEMM at every size.
        var big = new Linear(4096, 4096, bias: false);
        var bigNf4 = new Kiln.Quantization.Linear4bit(big, Kiln.Quantization.QuantType.Nf4, 64, doubleQuant: true);
        var bigInt8 = new Kiln.Quantization.Linear8bitLt(big);
        big.To(Device.Cuda(0));
        bigNf4.To(Device.Cuda(0));
        bigInt8.To(Device.Cuda(0));
        foreach (int m in new[] { 1, 8, 128 })
        {
            using var xin = Rand(34, m, 4096).Cuda();
            double Time(Func<Tensor> f)
            {
                using (Autograd.NoGrad()) for (int i = 0; i < 3; i++) f().Dispose();
                Kiln.Cuda.Synchronize();
                var sw = System.Diagnostics.Stopwatch.StartNew();
                using (Autograd.NoGrad()) for (int i = 0; i < 50; i++) f().Dispose();
                Kiln.Cuda.Synchronize();
                return sw.Elapsed.TotalMilliseconds / 50;
            }
            Console.WriteLine($"TIME linear {m}x4096->4096 on the GPU: fp32 {Time(() => big.Forward(xin)):F3} ms, NF4 layer {Time(() => bigNf4.Forward(xin)):F3} ms"
                + $" ({(m <= 8 ? "fused" : "dequantize + GEMM")}), NF4 dequantize + GEMM {Time(() => F.Linear(xin, bigNf4.DequantizedWeight())):F3} ms"
                + $", int8 layer {Time(() => bigInt8.Forward(xin)):F3} ms, int8 dequantize + GEMM {Time(() => F.Linear(xin, bigInt8.DequantizedWeight())):F3} ms");
        }
    }

    static Tensor Rand(ulong seed, params int[] shape)
    {
        using var u = Tensor.Rand(shape, DType.Float32, new Generator(seed));
        using var s = u * 4.0;
        return s - 2.0;
    }

    static void Grad(string name, Func<Tensor, Tensor> f, Tensor x, double rel)
    {
        using var xc = x.Detach().RequiresGrad_();
        using var xd = x.Cuda().Detach().RequiresGrad_();
        using var yc = f(xc);
        using var w = Rand(99, yc.Shape.ToArray());
        (yc * w).Sum().Backward();
        using var yd = f(xd);
        (yd * w.Cuda()).Sum().Backward();
        Same(name, yc.Detach(), yd.Detach(), rel);
        // The device composes a derivative from float32 ops where the CPU runs one fused kernel in double: a few float
        // roundings, visible near the derivative's zeros, so gradients get the reductions' bound.
        Same(name + " gradient", xc.Grad!, xd.Grad!, Math.Max(rel, 1e-4));
    }

    static void Same(string name, Tensor cpu, Tensor gpu, double rel)
    {
        var e = cpu.To(DType.Float64).ToArray<double>();
        var a = gpu.Cpu().To(DType.Float64).ToArray<double>();
        double scale = e.Length == 0 ? 1 : e.Max(Math.Abs);
        double worst = 0;
        for (int i = 0; i < e.Length; i++)
        {
            if (double.IsNaN(e[i]) && double.IsNaN(a[i])) continue;
            worst = Math.Max(worst, Math.Abs(e[i] - a[i]) / Math.Max(Math.Abs(e[i]), 1e-3 * scale));
        }
        bool ok = gpu.IsCuda && e.Length == a.Length && worst <= Math.Max(rel, 1e-7);
        if (ok) _passed++; else _failed++;
        Console.WriteLine($"{(ok ? "PASS" : "FAIL")} {name}: worst relative difference {worst:E2} (bound {rel:E0})");
    }

    static void Training(bool small)
    {
        int batch = small ? 8 : 128;
        using var xb = Tensor.Randn([batch, 784], DType.Float32, new Generator(5));
        using var yb = Tensor.RandInt(0, 10, [batch], DType.Int64, new Generator(6));
        foreach (bool compiled in new[] { false, true })
        {
            var cpu = new FashionMlp();
            var gpu = new FashionMlp();
            using (Autograd.NoGrad()) foreach (var (pc, pg) in cpu.Parameters().Zip(gpu.Parameters())) pg.Copy_(pc);
            gpu.To(Device.Cuda());
            // SGD: linear in the gradients, so float rounding stays rounding (Adam's m/√v turns a near-zero gradient's sign
            // noise into a full step; its kernel is checked on its own by the test suite).
            var oc = new SGD(cpu.Parameters(), lr: 0.05, momentum: 0.9);
            var og = new SGD(gpu.Parameters(), lr: 0.05, momentum: 0.9);
            var run = gpu.Compile();
            using var xg = xb.Cuda();
            using var yg = yb.Cuda();
            for (int step = 0; step < 3; step++)
            {
                oc.ZeroGrad(); og.ZeroGrad();
                var lc = F.CrossEntropy(cpu.Forward(xb), yb);
                var lg = F.CrossEntropy(compiled ? run.Forward(xg) : gpu.Forward(xg), yg);
                lc.Backward(); lg.Backward();
                oc.Step(); og.Step();
            }
            foreach (var (pc, pg) in cpu.Parameters().Zip(gpu.Parameters()))
                Same($"MLP training, {(compiled ? "compiled" : "eager")}, parameter after 3 SGD steps", pc.Detach(), pg.Detach(), 1e-4);
        }
    }
}
