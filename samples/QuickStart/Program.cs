using System;
using Kiln;

// Kiln's quick start (for now, the tensor core and autograd): tensors, broadcasting, matmul and
// reductions, used to train a softmax classifier by gradient descent on a synthetic 3-class problem.
// nn modules, optimizers and the real digits data set arrive with the next pieces of Kiln.
Generator.ManualSeed(0);

// Three Gaussian blobs in 2-D, 300 points each.
var centers = Tensor.From(new float[,] { { 0, 3 }, { 3, -2 }, { -3, -1 } });
var labels = Tensor.Arange(3).Repeat(300);                       // [900] int64: 0,1,2,0,1,2,...
var x = centers.IndexSelect(0, labels) + Tensor.Randn(900, 2);   // [900, 2]
var oneHot = Tensor.Zeros(900, 3).Scatter(1, labels.Unsqueeze(1), 1.0);

var w = Tensor.Zeros(2, 3).RequiresGrad_();
var b = Tensor.Zeros(3).RequiresGrad_();
Console.WriteLine($"x: {x.DType} [{string.Join(", ", x.Shape)}], first rows:\n{x[..3]}");

for (int step = 0; step <= 200; step++)
{
    using var scope = Tensor.Scope();                       // frees every temporary of the step
    var logits = x.Matmul(w) + b;                            // [900, 3]
    var loss = -(oneHot * logits.LogSoftmax(1)).Sum(1).Mean(); // cross-entropy
    loss.Backward();                                         // autograd fills w.Grad and b.Grad
    using (Autograd.NoGrad())
    {
        w.Sub_(w.Grad! * 0.5);
        b.Sub_(b.Grad! * 0.5);
    }
    w.Grad = b.Grad = null;
    if (step % 50 == 0)
    {
        var accuracy = logits.ArgMax(1).Eq(labels).To(DType.Float32).Mean().Item<float>();
        Console.WriteLine($"step {step,3}  loss {loss.Item<float>():F4}  accuracy {accuracy:P1}");
    }
}
Console.WriteLine($"weights:\n{w.Detach()}\nbias: {b.Detach()}");
