using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// The rope op: x·cos + rotate_half(x)·sin over the last dim (rotate_half([x1, x2]) = [-x2, x1]), recorded as one node
    /// whose backward is its rule in Derivatives. float32 and bfloat16 on the CPU run one fused pass; other dtypes and
    /// devices compute the same formula op by op (a half-precision result rounded after each op, as PyTorch's eager
    /// composition does — the fused bfloat16 pass rounds the same way).
    /// </summary>
    internal static Tensor RopeOp(Tensor x, Tensor cos, Tensor sin)
    {
        ShapeRules.Rope(x._shape, cos._shape, sin._shape);
        CheckSameDevice("rope", x, cos);
        CheckSameDevice("rope", x, sin);
        Tensor y;
        if (Kernels.Rotary.RopeKernel.Handles(x, cos, sin))
            y = Kernels.Rotary.RopeKernel.Forward(x, cos, sin);
        else
            using (Autograd.NoGrad())
                y = RopeComposite(x, cos, sin);
        return Record("rope", y, null, x, cos, sin);
    }

    static Tensor RopeComposite(Tensor x, Tensor cos, Tensor sin)
    {
        int half = x.Size(-1) / 2;
        using var high = x.Narrow(-1, half, half);
        using var low = x.Narrow(-1, 0, half);
        using var negated = -high;
        using var rotated = Cat([negated, low], -1);
        using var a = x * cos;
        using var b = rotated * sin;
        return a + b;
    }
}
