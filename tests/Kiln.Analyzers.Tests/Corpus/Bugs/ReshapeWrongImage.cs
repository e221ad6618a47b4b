using Kiln;
using Kiln.NN;

[Model]
public partial class BadReshape : Module
{

    public Tensor Forward([Shape("N 3 32 32")] Tensor x)
    {
        return x.Reshape(-1, 3 * 32 * 31); // expect: KLN0004
    }
}
