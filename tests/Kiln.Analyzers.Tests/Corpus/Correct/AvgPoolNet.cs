using Kiln;
using Kiln.NN;

[Model]
public partial class AvgPoolNet : Module
{
    readonly Conv2d conv = new(1, 8, 3, padding: 1);
    readonly AvgPool2d pool = new(2);
    readonly Linear fc = new(8 * 14 * 14, 10);
    public Tensor Forward([Shape("N 1 28 28")] Tensor x)
    {
        return fc.Forward(pool.Forward(F.Relu(conv.Forward(x))).Flatten(1));
    }
}
