using Kiln;
using Kiln.NN;

[Model]
public partial class Classifier : Module
{
    readonly Linear layer1 = new(784, 128), layer2 = new(64, 10);
    public Tensor Forward([Shape("N 784")] Tensor x)
    {
        var h = F.Relu(layer1.Forward(x));
        return layer2.Forward(h); // expect: KLN0001
    }
}
