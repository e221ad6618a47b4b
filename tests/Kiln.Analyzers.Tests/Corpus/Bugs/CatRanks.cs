using Kiln;
using Kiln.NN;

[Model]
public partial class CatRank : Module
{

    public Tensor Forward([Shape("N 64")] Tensor a, [Shape("N 4 16")] Tensor b)
    {
        return Tensor.Cat(new[] { a, b }, 1); // expect: KLN0006
    }
}
