using Kiln;
using Kiln.NN;

[Model]
public partial class Scores : Module
{

    public Tensor Forward([Shape("N 32")] Tensor q, [Shape("N 16")] Tensor k)
    {
        return q.Matmul(k.T); // expect: KLN0003
    }
}
