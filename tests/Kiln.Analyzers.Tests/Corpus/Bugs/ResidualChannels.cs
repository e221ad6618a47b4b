using Kiln;
using Kiln.NN;

[Model]
public partial class BadConvResidual : Module
{
    readonly Conv2d conv = new(8, 16, 3, padding: 1);
    public Tensor Forward([Shape("N 8 8 8")] Tensor x)
    {
        var h = conv.Forward(x);
        return F.Relu(h + x); // expect: KLN0005
    }
}
