using System;
using System.Collections.Generic;
using Kiln;
using Kiln.Data;
using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Optim.Schedulers;

// A training run the checkpoint tests start as separate processes, so that resuming is tested across a real process
// boundary: nothing survives but the file.
// Usage: Kiln.ResumeProbe <steps> [--resume FILE] [--save FILE] --weights FILE
// Trains until <steps> optimizer steps in total (stopping mid-epoch), optionally resuming from and saving a checkpoint,
// and writes the final weights as safetensors.
int until = int.Parse(args[0]);
string? resume = Option("--resume"), save = Option("--save"), weights = Option("--weights");

// Dropout draws from the default generator, the loader shuffles with its own one: both must be restored.
Generator.ManualSeed(5);
var model = new Sequential(new Linear(6, 16), new ReLU(), new Dropout(0.3), new Linear(16, 3));
var optimizer = new AdamW(model.Parameters(), lr: 0.01);
var scheduler = new OneCycleLR(optimizer, 0.05, totalSteps: 100);
var data = new Generator(42);
var x = Tensor.Randn([50, 6], DType.Float32, data);
var y = Tensor.RandInt(0, 3, [50], DType.Int64, data);
var loaderGenerator = new Generator(7);
var loader = DataLoader.Create(new TensorDataset(x, y), batchSize: 8, shuffle: true, numWorkers: 1, generator: loaderGenerator);
long epoch = 0, step = 0;
if (resume != null)
{
    var info = Checkpoint.Load(resume, model, optimizer, scheduler, loader, [loaderGenerator]);
    (epoch, step) = (info.Epoch, info.Step);
}
while (step < until)
{
    bool stopped = false;
    foreach (var batch in loader)
    {
        optimizer.ZeroGrad();
        F.CrossEntropy(model.Call(batch[0]), batch[1]).Backward();
        optimizer.Step();
        scheduler.Step();
        if (++step >= until) { stopped = true; break; }
    }
    if (!stopped) epoch++;
}
if (save != null) Checkpoint.Save(save, model, optimizer, scheduler, epoch, step, loader, [loaderGenerator]);
if (weights != null) SafeTensors.Save(weights, model.StateDict());
Console.WriteLine($"trained to step {step} (epoch {epoch})");
return 0;

string? Option(string name) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
