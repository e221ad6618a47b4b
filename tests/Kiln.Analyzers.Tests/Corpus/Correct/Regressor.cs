using Kiln;
using Kiln.NN;

[Model]
public partial class Regressor : Module
{
    readonly Linear l1 = new(13, 32), l2 = new(32, 1);
    public Tensor Forward([Shape("N 13")] Tensor x, [Shape("N 1")] Tensor y)
    {
        var pred = l2.Forward(F.Relu(l1.Forward(x)));
        return F.MseLoss(pred, y);
    }
}
