using Kiln;
using Kiln.NN;

[Model]
public partial class Stacked : Module
{
    readonly Sequential body = new(new Linear(4, 8), new ReLU(), new Linear(4, 2));
    public Tensor Forward([Shape("N 4")] Tensor x) => body.Forward(x); // expect: KLN0001
}
