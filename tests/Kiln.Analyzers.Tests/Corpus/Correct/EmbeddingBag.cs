using Kiln;
using Kiln.NN;

[Model]
public partial class EmbeddingBag : Module
{
    readonly Embedding embed = new(100, 4);
    readonly Linear fc = new(10 * 4, 2);
    public Tensor Forward([Shape("N 10")] Tensor tokens)
    {
        return fc.Forward(embed.Forward(tokens).Flatten(1));
    }
}
