using Kiln;
using Kiln.NN;

[Model]
public partial class StrideResidual : Module
{
    readonly Conv2d conv = new(8, 8, 3, stride: 2, padding: 1);
    public Tensor Forward([Shape("N 8 16 16")] Tensor x)
    {
        var h = conv.Forward(x);
        return h + x; // expect: KLN0005
    }
}
