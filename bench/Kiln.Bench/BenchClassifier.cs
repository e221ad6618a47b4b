using Kiln;
using Kiln.NN;

/// <summary>The seed's classifier as a [Model]: the generator gives it Compile() with fused kernels.</summary>
[Model]
sealed partial class BenchClassifier : Module
{
    readonly Linear layer1 = new(784, 128), layer2 = new(128, 10);
    readonly Dropout dropout = new(0.2);
    public Tensor Forward([Shape("N 784")] Tensor x) => layer2.Forward(dropout.Forward(F.Relu(layer1.Forward(x))));
}
