using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln;
using Kiln.Data;
using Kiln.IO;
using Kiln.Monitoring;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Optim.Schedulers;
using Kiln.TensorBoard;

// Fashion-MNIST with the seed's classifier (784-128-10 MLP with dropout) or a LeNet-style CNN.
// Usage: dotnet run -c Release --project samples/FashionMnist -- [mlp|cnn] [--epochs N] [--root DIR] [--resume]
// The data comes from Debian's dataset-fashion-mnist package by default (the error says how to get it otherwise).
string kind = args.FirstOrDefault(a => a is "mlp" or "cnn") ?? "mlp";
int epochs = Arg("--epochs", 10);
string? root = ArgText("--root");
bool resume = args.Contains("--resume");
string outDir = Path.GetFullPath(Path.Combine("runs", "fashion-" + kind));
Directory.CreateDirectory(outDir);
string checkpointPath = Path.Combine(outDir, "last.safetensors");

Generator.ManualSeed(0);
// Fashion-MNIST's pixel mean and standard deviation.
var normalize = Transforms.Normalize([0.2860], [0.3530]);
var train = new FashionMnist(train: true, root: root, transform: normalize);
var test = new FashionMnist(train: false, root: root, transform: normalize);
var loaderGenerator = new Generator(1);
var loader = DataLoader.Create(train, batchSize: 64, shuffle: true, numWorkers: 1, generator: loaderGenerator);
Module<Tensor, Tensor> model = kind == "cnn" ? new LeNet() : new Mlp();
// Both are [Model] classes and train through the kernels generated for them at build time (Compile()).
Func<Tensor, Tensor> forward = model is Mlp mlp ? mlp.Compile().Forward : ((LeNet)model).Compile().Forward;
var optimizer = new Adam(model.Parameters(), lr: 1e-3);
// The learning rate follows a cosine from 1e-3 to 0 over the run, one step per epoch.
var schedule = new CosineAnnealingLR(optimizer, tMax: epochs);
int start = 1;
if (resume && File.Exists(checkpointPath))
{
    var info = Checkpoint.Load(checkpointPath, model, optimizer, schedule, loader: loader, generators: [loaderGenerator]);
    start = (int)info.Epoch + 1;
    Console.WriteLine($"resumed from {checkpointPath} after epoch {info.Epoch}");
}
Console.WriteLine(model);
using var log = new SummaryWriter(Path.Combine(outDir, "tensorboard"));
double accuracy = 0;
for (int epoch = start; epoch <= epochs; epoch++)
{
    model.Train();
    var report = TrainingProgress.Run($"{kind} epoch {epoch,2}/{epochs}", loader.Count, progress =>
    {
        foreach (var (x, y) in loader)
        {
            using var scope = Tensor.Scope();
            optimizer.ZeroGrad();
            var logits = forward(kind == "cnn" ? x : x.Reshape(-1, 784));
            var loss = F.CrossEntropy(logits, y);
            loss.Backward();
            optimizer.Step();
            progress.Advance(y.Size(0), loss.Item<float>(), logits.ArgMax(1).Eq(y).Sum().Item<long>());
        }
    }, evaluate: () => new Dictionary<string, double> { ["test accuracy"] = Evaluate(model, test, kind) });
    accuracy = report.Metrics["test accuracy"];
    log.AddScalar("loss/train", report.Loss, epoch);
    log.AddScalar("accuracy/test", accuracy, epoch);
    schedule.Step();
    Checkpoint.Save(checkpointPath, model, optimizer, schedule, epoch: epoch, loader: loader, generators: [loaderGenerator]);
}
Console.WriteLine($"{kind}: test accuracy {accuracy:P2}; checkpoint {checkpointPath}");
return 0;

int Arg(string name, int fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback; }
string? ArgText(string name) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }

static double Evaluate(Module<Tensor, Tensor> model, FashionMnist test, string kind)
{
    model.Eval();
    using var noGrad = Autograd.NoGrad();
    long correct = 0;
    foreach (var (x, y) in DataLoader.Create(test, batchSize: 1000))
    {
        using var scope = Tensor.Scope();
        correct += model.Call(kind == "cnn" ? x : x.Reshape(-1, 784)).ArgMax(1).Eq(y).Sum().Item<long>();
    }
    return (double)correct / test.Count;
}

/// <summary>The seed's classifier: 784 → 128 → 10 with dropout 0.2.</summary>
[Model]
sealed partial class Mlp : Module<Tensor, Tensor>
{
    readonly Linear layer1 = new(784, 128), layer2 = new(128, 10);
    readonly Dropout dropout = new(0.2);
    public override Tensor Forward([Shape("N 784")] Tensor x) => layer2.Call(dropout.Call(F.Relu(layer1.Call(x))));
}

/// <summary>LeNet-style: two conv + max-pool stages, then three linear layers.</summary>
[Model]
sealed partial class LeNet : Module<Tensor, Tensor>
{
    readonly Conv2d conv1 = new(1, 6, 5, padding: 2), conv2 = new(6, 16, 5);
    readonly MaxPool2d pool = new(2);
    readonly Linear fc1 = new(16 * 5 * 5, 120), fc2 = new(120, 84), fc3 = new(84, 10);
    public override Tensor Forward([Shape("N 1 28 28")] Tensor x)
    {
        x = pool.Call(F.Relu(conv1.Call(x)));
        x = pool.Call(F.Relu(conv2.Call(x)));
        x = x.Flatten(1);
        return fc3.Call(F.Relu(fc2.Call(F.Relu(fc1.Call(x)))));
    }
}
