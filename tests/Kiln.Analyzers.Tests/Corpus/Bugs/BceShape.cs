using Kiln;
using Kiln.NN;

[Model]
public partial class BceShape : Module
{
    readonly Linear head = new(8, 1);
    public Tensor Forward([Shape("N 8")] Tensor x, [Shape("N 2")] Tensor y)
    {
        return F.BinaryCrossEntropyWithLogits(head.Forward(x), y); // expect: KLN0008
    }
}
