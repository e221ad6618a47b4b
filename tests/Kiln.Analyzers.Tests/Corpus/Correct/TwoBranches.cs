using Kiln;
using Kiln.NN;

[Model]
public partial class TwoBranches : Module
{
    readonly Linear left = new(10, 16), right = new(10, 8), head = new(24, 1);
    public Tensor Forward([Shape("N 10")] Tensor x)
    {
        var both = Tensor.Cat(new[] { F.Relu(left.Forward(x)), F.Relu(right.Forward(x)) }, 1);
        return head.Forward(both);
    }
}
