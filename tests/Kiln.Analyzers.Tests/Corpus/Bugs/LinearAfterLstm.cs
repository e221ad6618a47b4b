using Kiln;
using Kiln.NN;

[Model]
public partial class LstmHead : Module
{
    readonly LSTM lstm = new(16, 64);
    readonly Linear head = new(16, 4);
    public Tensor Forward([Shape("L N 16")] Tensor x)
    {
        var y = lstm.Forward(x).Output;
        return head.Forward(y); // expect: KLN0001
    }
}
