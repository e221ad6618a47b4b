using Kiln;
using Kiln.NN;

[Model]
public partial class ConcatHead : Module
{
    readonly Linear a = new(32, 64), b = new(32, 64), head = new(64, 2);
    public Tensor Forward([Shape("N 32")] Tensor x)
    {
        var both = Tensor.Cat(new[] { a.Forward(x), b.Forward(x) }, 1);
        return head.Forward(both); // expect: KLN0001
    }
}
