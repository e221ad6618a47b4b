using Kiln;
using Kiln.NN;

[Model]
public partial class SequenceFirstAttention : Module
{
    readonly MultiheadAttention attention = new(32, 8);
    public Tensor Forward([Shape("N L 32")] Tensor x)
    {
        var seq = x.Permute(1, 0, 2);
        return attention.Forward(seq, seq, seq).Output.Transpose(0, 1);
    }
}
