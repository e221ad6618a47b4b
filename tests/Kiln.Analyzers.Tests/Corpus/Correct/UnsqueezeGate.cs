using Kiln;
using Kiln.NN;

[Model]
public partial class UnsqueezeGate : Module
{
    readonly Linear gate = new(8, 8);
    public Tensor Forward([Shape("N 8")] Tensor x, [Shape("N 5 8")] Tensor seq)
    {
        var g = F.Sigmoid(gate.Forward(x)).Unsqueeze(1);
        return seq * g;
    }
}
