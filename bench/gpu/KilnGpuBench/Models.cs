using Kiln;
using Kiln.NN;

namespace KilnGpuBench;

/// <summary>The Fashion-MNIST-shaped MLP of the CPU benchmarks (784-256-10 here, a GPU-sized hidden layer), compiled at build time.</summary>
[Model]
public sealed partial class FashionMlp : Module
{
    readonly Linear hidden = new(784, 256), output = new(256, 10);
    public Tensor Forward([Shape("N 784")] Tensor x) => output.Forward(F.Relu(hidden.Forward(x)));
}

/// <summary>One fused elementwise group (read x once, write once): what the generator's GPU kernels are measured on.</summary>
[Model]
public sealed partial class Elementwise : Module
{
    public Tensor Forward([Shape("N")] Tensor x) => (x * 2 + 1).Tanh() * x;
}
