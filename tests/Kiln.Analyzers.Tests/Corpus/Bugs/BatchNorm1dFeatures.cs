using Kiln;
using Kiln.NN;

[Model]
public partial class Bn1d : Module
{
    readonly Linear fc = new(784, 64);
    readonly BatchNorm1d bn = new(128);
    public Tensor Forward([Shape("N 784")] Tensor x)
    {
        return bn.Forward(fc.Forward(x)); // expect: KLN0010
    }
}
