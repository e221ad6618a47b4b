using Kiln;
using Kiln.NN;

[Model]
public partial class ClassifierLoss : Module
{
    readonly Linear head = new(20, 5);
    public Tensor Forward([Shape("N 20")] Tensor x, [Shape("N")] Tensor target)
    {
        var logits = head.Forward(x);
        return F.CrossEntropy(logits, target);
    }
}
