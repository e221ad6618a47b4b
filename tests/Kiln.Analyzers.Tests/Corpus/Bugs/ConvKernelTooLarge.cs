using Kiln;
using Kiln.NN;

[Model]
public partial class TinyImage : Module
{
    readonly Conv2d conv = new(1, 4, 7);
    public Tensor Forward([Shape("N 1 5 5")] Tensor x)
    {
        return conv.Forward(x); // expect: KLN0002
    }
}
