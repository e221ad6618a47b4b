using Kiln;
using Kiln.NN;

[Model]
public partial class WrongHidden : Module
{
    readonly Linear l1 = new(20, 50), l2 = new(40, 2);
    public Tensor Forward([Shape("N 20")] Tensor x)
    {
        var h = F.Tanh(l1.Forward(x));
        return l2.Forward(h); // expect: KLN0001
    }
}
