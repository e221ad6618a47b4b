using Kiln;
using Kiln.NN;

[Model]
public partial class ManualAttention : Module
{

    public Tensor Forward([Shape("B L 64")] Tensor q, [Shape("B S 64")] Tensor k, [Shape("B S 32")] Tensor v)
    {
        var scores = q.Matmul(k.Transpose(1, 2)) * 0.125;
        return scores.Softmax(-1).Matmul(v);
    }
}
