using Kiln;
using Kiln.NN;

[Model]
public partial class Gate : Module
{
    readonly Linear gate = new(32, 12);
    public Tensor Forward([Shape("N 32")] Tensor x, [Shape("N 10")] Tensor y)
    {
        return F.Sigmoid(gate.Forward(x)) * y; // expect: KLN0005
    }
}
