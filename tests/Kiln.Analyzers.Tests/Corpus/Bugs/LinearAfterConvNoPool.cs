using Kiln;
using Kiln.NN;

[Model]
public partial class ConvNoPool : Module
{
    readonly Conv2d conv = new(3, 8, 3);
    readonly Linear fc = new(8 * 32 * 32, 10);
    public Tensor Forward([Shape("N 3 32 32")] Tensor x)
    {
        var h = F.Relu(conv.Forward(x)).Flatten(1);
        return fc.Forward(h); // expect: KLN0001
    }
}
