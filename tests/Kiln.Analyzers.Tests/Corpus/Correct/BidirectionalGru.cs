using Kiln;
using Kiln.NN;

[Model]
public partial class BidirectionalGru : Module
{
    readonly GRU gru = new(16, 32, bidirectional: true);
    readonly Linear head = new(64, 5);
    public Tensor Forward([Shape("L N 16")] Tensor x)
    {
        return head.Forward(gru.Forward(x).Output);
    }
}
