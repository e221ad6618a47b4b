using Kiln;
using Kiln.NN;

[Model]
public partial class BatchedScores : Module
{

    public Tensor Forward([Shape("B L 64")] Tensor q, [Shape("B L 64")] Tensor k)
    {
        var s = q.Matmul(k); // expect: KLN0003
        return s.Softmax(-1);
    }
}
