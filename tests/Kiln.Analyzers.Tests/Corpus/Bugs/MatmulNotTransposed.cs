using Kiln;
using Kiln.NN;

[Model]
public partial class Similarity : Module
{

    public Tensor Forward([Shape("N 64")] Tensor a, [Shape("M 64")] Tensor b)
    {
        return a.Matmul(b); // expect: KLN0003
    }
}
