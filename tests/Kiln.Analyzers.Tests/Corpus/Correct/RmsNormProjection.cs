using Kiln;
using Kiln.NN;

[Model]
public partial class RmsNormProjection : Module
{
    readonly RMSNorm norm = new(48);
    readonly Linear proj = new(48, 96);
    public Tensor Forward([Shape("B T 48")] Tensor x)
    {
        return proj.Forward(norm.Forward(x));
    }
}
