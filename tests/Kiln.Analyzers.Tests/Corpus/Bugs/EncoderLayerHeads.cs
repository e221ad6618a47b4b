using Kiln;
using Kiln.NN;

[Model]
public partial class EncoderHeads : Module
{
    readonly TransformerEncoderLayer layer = new(250, 4); // expect: KLN0007
    public Tensor Forward([Shape("N L 250")] Tensor x) => x;
}
