using System;
using System.Linq;
using Kiln;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Optim.Schedulers;

// Kiln's quick start: a model class with PyTorch's nn names, cross-entropy, AdamW with a warm-up then cosine
// schedule, trained on a synthetic 3-class problem; then the state dict round trip. (The digits data set,
// progress bar and checkpoints on disk arrive with the data/IO piece of Kiln.)
Generator.ManualSeed(0);

// Three Gaussian blobs in 2-D, 300 points each.
var centers = Tensor.From(new float[,] { { 0, 3 }, { 3, -2 }, { -3, -1 } });
var labels = Tensor.Arange(3).Repeat(300);                       // [900] int64: 0,1,2,0,1,2,...
var x = centers.IndexSelect(0, labels) + Tensor.Randn(900, 2);   // [900, 2]

var model = new BlobClassifier(2, 3);
Console.WriteLine(model);                                         // printed like PyTorch's print(model)
Console.WriteLine($"parameters: {model.Parameters().Sum(p => p.Numel)}");

var optimizer = new AdamW(model.Parameters(), lr: 0.05);
var scheduler = new SequentialLR(optimizer,
    [new LinearLR(optimizer, startFactor: 0.1, totalIters: 10), new CosineAnnealingLR(optimizer, tMax: 90)], milestones: [10]);

for (int step = 0; step < 100; step++)
{
    using var scope = Tensor.Scope();                             // frees every temporary of the step
    optimizer.ZeroGrad();
    var logits = model.Call(x);
    var loss = F.CrossEntropy(logits, labels, labelSmoothing: 0.05);
    loss.Backward();
    GradClipping.ClipGradNorm_(model.Parameters(), maxNorm: 5);
    optimizer.Step();
    scheduler.Step();
    if (step % 20 == 0 || step == 99)
    {
        var accuracy = logits.ArgMax(1).Eq(labels).To(DType.Float32).Mean().Item<float>();
        Console.WriteLine($"step {step,3}  loss {loss.Item<float>():F4}  accuracy {accuracy:P1}  lr {scheduler.GetLastLr()[0]:F4}");
    }
}

// The state dict carries PyTorch's names; a fresh model loaded from it predicts the same.
var copy = new BlobClassifier(2, 3);
copy.LoadStateDict(model.StateDict());
model.Eval(); copy.Eval();
using (Autograd.NoGrad())
{
    bool same = model.Call(x).ArgMax(1).Eq(copy.Call(x).ArgMax(1)).All().Item<bool>();
    Console.WriteLine($"state dict keys: {string.Join(", ", model.StateDict().Keys)}");
    Console.WriteLine($"reloaded model agrees: {same}");
}

/// <summary>A two-layer classifier: fields are registered as submodules under their names, as in PyTorch.</summary>
sealed class BlobClassifier : Module<Tensor, Tensor>
{
    readonly Linear hidden, output;
    readonly Dropout dropout = new(0.1);

    public BlobClassifier(int inputs, int classes)
    {
        hidden = new Linear(inputs, 16);
        output = new Linear(16, classes);
    }

    public override Tensor Forward(Tensor x) => output.Call(dropout.Call(F.Relu(hidden.Call(x))));
}
