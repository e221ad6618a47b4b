using Kiln;
using Kiln.NN;

[Model]
public partial class TrainingOnlyNoise : Module
{
    readonly Linear fc = new(10, 3);
    public Tensor Forward([Shape("N 10")] Tensor x, [Shape("N 10")] Tensor noise)
    {
        Tensor h;
        if (Training)
            h = F.Dropout(x + noise, 0.1);
        else
            h = x;
        return fc.Forward(Training ? F.Relu(h) : h);
    }
}
