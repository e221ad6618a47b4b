using Kiln;
using Kiln.NN;

[Model]
public partial class LnWidth : Module
{
    readonly LayerNorm norm = new(64);
    public Tensor Forward([Shape("N L 32")] Tensor x)
    {
        return norm.Forward(x); // expect: KLN0010
    }
}
