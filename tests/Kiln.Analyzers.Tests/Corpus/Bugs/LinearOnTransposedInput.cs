using Kiln;
using Kiln.NN;

[Model]
public partial class TransposedInput : Module
{
    readonly Linear layer = new(784, 10);
    public Tensor Forward([Shape("N 784")] Tensor x)
    {
        return layer.Forward(x.T); // expect: KLN0001
    }
}
