using Kiln;
using Kiln.NN;

[Model]
public partial class EncoderBlock : Module
{
    readonly MultiheadAttention attention = new(64, 4);
    readonly LayerNorm norm1 = new(64), norm2 = new(64);
    readonly Linear ff1 = new(64, 256), ff2 = new(256, 64);
    readonly Dropout dropout = new(0.1);
    public Tensor Forward([Shape("L N 64")] Tensor x)
    {
        var a = attention.Forward(x, x, x).Output;
        var h = norm1.Forward(x + dropout.Forward(a));
        var f = ff2.Forward(dropout.Forward(F.Relu(ff1.Forward(h))));
        return norm2.Forward(h + f);
    }
}
