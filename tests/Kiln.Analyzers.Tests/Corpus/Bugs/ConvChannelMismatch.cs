using Kiln;
using Kiln.NN;

[Model]
public partial class ConvChain : Module
{
    readonly Conv2d conv1 = new(1, 6, 5), conv2 = new(8, 16, 5);
    public Tensor Forward([Shape("N 1 28 28")] Tensor x)
    {
        var h = F.Relu(conv1.Forward(x));
        return conv2.Forward(h); // expect: KLN0002
    }
}
