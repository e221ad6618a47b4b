using Kiln;
using Kiln.NN;

[Model]
public partial class BatchNormMlp : Module
{
    readonly Linear fc1 = new(784, 256), fc2 = new(256, 10);
    readonly BatchNorm1d bn = new(256);
    public Tensor Forward([Shape("N 784")] Tensor x)
    {
        return fc2.Forward(F.Relu(bn.Forward(fc1.Forward(x))));
    }
}
