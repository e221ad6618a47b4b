using Kiln;
using Kiln.NN;

[Model]
public partial class Grouped : Module
{
    readonly Conv2d conv = new(4, 6, 3, groups: 4);
    public Tensor Forward([Shape("N 4 8 8")] Tensor x)
    {
        return conv.Forward(x); // expect: KLN0002
    }
}
