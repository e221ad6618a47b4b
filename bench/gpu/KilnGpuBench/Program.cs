using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using Kiln;
using Kiln.NN;
using Kiln.Optim;

namespace KilnGpuBench;

/// <summary>
/// <c>KilnGpuBench check</c>: every CUDA op family and its gradient against the CPU. <c>KilnGpuBench bench</c>: copy
/// bandwidth, a fused elementwise kernel, the MLP training step (compiled and eager), GEMMs, and the first compiled forward
/// of a new process; prints one JSON object. <c>--small</c> shrinks every size (for the emulator: KILN_CUDA_EMULATOR=1).
/// </summary>
public static class Program
{
    static bool _small;

    public static int Main(string[] args)
    {
        _small = args.Contains("--small");
        string mode = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "check";
        if (!Cuda.IsAvailable && !Cuda.Emulate)
        {
            Console.Error.WriteLine("KilnGpuBench: no CUDA device (Kiln.Cuda.IsAvailable is false); set KILN_CUDA_EMULATOR=1 to run on ILGPU's emulator");
            return 2;
        }
        return mode switch
        {
            "check" => Check.Run(_small),
            "bench" => Bench(),
            "first-forward" => FirstForward(),
            _ => Usage(),
        };
    }

    static int Usage()
    {
        Console.Error.WriteLine("usage: KilnGpuBench check|bench|first-forward [--small]");
        return 2;
    }

    /// <summary>Median seconds of <paramref name="reps"/> timed calls after <paramref name="warmup"/>, the device drained each time.</summary>
    internal static double Time(Action body, int reps = 20, int warmup = 3)
    {
        for (int i = 0; i < warmup; i++) { body(); Cuda.Synchronize(); }
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            body();
            Cuda.Synchronize();
            times[i] = sw.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[reps / 2];
    }

    static int Bench()
    {
        var r = new Dictionary<string, object>();
        r["device"] = Environment.GetEnvironmentVariable("KILN_GPU_NAME") ?? "cuda:0";
        // Copy bandwidth and the generated fused kernel on the same bytes (read once, write once).
        int n = _small ? 1 << 12 : 1 << 28;
        using var x = Tensor.Rand([n], DType.Float32, new Generator(1)).Cuda();
        double copy = Time(() => { using var c = x.Clone(); });
        r["copy_gbps"] = 2.0 * n * 4 / copy / 1e9;
        var ew = new Elementwise().Compile();
        using (Autograd.NoGrad())
        {
            double fused = Time(() => { using var y = ew.Forward(x); });
            r["fused_gbps"] = 2.0 * n * 4 / fused / 1e9;
            double eager = Time(() => { using var a = x * 2; using var b = a + 1; using var t = b.Tanh(); using var y = t * x; });
            r["eager_elementwise_ms"] = eager * 1e3;
            r["fused_ms"] = fused * 1e3;
            r["copy_ms"] = copy * 1e3;
        }
        // One op at a time over 2^26 float32 elements (rows of 1024 for the row ops): the same calls as torch_gpu.py's.
        int n2 = _small ? 1 << 12 : 1 << 26;
        using (Autograd.NoGrad())
        using (var v = Tensor.Randn([n2 / 1024, 1024], DType.Float32, new Generator(7)).Cuda())
        using (var w = Tensor.Randn([n2 / 1024, 1024], DType.Float32, new Generator(8)).Cuda())
        {
            foreach (var (name, f) in PerOp(w))
                r[$"op_{name}_ms"] = Time(() => { using var y = f(v); }) * 1e3;
        }
        // The MLP training step: forward, cross-entropy, backward, Adam.
        int batch = _small ? 8 : 256;
        foreach (bool compiled in new[] { false, true })
        {
            var model = new FashionMlp();
            model.To(Device.Cuda());
            var run = model.Compile();
            var opt = new Adam(model.Parameters(), lr: 1e-3);
            using var xb = Tensor.Randn([batch, 784], DType.Float32, new Generator(2)).Cuda();
            using var yb = Tensor.RandInt(0, 10, [batch], DType.Int64, new Generator(3)).Cuda();
            double step = Time(() =>
            {
                using var scope = Tensor.Scope();
                opt.ZeroGrad();
                var logits = compiled ? run.Forward(xb) : model.Forward(xb);
                var loss = F.CrossEntropy(logits, yb);
                loss.Backward();
                opt.Step();
            }, reps: _small ? 3 : 50);
            r[compiled ? "mlp_step_compiled_ms" : "mlp_step_eager_ms"] = step * 1e3;
        }
        // Matrix products: Kiln's own tiled FFMA kernel in float32; bfloat16 inputs (cuBLASLt when loaded).
        int m = _small ? 64 : 4096;
        foreach (var dtype in new[] { DType.Float32, DType.BFloat16 })
        {
            using var a = Tensor.Randn([m, m], DType.Float32, new Generator(4)).To(dtype).Cuda();
            using var b = Tensor.Randn([m, m], DType.Float32, new Generator(5)).To(dtype).Cuda();
            double t = Time(() => { using var c = a.Matmul(b); }, reps: _small ? 3 : 10);
            r[$"gemm_{dtype.Name()}_tflops"] = 2.0 * m * m * m / t / 1e12;
            r[$"gemm_{dtype.Name()}_ms"] = t * 1e3;
        }
        r["gemm_path"] = Kiln.Gpu.CublasLt.IsAvailable ? "cuBLASLt" : "Kiln tiled kernel";
        // The first compiled forward of a fresh process (kernels from the bundle: no IL-to-PTX compilation).
        var psi = new ProcessStartInfo(Environment.ProcessPath!, "first-forward" + (_small ? " --small" : "")) { RedirectStandardOutput = true };
        using (var p = Process.Start(psi)!)
        {
            string line = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            foreach (var kv in JsonSerializer.Deserialize<Dictionary<string, double>>(line)!) r[kv.Key] = kv.Value;
        }
        Console.WriteLine(JsonSerializer.Serialize(r));
        return 0;
    }

    /// <summary>The per-op rows (names shared with torch_gpu.py).</summary>
    static (string, Func<Tensor, Tensor>)[] PerOp(Tensor w) =>
    [
        ("neg", t => -t), ("mul_scalar", t => t * 2), ("add", t => t + w), ("exp", t => t.Exp()), ("log_abs", t => t.Abs().Log()),
        ("tanh", t => t.Tanh()), ("sigmoid", t => t.Sigmoid()), ("silu", t => t.Silu()), ("gelu", t => t.Gelu()),
        ("gelu_tanh", t => t.Gelu("tanh")), ("softmax_rows", t => t.Softmax(-1)), ("log_softmax_rows", t => t.LogSoftmax(-1)),
        ("sum", t => t.Sum()), ("sum_rows", t => t.Sum(new[] { 1 })),
    ];

    static int FirstForward()
    {
        var sw = Stopwatch.StartNew();
        using var x = Tensor.Randn([_small ? 8 : 256, 784]).Cuda();   // device and context creation
        Cuda.Synchronize();
        double init = sw.Elapsed.TotalMilliseconds;
        var model = new FashionMlp();
        model.To(Device.Cuda());
        var compiled = model.Compile();
        Cuda.Synchronize();
        sw.Restart();
        using (var y = compiled.Forward(x)) Cuda.Synchronize();
        double first = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        using (var y = compiled.Forward(x)) Cuda.Synchronize();
        double second = sw.Elapsed.TotalMilliseconds;
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, double>
        {
            ["device_init_ms"] = init,
            ["first_forward_ms"] = first,
            ["second_forward_ms"] = second,
            ["jit_compiled_kernels"] = Cuda.JitCompiledKernels,
        }));
        return 0;
    }
}
