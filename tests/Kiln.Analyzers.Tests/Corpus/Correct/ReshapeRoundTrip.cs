using Kiln;
using Kiln.NN;

[Model]
public partial class ReshapeRoundTrip : Module
{
    readonly Conv2d conv = new(1, 4, 3, padding: 1);
    readonly Linear fc = new(4 * 28 * 28, 10);
    public Tensor Forward([Shape("N 784")] Tensor x)
    {
        var image = x.View(-1, 1, 28, 28);
        return fc.Forward(conv.Forward(image).Reshape(-1, 4 * 28 * 28));
    }
}
