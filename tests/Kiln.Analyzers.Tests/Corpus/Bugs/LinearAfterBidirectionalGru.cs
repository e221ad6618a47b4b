using Kiln;
using Kiln.NN;

[Model]
public partial class BiGruHead : Module
{
    readonly GRU gru = new(16, 64, bidirectional: true);
    readonly Linear head = new(64, 4);
    public Tensor Forward([Shape("L N 16")] Tensor x)
    {
        var y = gru.Forward(x).Output;
        return head.Forward(y); // expect: KLN0001
    }
}
