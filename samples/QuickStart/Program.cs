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

// Kiln's quick start: an MLP trained on the 8x8 handwritten digits embedded in Kiln (no download), through the kernels
// the [Model] compiler generated for it at build time, with a progress bar, a TensorBoard log, a checkpoint and a PNG
// chart; then the checkpoint is reloaded into a fresh (eager) model and evaluated again.
Generator.ManualSeed(0);
string outDir = Path.GetFullPath(Path.Combine("runs", "quickstart-" + DateTime.Now.ToString("yyyyMMdd-HHmmss")));
Directory.CreateDirectory(outDir);

var train = new Digits(train: true);
var (testX, testY) = new Digits(train: false).AsTensors();
var loader = DataLoader.Create(train, batchSize: 32, shuffle: true, generator: new Generator(1));

var model = new DigitClassifier();
Console.WriteLine(model);
// Built at compile time from the class below ([Model]): fused kernels for its forward and backward, same parameters.
var compiled = model.Compile();
var optimizer = new AdamW(model.Parameters(), lr: 3e-3, weightDecay: 1e-4);
const int epochs = 25;
var scheduler = new CosineAnnealingLR(optimizer, tMax: epochs);
var history = new Dictionary<string, List<double>> { ["train loss"] = new(), ["test accuracy"] = new() };

using (var log = new SummaryWriter(Path.Combine(outDir, "tensorboard")))
{
    for (int epoch = 1; epoch <= epochs; epoch++)
    {
        model.Train();
        var report = TrainingProgress.Run($"epoch {epoch,2}/{epochs}", loader.Count, progress =>
        {
            foreach (var (x, y) in loader)
            {
                using var scope = Tensor.Scope();
                optimizer.ZeroGrad();
                var logits = compiled.Forward(x.Reshape(-1, 64));
                var loss = F.CrossEntropy(logits, y);
                loss.Backward();
                optimizer.Step();
                long correct = logits.ArgMax(1).Eq(y).Sum().Item<long>();
                progress.Advance(y.Size(0), loss.Item<float>(), correct);
            }
        }, evaluate: () => new Dictionary<string, double> { ["test accuracy"] = Evaluate(model, testX, testY) });
        scheduler.Step();
        double accuracy = report.Metrics["test accuracy"];
        history["train loss"].Add(report.Loss);
        history["test accuracy"].Add(accuracy);
        log.AddScalar("loss/train", report.Loss, epoch);
        log.AddScalar("accuracy/train", report.Accuracy, epoch);
        log.AddScalar("accuracy/test", accuracy, epoch);
        log.AddScalar("lr", scheduler.GetLastLr()[0], epoch);
    }
    foreach (var (name, p) in model.NamedParameters()) log.AddHistogram(name, p, epochs);
    log.AddText("model", model.ToString(), epochs);
}

double final = Evaluate(model, testX, testY);
string checkpoint = Path.Combine(outDir, "digits.safetensors");
Checkpoint.Save(checkpoint, model, optimizer, scheduler, epoch: epochs, step: epochs * loader.Count);
string chart = Path.Combine(outDir, "curves.png");
Charts.SaveLines(chart, "Digits MLP", "epoch", history.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<double>)kv.Value));

// A fresh model from the checkpoint gives the same test accuracy.
var reloaded = new DigitClassifier();
Checkpoint.Load(checkpoint, reloaded);
double again = Evaluate(reloaded, testX, testY);

Console.WriteLine($"test accuracy: {final:P2} (reloaded from the checkpoint: {again:P2})");
Console.WriteLine($"checkpoint:    {checkpoint}");
Console.WriteLine($"tensorboard:   tensorboard --logdir {Path.Combine(outDir, "tensorboard")}");
Console.WriteLine($"chart:         {chart}");
return final >= 0.95 && final == again ? 0 : 1;

static double Evaluate(DigitClassifier model, Tensor x, Tensor y)
{
    model.Eval();
    using var noGrad = Autograd.NoGrad();
    return model.Call(x).ArgMax(1).Eq(y).To(DType.Float32).Mean().Item<float>();
}

/// <summary>
/// 64 pixels → 128 → 10 with dropout: fields are registered as submodules under their names, as in PyTorch.
/// [Model] has the build check its shapes (try <c>output = new(100, 10)</c>: error KLN0001 on the Forward line).
/// </summary>
[Model]
sealed partial class DigitClassifier : Module<Tensor, Tensor>
{
    readonly Linear hidden = new(64, 128), output = new(128, 10);
    readonly Dropout dropout = new(0.2);

    public override Tensor Forward([Shape("N 64")] Tensor x) => output.Call(dropout.Call(F.Relu(hidden.Call(x))));
}
