using Kiln;
using Kiln.NN;

[Model]
public partial class SymbolicHidden : Module
{
    readonly Linear l1, l2, l3;
    public SymbolicHidden(int features, int hidden, int classes) { l1 = new(features, hidden); l2 = new(hidden, hidden); l3 = new(hidden, classes); }
    public Tensor Forward([Shape("N features")] Tensor x)
    {
        var h = F.Gelu(l1.Forward(x));
        h = F.Gelu(l2.Forward(h));
        return l3.Forward(h);
    }
}
