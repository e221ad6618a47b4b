using Kiln;
using Kiln.NN;

[Model]
public partial class BadView : Module
{

    public Tensor Forward([Shape("N 784")] Tensor x)
    {
        return x.View(-1, 28, 27); // expect: KLN0004
    }
}
