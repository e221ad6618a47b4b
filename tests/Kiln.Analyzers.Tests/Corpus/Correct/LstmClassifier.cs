using Kiln;
using Kiln.NN;

[Model]
public partial class LstmClassifier : Module
{
    readonly Embedding embed = new(5000, 32);
    readonly LSTM lstm = new(32, 64, batchFirst: true);
    readonly Linear head = new(64, 3);
    public Tensor Forward([Shape("N L")] Tensor tokens)
    {
        var e = embed.Forward(tokens);
        var y = lstm.Forward(e).Output;
        return head.Forward(y);
    }
}
