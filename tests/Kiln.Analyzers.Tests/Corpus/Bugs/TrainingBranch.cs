using Kiln;
using Kiln.NN;

[Model]
public partial class NoisyTraining : Module
{
    readonly Linear fc = new(10, 10);
    public Tensor Forward([Shape("N 10")] Tensor x, [Shape("N 5")] Tensor noise)
    {
        var h = fc.Forward(x);
        if (Training)
            h = h + noise; // expect: KLN0005
        return h;
    }
}
