using Kiln;
using Kiln.NN;

[Model]
public partial class Blocks : Module
{
    readonly ModuleList<Linear> layers = new(new Linear(8, 16), new Linear(8, 8));
    public Tensor Forward([Shape("N 8")] Tensor x)
    {
        foreach (var layer in layers)
            x = F.Relu(layer.Forward(x)); // expect: KLN0001
        return x;
    }
}
