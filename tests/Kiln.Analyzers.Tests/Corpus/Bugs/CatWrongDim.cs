using Kiln;
using Kiln.NN;

[Model]
public partial class CatRows : Module
{

    public Tensor Forward([Shape("N 64")] Tensor a, [Shape("N 32")] Tensor b)
    {
        return Tensor.Cat(new[] { a, b }, 0); // expect: KLN0006
    }
}
