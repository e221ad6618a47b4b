using Kiln;
using Kiln.NN;

[Model]
public partial class MseShape : Module
{
    readonly Linear head = new(8, 1);
    public Tensor Forward([Shape("N 8")] Tensor x, [Shape("N")] Tensor y)
    {
        return F.MseLoss(head.Forward(x), y); // expect: KLN0008
    }
}
