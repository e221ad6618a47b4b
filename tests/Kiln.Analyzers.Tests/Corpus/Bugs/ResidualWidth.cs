using Kiln;
using Kiln.NN;

[Model]
public partial class BadResidual : Module
{
    readonly Linear up = new(64, 128);
    public Tensor Forward([Shape("N 64")] Tensor x)
    {
        return x + up.Forward(x); // expect: KLN0005
    }
}
