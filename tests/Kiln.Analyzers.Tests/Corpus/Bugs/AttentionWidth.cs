using Kiln;
using Kiln.NN;

[Model]
public partial class NarrowQuery : Module
{
    readonly MultiheadAttention attention = new(64, 4);
    public Tensor Forward([Shape("L N 32")] Tensor x)
    {
        return attention.Forward(x, x, x).Output; // expect: KLN0007
    }
}
