using System;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Special;

namespace Kiln;

// The regularized incomplete gamma functions, elementwise on the host in float64 (a series or a continued fraction per
// element, with its own iteration count), then in the inputs' dtype on their device.
public sealed partial class Tensor
{
    /// <summary>
    /// The regularized lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a), this tensor being a (<c>torch.igamma</c>,
    /// <c>torch.special.gammainc</c>); broadcast. Differentiable in x (the gamma density); PyTorch has no derivative
    /// in a, and neither has Kiln (a backward that needs one is refused).
    /// </summary>
    public Tensor Igamma(Tensor x) => IncompleteGammaOf("igamma", this, x, upper: false);

    /// <summary>The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x) (<c>torch.igammac</c>, <c>torch.special.gammaincc</c>).</summary>
    public Tensor Igammac(Tensor x) => IncompleteGammaOf("igammac", this, x, upper: true);

    static Tensor IncompleteGammaOf(string op, Tensor a, Tensor x, bool upper)
    {
        var dtype = ResultType(a, x);
        if (!dtype.IsFloatingPoint()) dtype = DTypes.Default;
        var shape = ShapeRules.Broadcast(op, a.ShapeArray, x.ShapeArray);
        if (!ShapeRules.SameShape(a.ShapeArray, shape) || !ShapeRules.SameShape(x.ShapeArray, shape))
        {
            // Both sides at the broadcast shape first: their gradients sum back through the expands.
            using var wideA = a.Expand(shape);
            using var wideX = x.Expand(shape);
            return IncompleteGammaOf(op, wideA, wideX, upper);
        }
        var value = HostElementwise(a, x, dtype, (p, q) => upper ? IncompleteGamma.Q(p, q) : IncompleteGamma.P(p, q));
        return Autograd.Function(op, [a, x], () => value, grad =>
        {
            if (a.RequiresGrad)
                throw new KilnException(op, $"{op}: the derivative with respect to a (the first argument) is not implemented, as in PyTorch; detach a", KilnErrorKind.Unsupported);
            // dP/dx = x^(a-1)·e^(-x)/Γ(a); Q falls as P rises.
            using var density = HostElementwise(a, x, grad.DType, (p, q) => q > 0 ? Math.Exp(IncompleteGamma.LogDensity(p, q)) : p == 1 && q == 0 ? 1 : 0);
            using var signed = upper ? density.Neg() : density.Alias();
            return [null, grad * signed];
        });
    }

    /// <summary>f(a, x) of two same-shape tensors, each element in float64 on the host, as <paramref name="dtype"/> on a's device.</summary>
    internal static Tensor HostElementwise(Tensor a, Tensor x, DType dtype, Func<double, double, double> f) =>
        HostElementwise(a, x, x, dtype, (p, q, _) => f(p, q));

    /// <summary>f(a, b, c) of three same-shape tensors, each element in float64 on the host, as <paramref name="dtype"/> on a's device.</summary>
    internal static Tensor HostElementwise(Tensor a, Tensor b, Tensor c, DType dtype, Func<double, double, double, double> f)
    {
        using var noGrad = Autograd.NoGrad();
        using var a64 = a.To(DType.Float64);
        using var b64 = b.To(DType.Float64);
        using var c64 = c.To(DType.Float64);
        var av = a64.ToArray<double>();
        var bv = b64.ToArray<double>();
        var cv = c64.ToArray<double>();
        var r = new double[av.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f(av[i], bv[i], cv[i]);
        using var host = From(r, a.ShapeArray);
        using var typed = host.To(dtype);
        return typed.To(a.Device);
    }
}
