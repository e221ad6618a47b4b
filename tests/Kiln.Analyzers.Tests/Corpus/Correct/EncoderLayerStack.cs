using Kiln;
using Kiln.NN;

[Model]
public partial class EncoderLayerStack : Module
{
    readonly TransformerEncoderLayer first = new(128, 8, batchFirst: true), second = new(128, 8, batchFirst: true);
    readonly Linear head = new(128, 2);
    public Tensor Forward([Shape("N L 128")] Tensor x)
    {
        return head.Forward(second.Forward(first.Forward(x)));
    }
}
