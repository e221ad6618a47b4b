using Kiln;
using Kiln.NN;

[Model]
public partial class FlatConv : Module
{
    readonly Conv2d conv = new(1, 4, 3);
    public Tensor Forward([Shape("N 784")] Tensor x)
    {
        return conv.Forward(x); // expect: KLN0002
    }
}
