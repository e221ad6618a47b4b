using Kiln;
using Kiln.NN;

[Model]
public partial class OddHeads : Module
{
    readonly MultiheadAttention attention = new(100, 3); // expect: KLN0007
    public Tensor Forward([Shape("L N 100")] Tensor x) => x;
}
