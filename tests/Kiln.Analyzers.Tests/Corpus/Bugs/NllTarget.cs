using Kiln;
using Kiln.NN;

[Model]
public partial class NllTarget : Module
{

    public Tensor Forward([Shape("N 10")] Tensor logp, [Shape("M")] Tensor target)
    {
        return F.NllLoss(logp, target); // expect: KLN0008
    }
}
