using Kiln;
using Kiln.NN;

[Model]
public partial class StackParts : Module
{

    public Tensor Forward([Shape("N 3")] Tensor a, [Shape("N 4")] Tensor b)
    {
        return Tensor.Stack(new[] { a, b }, 0); // expect: KLN0006
    }
}
