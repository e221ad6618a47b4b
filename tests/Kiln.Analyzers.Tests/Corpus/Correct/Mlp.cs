using Kiln;
using Kiln.NN;

[Model]
public partial class SimpleClassifier : Module
{
    readonly Linear layer1, layer2;
    readonly Dropout dropout = new(0.2);
    public SimpleClassifier(int inputSize, int numClasses) { layer1 = new(inputSize, 128); layer2 = new(128, numClasses); }
    public Tensor Forward([Shape("N inputSize")] Tensor x) => layer2.Forward(dropout.Forward(F.Relu(layer1.Forward(x))));
}
