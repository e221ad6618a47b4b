using Kiln;
using Kiln.NN;

[Model]
public partial class DeepOnSmall : Module
{
    readonly Conv2d c1 = new(1, 4, 3), c2 = new(4, 8, 3);
    readonly MaxPool2d pool = new(2);
    public Tensor Forward([Shape("N 1 8 8")] Tensor x)
    {
        var h = pool.Forward(c1.Forward(x));
        h = pool.Forward(h);
        return c2.Forward(h); // expect: KLN0002
    }
}
