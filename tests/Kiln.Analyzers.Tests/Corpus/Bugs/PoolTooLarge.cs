using Kiln;
using Kiln.NN;

[Model]
public partial class BigPool : Module
{
    readonly MaxPool2d pool = new(8);
    public Tensor Forward([Shape("N 3 4 4")] Tensor x)
    {
        return pool.Forward(x); // expect: KLN0011
    }
}
