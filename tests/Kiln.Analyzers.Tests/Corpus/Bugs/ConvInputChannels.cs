using Kiln;
using Kiln.NN;

[Model]
public partial class RgbOnGray : Module
{
    readonly Conv2d conv = new(3, 16, 3, padding: 1);
    public Tensor Forward([Shape("N 1 28 28")] Tensor x)
    {
        return conv.Forward(x); // expect: KLN0002
    }
}
