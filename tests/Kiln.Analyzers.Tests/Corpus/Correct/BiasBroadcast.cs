using Kiln;
using Kiln.NN;

[Model]
public partial class BiasBroadcast : Module
{
    readonly Linear fc = new(16, 16, bias: false);
    public Tensor Forward([Shape("N 16")] Tensor x, [Shape("16")] Tensor bias)
    {
        return fc.Forward(x) + bias;
    }
}
