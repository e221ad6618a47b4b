using Kiln;
using Kiln.NN;

[Model]
public partial class EmbeddingWidth : Module
{
    readonly Embedding embed = new(1000, 32);
    readonly Linear proj = new(64, 8);
    public Tensor Forward([Shape("N L")] Tensor tokens)
    {
        var e = embed.Forward(tokens);
        return proj.Forward(e); // expect: KLN0001
    }
}
