using Kiln;
using Kiln.NN;

[Model]
public partial class Pipeline : Module
{
    readonly Sequential features = new(new Conv2d(1, 8, 3, padding: 1), new ReLU(), new MaxPool2d(2), new Flatten());
    readonly Linear head = new(8 * 14 * 14, 10);
    public Tensor Forward([Shape("N 1 28 28")] Tensor x) => head.Forward(features.Forward(x));
}
