using Kiln;
using Kiln.NN;

[Model]
public partial class LeNetWrongFlatten : Module
{
    readonly Conv2d conv1 = new(1, 6, 5, padding: 2), conv2 = new(6, 16, 5);
    readonly MaxPool2d pool = new(2);
    readonly Linear fc1 = new(16 * 4 * 4, 120), fc2 = new(120, 10);
    public Tensor Forward([Shape("N 1 28 28")] Tensor x)
    {
        var h = pool.Forward(F.Relu(conv1.Forward(x)));
        h = pool.Forward(F.Relu(conv2.Forward(h)));
        h = h.Flatten(1);
        return fc2.Forward(F.Relu(fc1.Forward(h))); // expect: KLN0001
    }
}
