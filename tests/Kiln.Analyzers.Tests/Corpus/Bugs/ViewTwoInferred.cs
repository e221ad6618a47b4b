using Kiln;
using Kiln.NN;

[Model]
public partial class TwoInferred : Module
{

    public Tensor Forward([Shape("N 784")] Tensor x)
    {
        return x.View(-1, -1); // expect: KLN0004
    }
}
