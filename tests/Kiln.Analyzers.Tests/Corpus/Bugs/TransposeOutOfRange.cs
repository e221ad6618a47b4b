using Kiln;
using Kiln.NN;

[Model]
public partial class BadTranspose : Module
{

    public Tensor Forward([Shape("N 64")] Tensor x)
    {
        return x.Transpose(0, 2); // expect: KLN0011
    }
}
