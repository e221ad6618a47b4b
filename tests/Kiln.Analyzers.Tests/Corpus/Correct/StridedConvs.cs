using Kiln;
using Kiln.NN;

[Model]
public partial class StridedConvs : Module
{
    readonly Conv2d c1 = new(3, 16, 3, stride: 2, padding: 1), c2 = new(16, 32, 3, stride: 2, padding: 1);
    readonly Linear fc = new(32 * 8 * 8, 10);
    public Tensor Forward([Shape("N 3 32 32")] Tensor x)
    {
        var h = F.Relu(c2.Forward(F.Relu(c1.Forward(x))));
        return fc.Forward(h.Flatten(1));
    }
}
