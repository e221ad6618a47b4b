using Kiln;
using Kiln.NN;

[Model]
public partial class RmsWidth : Module
{
    readonly Linear proj = new(32, 48);
    readonly RMSNorm norm = new(32);
    public Tensor Forward([Shape("N 32")] Tensor x)
    {
        return norm.Forward(proj.Forward(x)); // expect: KLN0010
    }
}
