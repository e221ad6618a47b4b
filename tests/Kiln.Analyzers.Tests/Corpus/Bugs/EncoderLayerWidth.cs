using Kiln;
using Kiln.NN;

[Model]
public partial class EncoderWidth : Module
{
    readonly TransformerEncoderLayer layer = new(256, 4, batchFirst: true);
    public Tensor Forward([Shape("N L 128")] Tensor x)
    {
        return layer.Forward(x); // expect: KLN0007
    }
}
