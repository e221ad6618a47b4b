using Kiln;
using Kiln.NN;

[Model]
public partial class LstmInput : Module
{
    readonly LSTM lstm = new(64, 128, batchFirst: true);
    public Tensor Forward([Shape("N L 32")] Tensor x)
    {
        return lstm.Forward(x).Output; // expect: KLN0009
    }
}
