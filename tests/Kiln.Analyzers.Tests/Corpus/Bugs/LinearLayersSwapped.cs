using Kiln;
using Kiln.NN;

[Model]
public partial class SwappedLayers : Module
{
    readonly Linear layer1 = new(784, 128), layer2 = new(128, 10);
    public Tensor Forward([Shape("N 784")] Tensor x)
    {
        return layer1.Forward(F.Relu(layer2.Forward(x))); // expect: KLN0001
    }
}
