using Kiln;
using Kiln.NN;

[Model]
public partial class BnChannels : Module
{
    readonly Conv2d conv = new(1, 6, 5);
    readonly BatchNorm2d bn = new(8);
    public Tensor Forward([Shape("N 1 28 28")] Tensor x)
    {
        var h = conv.Forward(x);
        return bn.Forward(h); // expect: KLN0010
    }
}
