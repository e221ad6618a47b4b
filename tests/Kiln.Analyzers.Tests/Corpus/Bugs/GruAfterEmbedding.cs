using Kiln;
using Kiln.NN;

[Model]
public partial class GruInput : Module
{
    readonly Embedding embed = new(1000, 8);
    readonly GRU gru = new(16, 32);
    public Tensor Forward([Shape("L N")] Tensor tokens)
    {
        var e = embed.Forward(tokens);
        return gru.Forward(e).Output; // expect: KLN0009
    }
}
