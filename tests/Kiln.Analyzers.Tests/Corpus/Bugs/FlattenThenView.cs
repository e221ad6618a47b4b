using Kiln;
using Kiln.NN;

[Model]
public partial class FlattenView : Module
{
    readonly Conv2d conv = new(1, 16, 5);
    readonly MaxPool2d pool = new(4);
    public Tensor Forward([Shape("N 1 24 24")] Tensor x)
    {
        var h = pool.Forward(conv.Forward(x)).Flatten(1);
        return h.View(-1, 20, 21); // expect: KLN0004
    }
}
