using Kiln;
using Kiln.NN;

[Model]
public partial class CeTarget : Module
{
    readonly Linear head = new(20, 10);
    public Tensor Forward([Shape("N 20")] Tensor x, [Shape("N 1")] Tensor target)
    {
        var logits = head.Forward(x);
        return F.CrossEntropy(logits, target); // expect: KLN0008
    }
}
