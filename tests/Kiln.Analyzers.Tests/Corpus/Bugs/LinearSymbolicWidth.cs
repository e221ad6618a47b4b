using Kiln;
using Kiln.NN;

[Model]
public partial class SymbolicMismatch : Module
{
    readonly Linear first, second;
    public SymbolicMismatch(int inputSize, int hidden) { first = new(inputSize, hidden); second = new(inputSize, 10); }
    public Tensor Forward([Shape("N inputSize")] Tensor x)
    {
        var h = first.Forward(x);
        return second.Forward(h); // expect: KLN0001
    }
}
