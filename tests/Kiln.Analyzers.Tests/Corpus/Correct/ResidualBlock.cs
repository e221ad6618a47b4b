using Kiln;
using Kiln.NN;

[Model]
public partial class ResidualBlock : Module
{
    readonly Conv2d conv1 = new(16, 16, 3, padding: 1), conv2 = new(16, 16, 3, padding: 1);
    readonly BatchNorm2d bn1 = new(16), bn2 = new(16);
    public Tensor Forward([Shape("N 16 H W")] Tensor x)
    {
        var h = F.Relu(bn1.Forward(conv1.Forward(x)));
        h = bn2.Forward(conv2.Forward(h));
        return F.Relu(h + x);
    }
}
