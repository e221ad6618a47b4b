using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Kiln;

// Side-by-side benchmark: the same work in Kiln and in PyTorch (bench/torch_bench.py), in one run.
// Usage: dotnet run -c Release --project bench/Kiln.Bench [-- --quick] [--no-write]
// Usage: ... [--suite core|nn|compile|llm|quant|data|build] runs one suite and rewrites only its section of bench/RESULTS.md; [--case text] runs matching cases only.
var quick = args.Contains("--quick");
var write = !args.Contains("--no-write");
int suiteArg = Array.IndexOf(args, "--suite");
string? onlySuite = suiteArg >= 0 && suiteArg + 1 < args.Length ? args[suiteArg + 1] : null;
var cases = new List<BenchCase>();
foreach (int t in new[] { 1, 2 })
{
    foreach (int n in new[] { 256, 512, 1024, 2048 })
        cases.Add(new($"gemm {n} ({t}t)", "gemm", n, t, n >= 2048 ? 5 : n >= 1024 ? 15 : 40));
    // Shapes the square rows do not cover (M x K x N): odd-sized square, tall-skinny, small M.
    cases.Add(new($"gemm 1000x1000x1000 ({t}t)", "gemm", 1000, t, 15) { Dims = [1000, 1000, 1000] });
    cases.Add(new($"gemm 4096x512x1024 tall-skinny ({t}t)", "gemm", 4096, t, 10) { Dims = [4096, 512, 1024] });
    cases.Add(new($"gemm 128x1024x512 small-M ({t}t)", "gemm", 128, t, 60) { Dims = [128, 1024, 512] });
    cases.Add(new($"add 16M ({t}t)", "add", 16 << 20, t, 15));
    cases.Add(new($"gelu 16M ({t}t)", "gelu", 16 << 20, t, 15));
    cases.Add(new($"softmax 4096x1024 rows ({t}t)", "softmax", 4096, t, 15));
    cases.Add(new($"log_softmax 4096x1000 rows ({t}t)", "log_softmax", 4096, t, 15));
    cases.Add(new($"sum 16M ({t}t)", "sum", 16 << 20, t, 15));
    // An operand walked across its layout: a transposed view copied, passed through gelu, added to a row-major tensor.
    cases.Add(new($"contiguous() of a transposed 2048x2048 ({t}t)", "transpose_copy", 2048, t, 15));
    cases.Add(new($"gelu of a transposed 2048x2048 ({t}t)", "gelu_t", 2048, t, 15));
    cases.Add(new($"transposed + row-major 2048x2048 ({t}t)", "add_t", 2048, t, 15));
    cases.Add(new($"MLP 784-128-10 b64 fwd+CE+bwd ({t}t)", "mlp", 64, t, 200));
}
// Autograd's per-op cost: a chain of 1000 multiplies on a one-element tensor, recorded and not.
cases.Add(new("1000 tiny ops, recorded (1t)", "ops_grad", 1000, 1, 50));
cases.Add(new("1000 tiny ops, no grad (1t)", "ops_nograd", 1000, 1, 50));
foreach (int t in new[] { 1, 2 })
{
    cases.Add(new($"Conv2d 3x3 64->64 32x32 b32 fwd+bwd ({t}t)", "conv2d", 32, t, 8, "nn"));
    cases.Add(new($"LSTM 128->256 seq64 b32 fwd+bwd ({t}t)", "lstm", 32, t, 8, "nn"));
    cases.Add(new($"LSTM 128->256 packed lengths 8-64 b32 fwd+bwd ({t}t)", "lstm_packed", 32, t, 8, "nn"));
    cases.Add(new($"GRU 128->256 seq64 b32 fwd+bwd ({t}t)", "gru", 32, t, 8, "nn"));
    cases.Add(new($"TransformerEncoderLayer d256 h4 seq128 b16 fwd+bwd ({t}t)", "encoder", 16, t, 6, "nn"));
    cases.Add(new($"AdamW step, 10M params ({t}t)", "adamw", 10_000_000, t, 15, "nn"));
    cases.Add(new($"Conv2d 3x3 3->32 + BatchNorm2d 32x32 b64 fwd+bwd ({t}t)", "conv_bn3", 64, t, 10, "nn"));
    cases.Add(new($"Conv2d 3x3 32->64 + BatchNorm2d 16x16 b64 fwd+bwd ({t}t)", "conv_bn32", 64, t, 10, "nn"));
    cases.Add(new($"ResNet-18 basic block 64ch 32x32 b32 fwd+bwd ({t}t)", "resblock", 32, t, 5, "nn"));
}
// The [Model] compiler: one training step of the seed's classifier, eager and compiled (PyTorch eager for both rows).
foreach (int t in new[] { 1, 2 })
{
    cases.Add(new($"MLP 784-128-10 b64 train step (fwd, CE, bwd, Adam), eager ({t}t)", "mlp_step_eager", 64, t, 200, "compile"));
    cases.Add(new($"MLP 784-128-10 b64 train step (fwd, CE, bwd, Adam), compiled ({t}t)", "mlp_step_compiled", 64, t, 200, "compile"));
    cases.Add(new($"MLP 784-128-10 b64 train step (fwd, CE, bwd, Adam), compiled ReduceOverhead ({t}t)", "mlp_step_reduce", 64, t, 200, "compile"));
    cases.Add(new($"LeNet 28x28 b64 train step (fwd, CE, bwd, Adam), eager ({t}t)", "lenet_step_eager", 64, t, 60, "compile"));
    cases.Add(new($"LeNet 28x28 b64 train step (fwd, CE, bwd, Adam), compiled ({t}t)", "lenet_step_compiled", 64, t, 60, "compile"));
    cases.Add(new($"TransformerEncoderLayer d256 h4 seq128 b16 train step (fwd, MSE, bwd, Adam), eager ({t}t)", "encoder_step_eager", 16, t, 6, "compile"));
    cases.Add(new($"TransformerEncoderLayer d256 h4 seq128 b16 train step (fwd, MSE, bwd, Adam), compiled ({t}t)", "encoder_step_compiled", 16, t, 6, "compile"));
    cases.Add(new($"TransformerEncoderLayer d256 h4 seq128 b16 train step (fwd, MSE, bwd, Adam), compiled MaxAutotune ({t}t)", "encoder_step_tuned", 16, t, 6, "compile"));
    cases.Add(new($"TransformerEncoderLayer d256 h4 seq128 b16 train step (fwd, MSE, bwd, Adam), compiled ReduceOverhead ({t}t)", "encoder_step_reduce", 16, t, 6, "compile"));
    cases.Add(new($"LoRA r16 MLP 3x1024 b256 train step (fwd, MSE, bwd, AdamW on adapters), eager ({t}t)", "lora_step_eager", 256, t, 20, "compile"));
    cases.Add(new($"LoRA r16 MLP 3x1024 b256 train step (fwd, MSE, bwd, AdamW on adapters), compiled ({t}t)", "lora_step_compiled", 256, t, 20, "compile"));
    cases.Add(new($"Llama d256 4 layers GQA 8/4 heads seq128 b8 train step (fwd, CE, bwd, AdamW), eager ({t}t)", "llama_step_eager", 8, t, 5, "compile"));
    cases.Add(new($"Llama d256 4 layers GQA 8/4 heads seq128 b8 train step (fwd, CE, bwd, AdamW), compiled blocks ({t}t)", "llama_step_compiled", 8, t, 5, "compile"));
    cases.Add(new($"CIFAR CNN 3->32->64 BN b64 train step (fwd, CE, bwd, SGD momentum), eager ({t}t)", "cifar_step_eager", 64, t, 10, "compile"));
    cases.Add(new($"CIFAR CNN 3->32->64 BN b64 train step (fwd, CE, bwd, SGD momentum), compiled ({t}t)", "cifar_step_compiled", 64, t, 10, "compile"));
    cases.Add(new($"ResNet-18 basic block 64ch 32x32 b32 train step (fwd, MSE, bwd, SGD momentum), eager ({t}t)", "resblock_step_eager", 32, t, 5, "compile"));
    cases.Add(new($"ResNet-18 basic block 64ch 32x32 b32 train step (fwd, MSE, bwd, SGD momentum), compiled ({t}t)", "resblock_step_compiled", 32, t, 5, "compile"));
}
// Greedy decoding of a Llama-shaped model (~124M parameters, random weights): 32-token prompts, 16 new tokens.
foreach (int t in new[] { 1, 2 })
    foreach (int batch in new[] { 1, 8 })
    {
        cases.Add(new($"Llama 124M generate 32+16 tokens, batch {batch}, fp32 ({t}t)", "llama_decode", batch, t, 3, "llm"));
        cases.Add(new($"Llama 124M generate 32+16 tokens, batch {batch}, bf16 weights ({t}t)", "llama_decode_bf16", batch, t, 3, "llm"));
    }
// Quantized weights: a 4096x4096 linear layer at decode (1, 8 rows) and prefill (128 rows) sizes, and the decode model.
foreach (int t in new[] { 1, 2 })
{
    foreach (int m in new[] { 1, 8, 128 })
    {
        int reps = m == 128 ? 10 : 60;
        cases.Add(new($"linear {m}x4096->4096 fp32 weight ({t}t)", "q_fp32", m, t, reps, "quant") { Dims = [m, 4096, 4096] });
        cases.Add(new($"linear {m}x4096->4096 NF4 double-quant, Kiln Linear4bit ({t}t)", "q_nf4", m, t, reps, "quant") { Dims = [m, 4096, 4096] });
        cases.Add(new($"linear {m}x4096->4096 NF4, dequantize then GEMM ({t}t)", "q_nf4_dq", m, t, reps, "quant") { Dims = [m, 4096, 4096] });
        cases.Add(new($"linear {m}x4096->4096 int8 rows, Kiln Linear8bitLt ({t}t)", "q_int8", m, t, reps, "quant") { Dims = [m, 4096, 4096] });
    }
    cases.Add(new($"Llama 124M generate 32+16 tokens, batch 1, NF4 linears ({t}t)", "llama_decode_nf4", 1, t, 3, "quant"));
    cases.Add(new($"Llama 124M generate 32+16 tokens, batch 1, int8 linears ({t}t)", "llama_decode_int8", 1, t, 3, "quant"));
}
// One Fashion-MNIST epoch, data loading included (skipped when the dataset package is not installed).
if (File.Exists(Path.Combine(Kiln.Data.FashionMnist.DefaultRoot, "train-images-idx3-ubyte.gz")))
    foreach (int t in new[] { 1, 2 })
    {
        cases.Add(new($"Fashion-MNIST MLP epoch, batch 64, Adam ({t}t)", "fashion_mlp", 64, t, 2, "data"));
        cases.Add(new($"Fashion-MNIST LeNet CNN epoch, batch 64, Adam ({t}t)", "fashion_cnn", 64, t, 1, "data"));
    }
// torch.fft: real and complex transforms of batches of rows, and an audio-style STFT.
foreach (int t in new[] { 1, 2 })
{
    cases.Add(new($"rfft 64 rows x 4096 ({t}t)", "rfft", 4096, t, 200, "signal") { Dims = [64, 4096] });
    cases.Add(new($"rfft 256 rows x 1000 ({t}t)", "rfft", 1000, t, 200, "signal") { Dims = [256, 1000] });
    cases.Add(new($"fft complex 64 rows x 4096 ({t}t)", "fft_c2c", 4096, t, 200, "signal") { Dims = [64, 4096] });
    cases.Add(new($"stft 8 x 16000 samples, n_fft 400, hop 160, hann ({t}t)", "stft", 16000, t, 200, "signal") { Dims = [8, 16000] });
}
if (onlySuite != null) cases = cases.Where(c => c.Suite == onlySuite).ToList();
// --case <text> keeps the cases whose name contains the text (for measuring one kernel; implies --no-write).
int caseArg = Array.IndexOf(args, "--case");
if (caseArg >= 0 && caseArg + 1 < args.Length)
{
    cases = cases.Where(c => c.Name.Contains(args[caseArg + 1], StringComparison.OrdinalIgnoreCase)).ToList();
    write = false;
}
if (quick) cases = cases.Select(c => c with { Reps = Math.Max(3, c.Reps / 5) }).ToList();

// The machines are noisy: alternate Kiln and PyTorch for a few rounds and keep each side's best median.
int rounds = quick ? 1 : 3;
var kiln = new Dictionary<string, double>();
var torchTimes = new Dictionary<string, double>();
// PyTorch also with the strongest OpenBLAS kernel for this CPU, set for its process only (the machine sets another).
string? bestKernel = OpenBlasKernel.Best;
bool alsoBest = bestKernel != null && bestKernel != OpenBlasKernel.Machine;
var torchBest = new Dictionary<string, double>();
string torchVersion = "?";
for (int round = 0; round < rounds; round++)
{
    foreach (var c in cases)
    {
        double t = RunKiln(c);
        kiln[c.Name] = Math.Min(kiln.GetValueOrDefault(c.Name, double.MaxValue), t);
        Console.Error.WriteLine($"round {round + 1}: kiln  {c.Name,-32} {t * 1e3,9:F3} ms");
    }
    var (version, times) = RunTorch(cases, OpenBlasKernel.Machine);
    torchVersion = version;
    foreach (var kv in times) torchTimes[kv.Key] = Math.Min(torchTimes.GetValueOrDefault(kv.Key, double.MaxValue), kv.Value);
    if (!alsoBest) continue;
    foreach (var kv in RunTorch(cases, bestKernel).Times) torchBest[kv.Key] = Math.Min(torchBest.GetValueOrDefault(kv.Key, double.MaxValue), kv.Value);
}
// The physical limit beside the GEMM rows: the measured FMA peak per thread count.
var peak = cases.Any(c => c.Op == "gemm") ? cases.Select(c => c.Threads).Distinct().ToDictionary(t => t, FmaPeak.Measure) : new Dictionary<int, double>();

var sections = new Dictionary<string, string>();
// The build suite times the compiler, not kernels: no PyTorch side.
if ((onlySuite == null || onlySuite == "build") && caseArg < 0) sections["build"] = BuildTimes.Section(FindRepoRoot());
foreach (var suite in cases.Select(c => c.Suite).Distinct())
{
    var table = new StringBuilder();
    string machine = OpenBlasKernel.Describe(OpenBlasKernel.Machine);
    table.AppendLine(alsoBest
        ? $"| case | Kiln (ms) | PyTorch, OpenBLAS {machine} (ms) | speed vs PyTorch | PyTorch, OpenBLAS {bestKernel} (ms) | speed vs that | Kiln GFLOP/s | FMA peak GFLOP/s |"
        : "| case | Kiln (ms) | PyTorch (ms) | speed vs PyTorch | Kiln GFLOP/s | FMA peak GFLOP/s |");
    table.AppendLine(alsoBest ? "|---|---:|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|---:|");
    foreach (var c in cases.Where(c => c.Suite == suite))
    {
        double k = kiln[c.Name], p = torchTimes.GetValueOrDefault(c.Name, double.NaN), b = torchBest.GetValueOrDefault(c.Name, double.NaN);
        bool gemm = c.Op == "gemm";
        var mkn = c.Dims ?? [c.N, c.N, c.N];
        string flops = gemm ? (2.0 * mkn[0] * mkn[1] * mkn[2] / k / 1e9).ToString("F1", CultureInfo.InvariantCulture) : "";
        string limit = gemm && peak.TryGetValue(c.Threads, out var g) ? g.ToString("F1", CultureInfo.InvariantCulture) : "";
        table.AppendLine(alsoBest
            ? FormattableString.Invariant($"| {c.Name} | {k * 1e3:F3} | {p * 1e3:F3} | {p / k:F2}x | {b * 1e3:F3} | {b / k:F2}x | {flops} | {limit} |")
            : FormattableString.Invariant($"| {c.Name} | {k * 1e3:F3} | {p * 1e3:F3} | {p / k:F2}x | {flops} | {limit} |"));
    }
    Console.WriteLine(table);
    var section = new StringBuilder();
    section.AppendLine(suite switch { "core" => "## Tensor core and autograd", "nn" => "## NN layers and optimizers", "compile" => "## Compiled models", "llm" => LlamaBench.Title, "quant" => QuantBench.Title, "signal" => "## Spectral transforms", _ => "## Training epochs (data loading included)" });
    section.AppendLine();
    section.AppendLine($"Command: `dotnet run -c Release --project bench/Kiln.Bench -- --suite {suite}`  ");
    section.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores ({CpuName()}); PyTorch {torchVersion} with OpenBLAS, same run. " +
                       $"Each side ran {rounds} alternating rounds; a time is the best round's median of repeated calls after warm-up. \"Speed vs PyTorch\" is PyTorch's time divided by Kiln's (above 1 means Kiln is faster). " +
                       "PyTorch runs with OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to the thread count (torch.set_num_threads alone leaves OpenBLAS on every core) " +
                       "and with glibc's MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ raised so big blocks stay in its heap (without it every conv step page-faults its activations in again: 2-3x slower)" +
                       (alsoBest ? $", once with the machine's OPENBLAS_CORETYPE ({machine}) and once with {bestKernel}, the strongest kernel for this CPU, set for that process only." : ".") +
                       (peak.Count > 0 ? " FMA peak: float32 fused multiply-adds on registers, the widest vectors the JIT accelerates, on that many threads at once (the GEMM rows' physical limit)." : ""));
    if (suite == "nn")
        section.AppendLine("Layers run in training mode with PyTorch's default settings on both sides; the loss is the output's sum. AdamW updates one 10M-element float32 tensor.");
    if (suite == "compile")
        section.AppendLine("[Model] classes, one training step on a fixed batch: eager Kiln, its generated Compile() (the model's graph: producers as GEMMs with bias, ReLU/GELU and dropout in their epilogue and a ReLU-gated backward, the conv/pool/norm/attention kernels, one fused loop per remaining group of elementwise ops each way — residual adds, other activations —, one autograd node), and eager PyTorch (same model, same optimizer), one PyTorch measurement shared by the rows of a model. The MLP is the seed's classifier (Linear 784→128, ReLU, Dropout 0.2, Linear 128→10); LeNet is samples/FashionMnist's; the Transformer layer has PyTorch's defaults (feed-forward 2048, dropout 0.1, post-norm, relu, batch-first), MSE loss to a random target. MaxAutotune rows use the block sizes measured in their warm-up calls; ReduceOverhead rows run their temporaries in the compiled model's own memory pool (reserved in the warm-up calls). torch.compile is not in Debian's PyTorch 1.13.");
    if (suite == "llm") section.AppendLine(LlamaBench.Description);
    if (suite == "quant") section.AppendLine(QuantBench.Description);
    if (suite == "signal")
        section.AppendLine("Kiln.Fourier against torch.fft (pocketfft) on float32 rows: rfft of real rows, fft of complex rows (Kiln's ComplexTensor pairs against complex64), and torch.stft with return_complex=True (centre reflect padding, a Hann window). Both transform float32 rows in float32, several rows at a time in vector lanes (Kiln: eight, radix 4/2/3/5, loaded and stored by 8x8 register transposes; pocketfft: its vectorized passes); Kiln's stft gathers the reflect-padded frames from the signal in one pass. 200 calls per round (sub-millisecond calls on this VM vary by 2x between rounds at 30).");
    if (suite == "data")
        section.AppendLine("One epoch on Fashion-MNIST (Debian's dataset-fashion-mnist files), batch 64, shuffled, Adam, of the 784-128-10 MLP with dropout and of the LeNet-style CNN of samples/FashionMnist (conv 1→6 5x5 pad 2, max-pool 2, conv 6→16 5x5, max-pool 2, 400-120-84-10): each side reads samples one by one from the uint8 images (to float, /255, normalise) and stacks batches in its DataLoader on the calling thread.");
    section.AppendLine();
    section.Append(table);
    if (suite == "compile") section.AppendLine().Append(SavedActivations.Table()).AppendLine().Append(AutotuneCost.Table()).AppendLine().Append(PoolUse.Table());
    if (suite == "llm") section.AppendLine().Append(DecodeBound.Table());
    sections[suite] = section.ToString();
}
if (write)
{
    var path = Path.Combine(FindRepoRoot(), "bench", "RESULTS.md");
    // Keep the sections of suites not run this time.
    var existing = File.Exists(path) ? File.ReadAllText(path) : "";
    foreach (var (suite, title) in new[] { ("core", "## Tensor core and autograd"), ("nn", "## NN layers and optimizers"), ("compile", "## Compiled models"), ("llm", LlamaBench.Title), ("quant", QuantBench.Title), ("data", "## Training epochs (data loading included)"), ("signal", "## Spectral transforms"), ("build", BuildTimes.Title) })
    {
        if (sections.ContainsKey(suite)) continue;
        int at = existing.IndexOf(title, StringComparison.Ordinal);
        if (at < 0) continue;
        int end = existing.IndexOf("\n## ", at + title.Length, StringComparison.Ordinal);
        sections[suite] = end < 0 ? existing[at..] : existing[at..(end + 1)];
    }
    var text = new StringBuilder("# Benchmarks\n\nKiln and PyTorch 1.13 side by side on the same machine in one run. These machines are noisy: read the ratios, not the absolute times.\n\n");
    foreach (var suite in new[] { "core", "nn", "compile", "llm", "quant", "data", "signal", "build" })
        if (sections.TryGetValue(suite, out var sec)) text.Append(sec.TrimEnd('\n')).Append("\n\n");
    // Sections this program does not write (the GPU run's, bench/gpu/table.py) are kept as they are.
    var known = new[] { "## Tensor core and autograd", "## NN layers and optimizers", "## Compiled models", LlamaBench.Title, QuantBench.Title, "## Training epochs (data loading included)", "## Spectral transforms", BuildTimes.Title };
    foreach (var part in ("\n" + existing).Split("\n## ").Skip(1))
    {
        string other = "## " + part;
        if (!known.Any(k => other.StartsWith(k, StringComparison.Ordinal))) text.Append(other.TrimEnd('\n')).Append("\n\n");
    }
    File.WriteAllText(path, text.ToString().TrimEnd('\n') + "\n");
    Console.Error.WriteLine($"wrote {path}");
}

static double RunKiln(BenchCase c)
{
    Threads.Count = c.Threads;
    var g = new Generator(0);
    Func<Tensor> fn;
    switch (c.Op)
    {
        case "gemm":
        {
            var mkn = c.Dims ?? [c.N, c.N, c.N];
            var a = Tensor.Randn(new[] { mkn[0], mkn[1] }, generator: g);
            var b = Tensor.Randn(new[] { mkn[1], mkn[2] }, generator: g);
            fn = () => a.Matmul(b);
            break;
        }
        case "conv_bn3":
        case "conv_bn32":
        {
            bool first = c.Op == "conv_bn3";
            int cin = first ? 3 : 32, cout = first ? 32 : 64, size = first ? 32 : 16;
            var conv = new Kiln.NN.Conv2d(cin, cout, 3, padding: 1);
            var bn = new Kiln.NN.BatchNorm2d(cout);
            var x = Tensor.Randn(new[] { c.N, cin, size, size }, generator: g).RequiresGrad_();
            fn = () => { x.Grad = null; conv.ZeroGrad(); bn.ZeroGrad(); var y = bn.Forward(conv.Forward(x)).Sum(); y.Backward(); return y; };
            break;
        }
        case "resblock":
        {
            var block = new BenchResBlock();
            var x = Tensor.Randn(new[] { c.N, 64, 32, 32 }, generator: g).RequiresGrad_();
            fn = () => { x.Grad = null; block.ZeroGrad(); var y = block.Forward(x).Sum(); y.Backward(); return y; };
            break;
        }
        case "q_fp32":
        case "q_nf4":
        case "q_nf4_dq":
        case "q_int8":
        {
            var dims = c.Dims!;
            var lin = new Kiln.NN.Linear(dims[1], dims[2], bias: false);
            var x = Tensor.Randn(new[] { dims[0], dims[1] }, generator: g);
            Kiln.NN.Linear layer = c.Op switch
            {
                "q_fp32" => lin,
                "q_int8" => new Kiln.Quantization.Linear8bitLt(lin),
                _ => new Kiln.Quantization.Linear4bit(lin, Kiln.Quantization.QuantType.Nf4, 64, doubleQuant: true),
            };
            fn = c.Op == "q_nf4_dq"
                ? () => { using var _ = Autograd.NoGrad(); return Kiln.NN.F.Linear(x, ((Kiln.Quantization.Linear4bit)layer).DequantizedWeight()); }
            : () => { using var _ = Autograd.NoGrad(); return layer.Forward(x); };
            break;
        }
        case "llama_decode_nf4":
        case "llama_decode_int8":
        {
            var (model, ids) = LlamaBench.Create(c.N, g);
            Kiln.Quantization.Quantizer.Quantize(model, c.Op.EndsWith("nf4", StringComparison.Ordinal)
                ? new Kiln.Quantization.BitsAndBytesConfig { LoadIn4Bit = true, Bnb4BitUseDoubleQuant = true }
                : new Kiln.Quantization.BitsAndBytesConfig { LoadIn8Bit = true });
            var config = new Kiln.Transformers.GenerationConfig { MaxNewTokens = LlamaBench.NewTokens };
            fn = () => Kiln.Transformers.TextGeneration.Generate(model, ids, config);
            break;
        }
        case "llama_decode":
        case "llama_decode_bf16":
        {
            var (model, ids) = LlamaBench.Create(c.N, g, c.Op.EndsWith("bf16", StringComparison.Ordinal) ? DType.BFloat16 : DType.Float32);
            var config = new Kiln.Transformers.GenerationConfig { MaxNewTokens = LlamaBench.NewTokens };
            fn = () => Kiln.Transformers.TextGeneration.Generate(model, ids, config);
            break;
        }
        case "lora_step_eager":
        case "lora_step_compiled":
        {
            var model = new BenchLoraMlp();
            Kiln.Peft.Peft.GetPeftModel(model, new Kiln.Peft.LoraConfig { R = 16, LoraAlpha = 32, TargetModules = ["fc1", "fc2", "fc3"] });
            Func<Tensor, Tensor> forward = c.Op.EndsWith("compiled", StringComparison.Ordinal) ? model.Compile().Forward : model.Forward;
            var opt = new Kiln.Optim.AdamW(model.Parameters().Where(p => p.RequiresGrad), lr: 1e-3);
            var x = Tensor.Randn(new[] { c.N, 1024 }, generator: g);
            var target = Tensor.Randn(new[] { c.N, 1024 }, generator: g);
            fn = TrainSteps.Of(opt, () => Kiln.NN.F.MseLoss(forward(x), target));
            break;
        }
        case "llama_step_eager":
        case "llama_step_compiled":
        {
            // HF's LlamaForCausalLM with random weights; the compiled rows run each decoder block by its generated kernels.
            Generator.ManualSeed(0);
            var model = new Kiln.Transformers.LlamaForCausalLM(new Kiln.Transformers.LlamaConfig
            {
                VocabSize = 2048,
                HiddenSize = 256,
                IntermediateSize = 688,
                NumHiddenLayers = 4,
                NumAttentionHeads = 8,
                NumKeyValueHeads = 4,
                HeadDim = 32,
                MaxPositionEmbeddings = 256,
                RmsNormEps = 1e-6,
            });
            if (c.Op.EndsWith("compiled", StringComparison.Ordinal)) model.Compile();
            var opt = new Kiln.Optim.AdamW(model.Parameters(), lr: 1e-4);
            var ids = Tensor.RandInt(0, 2048, new[] { c.N, 128 }, generator: g);
            var targets = ids.Narrow(1, 1, 127).Reshape(-1);
            fn = TrainSteps.Of(opt, () => Kiln.NN.F.CrossEntropy(model.Forward(ids).Narrow(1, 0, 127).Reshape(-1, 2048), targets));
            break;
        }
        case "cifar_step_eager":
        case "cifar_step_compiled":
        case "resblock_step_eager":
        case "resblock_step_compiled":
        {
            bool cifar = c.Op.StartsWith("cifar", StringComparison.Ordinal), useCompiled = c.Op.EndsWith("compiled", StringComparison.Ordinal);
            Kiln.NN.Module model = cifar ? new BenchCifarCnn() : new BenchResBlock();
            Func<Tensor, Tensor> forward = cifar
                ? (useCompiled ? ((BenchCifarCnn)model).Compile().Forward : ((BenchCifarCnn)model).Forward)
                : (useCompiled ? ((BenchResBlock)model).Compile().Forward : ((BenchResBlock)model).Forward);
            var opt = new Kiln.Optim.SGD(model.Parameters(), lr: 0.01, momentum: 0.9);
            var x = Tensor.Randn(cifar ? new[] { c.N, 3, 32, 32 } : new[] { c.N, 64, 32, 32 }, generator: g);
            var y = Tensor.RandInt(0, 10, new[] { c.N }, generator: g);
            var target = cifar ? null : Tensor.Randn(new[] { c.N, 64, 32, 32 }, generator: g);
            fn = TrainSteps.Of(opt, () => cifar ? Kiln.NN.F.CrossEntropy(forward(x), y) : Kiln.NN.F.MseLoss(forward(x), target!));
            break;
        }
        case "rfft": { var x = Tensor.Randn(c.Dims!, generator: g); fn = () => Fourier.Rfft(x).AsReal; break; }
        case "fft_c2c": { var z = ComplexTensor.ViewAsComplex(Tensor.Randn([.. c.Dims!, 2], generator: g)); fn = () => Fourier.Fft(z).AsReal; break; }
        case "stft": { var x = Tensor.Randn(c.Dims!, generator: g); var w = Tensor.HannWindow(400); fn = () => Fourier.Stft(x, 400, 160, window: w).AsReal; break; }
        case "add": { var a = Tensor.Randn(new[] { c.N }, generator: g); var b = Tensor.Randn(new[] { c.N }, generator: g); fn = () => a + b; break; }
        case "gelu": { var a = Tensor.Randn(new[] { c.N }, generator: g); fn = () => a.Gelu(); break; }
        case "transpose_copy": { var a = Tensor.Randn(new[] { c.N, c.N }, generator: g).T; fn = () => a.Contiguous(); break; }
        case "gelu_t": { var a = Tensor.Randn(new[] { c.N, c.N }, generator: g).T; fn = () => a.Gelu(); break; }
        case "add_t": { var a = Tensor.Randn(new[] { c.N, c.N }, generator: g).T; var b = Tensor.Randn(new[] { c.N, c.N }, generator: g); fn = () => a + b; break; }
        case "softmax": { var a = Tensor.Randn(new[] { 4096, 1024 }, generator: g); fn = () => a.Softmax(1); break; }
        case "log_softmax": { var a = Tensor.Randn(new[] { 4096, 1000 }, generator: g); fn = () => a.LogSoftmax(1); break; }
        case "sum": { var a = Tensor.Randn(new[] { c.N }, generator: g); fn = () => a.Sum(); break; }
        case "mlp":
        {
            var x = Tensor.Randn(new[] { c.N, 784 }, generator: g);
            var y = Tensor.RandInt(0, 10, new[] { c.N, 1 }, generator: g);
            var w1 = (Tensor.Randn(new[] { 784, 128 }, generator: g) * 0.03).Detach().RequiresGrad_();
            var b1 = Tensor.Zeros(128).RequiresGrad_();
            var w2 = (Tensor.Randn(new[] { 128, 10 }, generator: g) * 0.1).Detach().RequiresGrad_();
            var b2 = Tensor.Zeros(10).RequiresGrad_();
            fn = () =>
            {
                w1.Grad = b1.Grad = w2.Grad = b2.Grad = null;
                var logits = (x.Matmul(w1) + b1).Relu().Matmul(w2) + b2;
                var loss = -logits.LogSoftmax(1).Gather(1, y).Mean();   // cross-entropy
                loss.Backward();
                return loss;
            };
            break;
        }
        case "mlp_step_eager":
        case "mlp_step_compiled":
        case "mlp_step_reduce":
        case "lenet_step_eager":
        case "lenet_step_compiled":
        {
            bool lenet = c.Op.StartsWith("lenet", StringComparison.Ordinal), useCompiled = !c.Op.EndsWith("eager", StringComparison.Ordinal);
            var mode = c.Op == "mlp_step_reduce" ? Kiln.Compilation.CompileMode.ReduceOverhead : Kiln.Compilation.CompileMode.Default;
            Kiln.NN.Module model = lenet ? new BenchLeNet() : new BenchClassifier();
            Func<Tensor, Tensor> compiled = lenet ? ((BenchLeNet)model).Compile(mode).Forward : ((BenchClassifier)model).Compile(mode).Forward;
            Func<Tensor, Tensor> eager = lenet ? ((BenchLeNet)model).Forward : ((BenchClassifier)model).Forward;
            var opt = new Kiln.Optim.Adam(model.Parameters(), lr: 1e-3);
            var x = lenet ? Tensor.Randn(new[] { c.N, 1, 28, 28 }, generator: g) : Tensor.Randn(new[] { c.N, 784 }, generator: g);
            var y = Tensor.RandInt(0, 10, new[] { c.N }, generator: g);
            fn = TrainSteps.Of(opt, () => Kiln.NN.F.CrossEntropy(useCompiled ? compiled(x) : eager(x), y));
            break;
        }
        case "encoder_step_eager":
        case "encoder_step_compiled":
        case "encoder_step_tuned":
        case "encoder_step_reduce":
        {
            if (c.Op == "encoder_step_tuned") Kiln.Compilation.Autotune.CacheDirectory = Path.Combine(Path.GetTempPath(), "kiln-bench-" + Guid.NewGuid().ToString("N"));
            var model = new BenchEncoder();
            Func<Tensor, Tensor> forward = c.Op switch
            {
                "encoder_step_compiled" => model.Compile().Forward,
                "encoder_step_tuned" => model.Compile(Kiln.Compilation.CompileMode.MaxAutotune).Forward,   // tuned in the warm-up calls, in a fresh cache
                "encoder_step_reduce" => model.Compile(Kiln.Compilation.CompileMode.ReduceOverhead).Forward,
                _ => model.Forward,
            };
            var opt = new Kiln.Optim.Adam(model.Parameters(), lr: 1e-4);
            var x = Tensor.Randn(new[] { c.N, 128, 256 }, generator: g);
            var target = Tensor.Randn(new[] { c.N, 128, 256 }, generator: g);
            fn = TrainSteps.Of(opt, () => Kiln.NN.F.MseLoss(forward(x), target));
            break;
        }
        case "conv2d":
        {
            var conv = new Kiln.NN.Conv2d(64, 64, 3, padding: 1);
            var x = Tensor.Randn(new[] { c.N, 64, 32, 32 }, generator: g).RequiresGrad_();
            fn = () => { x.Grad = null; conv.ZeroGrad(); var y = conv.Forward(x).Sum(); y.Backward(); return y; };
            break;
        }
        case "lstm":
        {
            var lstm = new Kiln.NN.LSTM(128, 256, batchFirst: true);
            var x = Tensor.Randn(new[] { c.N, 64, 128 }, generator: g).RequiresGrad_();
            fn = () => { x.Grad = null; lstm.ZeroGrad(); var y = lstm.Forward(x).Output.Sum(); y.Backward(); return y; };
            break;
        }
        case "lstm_packed":
        {
            // Unsorted lengths 8..64 (8 + 37·i mod 57), packed as the sequences of a text batch are.
            var lstm = new Kiln.NN.LSTM(128, 256, batchFirst: true);
            var x = Tensor.Randn(new[] { c.N, 64, 128 }, generator: g).RequiresGrad_();
            var lengths = new long[c.N];
            for (int i = 0; i < c.N; i++) lengths[i] = 8 + 37 * i % 57;
            fn = () =>
            {
                x.Grad = null; lstm.ZeroGrad();
                var (output, (h, _)) = lstm.Forward(Kiln.NN.RnnUtils.PackPaddedSequence(x, lengths, batchFirst: true, enforceSorted: false));
                var y = output.Data.Sum() + h.Sum(); y.Backward(); return y;
            };
            break;
        }
        case "gru":
        {
            var gru = new Kiln.NN.GRU(128, 256, batchFirst: true);
            var x = Tensor.Randn(new[] { c.N, 64, 128 }, generator: g).RequiresGrad_();
            fn = () => { x.Grad = null; gru.ZeroGrad(); var y = gru.Forward(x).Output.Sum(); y.Backward(); return y; };
            break;
        }
        case "encoder":
        {
            var layer = new Kiln.NN.TransformerEncoderLayer(256, 4, batchFirst: true);
            var x = Tensor.Randn(new[] { c.N, 128, 256 }, generator: g).RequiresGrad_();
            fn = () => { x.Grad = null; layer.ZeroGrad(); var y = layer.Forward(x).Sum(); y.Backward(); return y; };
            break;
        }
        case "adamw":
        {
            var p = Tensor.Randn(new[] { c.N }, generator: g).RequiresGrad_();
            p.Grad = Tensor.Randn(new[] { c.N }, generator: g);
            var opt = new Kiln.Optim.AdamW(new[] { p });
            fn = () => { opt.Step(); return Tensor.Scalar(0.0); };
            break;
        }
        case "fashion_mlp":
        {
            var normalize = Kiln.Data.Transforms.Normalize([0.2860], [0.3530]);
            var train = new Kiln.Data.FashionMnist(train: true, transform: normalize);
            var loader = Kiln.Data.DataLoader.Create(train, batchSize: c.N, shuffle: true, generator: new Generator(1));
            var l1 = new Kiln.NN.Linear(784, 128);
            var l2 = new Kiln.NN.Linear(128, 10);
            var drop = new Kiln.NN.Dropout(0.2);
            var opt = new Kiln.Optim.Adam(l1.Parameters().Concat(l2.Parameters()));
            fn = () =>
            {
                Tensor last = Tensor.Scalar(0.0);
                foreach (var (x, y) in loader)
                {
                    using var scope = Tensor.Scope();
                    opt.ZeroGrad();
                    var logits = l2.Forward(drop.Forward(Kiln.NN.F.Relu(l1.Forward(x.Reshape(-1, 784)))));
                    var loss = Kiln.NN.F.CrossEntropy(logits, y);
                    loss.Backward();
                    opt.Step();
                }
                return last;
            };
            break;
        }
        case "fashion_cnn":
        {
            var normalize = Kiln.Data.Transforms.Normalize([0.2860], [0.3530]);
            var train = new Kiln.Data.FashionMnist(train: true, transform: normalize);
            var loader = Kiln.Data.DataLoader.Create(train, batchSize: c.N, shuffle: true, generator: new Generator(1));
            var net = new Kiln.NN.Sequential(new Kiln.NN.Conv2d(1, 6, 5, padding: 2), new Kiln.NN.ReLU(), new Kiln.NN.MaxPool2d(2),
                new Kiln.NN.Conv2d(6, 16, 5), new Kiln.NN.ReLU(), new Kiln.NN.MaxPool2d(2), new Kiln.NN.Flatten(),
                new Kiln.NN.Linear(400, 120), new Kiln.NN.ReLU(), new Kiln.NN.Linear(120, 84), new Kiln.NN.ReLU(), new Kiln.NN.Linear(84, 10));
            var opt = new Kiln.Optim.Adam(net.Parameters());
            fn = () =>
            {
                foreach (var (x, y) in loader)
                {
                    using var scope = Tensor.Scope();
                    opt.ZeroGrad();
                    var loss = Kiln.NN.F.CrossEntropy(net.Forward(x), y);
                    loss.Backward();
                    opt.Step();
                }
                return Tensor.Scalar(0.0);
            };
            break;
        }
        case "ops_grad":
        case "ops_nograd":
        {
            var x = Tensor.Ones(1).RequiresGrad_();
            bool record = c.Op == "ops_grad";
            fn = () =>
            {
                using var mode = record ? Autograd.EnableGrad() : Autograd.NoGrad();
                var y = x;
                for (int i = 0; i < c.N; i++) y = y * 1.0001;
                return y;
            };
            break;
        }
        default: throw new ArgumentException(c.Op);
    }
    // Warm up past tiered JIT compilation, then take the median like the Python side.
    // Whole epochs warm up once (their thousands of batches are warm-up enough); short kernels many times.
    int warmups = c.Suite == "data" ? 1 : Math.Max(3, c.Reps / 3) + 30 / Math.Max(1, c.Reps);
    for (int i = 0; i < warmups; i++) fn().Dispose();
    var times = new double[c.Reps];
    for (int i = 0; i < c.Reps; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        var r = fn();
        times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        r.Dispose();
    }
    Array.Sort(times);
    return times[times.Length / 2];
}

static (string Version, Dictionary<string, double> Times) RunTorch(List<BenchCase> cases, string? coretype)
{
    // One PyTorch process per thread count: torch.set_num_threads does not reach OpenBLAS's own
    // pthreads, so OPENBLAS_NUM_THREADS (and OMP_NUM_THREADS) must be set before it starts.
    var times = new Dictionary<string, double>();
    string version = "?";
    foreach (var group in cases.GroupBy(c => c.Threads))
    {
        var (v, t) = RunTorchProcess(group.ToList(), group.Key, coretype);
        version = v;
        foreach (var kv in t) times[kv.Key] = kv.Value;
    }
    return (version, times);
}

static (string, Dictionary<string, double>) RunTorchProcess(List<BenchCase> cases, int threads, string? coretype)
{
    var python = Environment.GetEnvironmentVariable("KILN_PYTHON") ?? "/usr/bin/python3";
    var script = Path.Combine(FindRepoRoot(), "bench", "torch_bench.py");
    var psi = new ProcessStartInfo(python, script) { RedirectStandardInput = true, RedirectStandardOutput = true };
    psi.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
    psi.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
    // glibc hands every block over 128 KiB back to the OS on free, so each step of a conv net page-faults its activations
    // in again (2-3x slower, and how much depends on what ran earlier in the process). PyTorch's tuning guide answers
    // with a caching malloc; keeping big blocks in glibc's heap does the same and makes its times steady.
    psi.Environment["MALLOC_MMAP_THRESHOLD_"] = "268435456";
    psi.Environment["MALLOC_TRIM_THRESHOLD_"] = "1073741824";
    if (coretype is null) psi.Environment.Remove("OPENBLAS_CORETYPE");
    else psi.Environment["OPENBLAS_CORETYPE"] = coretype;
    using var p = Process.Start(psi)!;
    p.StandardInput.Write(JsonSerializer.Serialize(cases.Select(c => new { name = c.Name, op = c.Op, n = c.N, dims = c.Dims, threads = c.Threads, reps = c.Reps, warmup = c.Suite == "data" ? 1 : (int?)null })));
    p.StandardInput.Close();
    var output = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"{python} {script} failed ({p.ExitCode}); install python3-torch (./test.sh --regenerate-golden does)");
    using var doc = JsonDocument.Parse(output);
    var times = doc.RootElement.GetProperty("results").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetDouble());
    return (doc.RootElement.GetProperty("torch").GetString()!, times);
}

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Compile.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}

static string CpuName()
{
    try { return File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("model name")).Split(':')[1].Trim(); }
    catch (Exception) { return "unknown CPU"; }
}

/// <summary>
/// One training step as a bench call: the gradients zeroed, the loss, its backward and the optimizer's step, inside a
/// tensor scope as a training loop releases its temporaries.
/// </summary>
static class TrainSteps
{
    public static Func<Tensor> Of(Kiln.Optim.Optimizer opt, Func<Tensor> loss) => () =>
    {
        using var scope = Tensor.Scope();
        opt.ZeroGrad();
        var l = loss();
        l.Backward();
        opt.Step();
        return Tensor.Scalar(l.Item<float>());
    };
}

record BenchCase(string Name, string Op, int N, int Threads, int Reps, string Suite = "core")
{
    /// <summary>A GEMM's M, K, N when it is not square (N³).</summary>
    public int[]? Dims { get; init; }
}
