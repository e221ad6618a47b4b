using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Poisson negative log-likelihood (<c>F.poisson_nll_loss</c>): eˣ - y·x with a log-rate input, else x - y·log(x + eps);
    /// <paramref name="full"/> adds Stirling's y·log y - y + ½·log(2πy) where y &gt; 1.
    /// </summary>
    public static Tensor PoissonNllLoss(Tensor input, Tensor target, bool logInput = true, bool full = false, double eps = 1e-8, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "poisson_nll_loss";
        Tensor loss;
        if (logInput)
        {
            using var rate = input.Exp();
            using var scaled = target * input;
            loss = rate - scaled;
        }
        else
        {
            using var shifted = input + eps;
            using var log = shifted.Log();
            using var scaled = target * log;
            loss = input - scaled;
        }
        if (full)
        {
            using var logTarget = target.Log();
            using var stirling = target * logTarget - target + (2 * Math.PI * target).Log() * 0.5;
            using var small = target.Le(1);
            using var term = stirling.MaskedFill(small, 0);
            var partial = loss;
            loss = partial + term;
            partial.Dispose();
        }
        if (reduction == Reduction.None) return scope.Keep(loss);
        using (loss) return scope.Keep(Reduce(op, loss, reduction));
    }

    /// <summary>
    /// Gaussian negative log-likelihood ½·(log var + (x - y)²/var) (<c>F.gaussian_nll_loss</c>): var the input's shape,
    /// or one dim short of it, or with a last dim of 1 (one variance per sample); values below <paramref name="eps"/> read
    /// as eps while the gradient passes unclamped, as PyTorch's no-grad clamp does; <paramref name="full"/> adds ½·log 2π.
    /// </summary>
    public static Tensor GaussianNllLoss(Tensor input, Tensor target, Tensor var, bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "gaussian_nll_loss";
        Tensor v = var;
        bool unsqueezed = false;
        if (!ShapeRules.SameShape(var.ShapeArray, input.ShapeArray))
        {
            var inputShape = input.ShapeArray;
            var lead = inputShape.Length > 0 ? inputShape[..^1] : inputShape;
            if (ShapeRules.SameShape(lead, var.ShapeArray)) { v = var.Unsqueeze(-1); unsqueezed = true; }
            else if (!(var.Dim == input.Dim && var.Dim > 0 && var.Size(-1) == 1 && ShapeRules.SameShape(lead, var.ShapeArray[..^1])))
                throw new KilnException(op, $"{op}: var is of incorrect size {ShapeText.Format(var.ShapeArray)} for input {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        }
        try
        {
            using (var negative = var.Lt(0))
            using (var any = negative.Any())
                if (any.Item<bool>()) throw new KilnException(op, $"{op}: var has negative entry/entries");
            using var bounded = v.Clamp(min: eps);
            using var raise = bounded - v;
            using var lift = raise.Detach();
            using var clampedVar = v + lift; // eps where var was smaller; the gradient of var itself
            using var logVar = clampedVar.Log();
            using var error = input - target;
            using var squared = error * error;
            using var ratio = squared / clampedVar;
            using var sum = logVar + ratio;
            var loss = sum * 0.5;
            if (full)
            {
                var partial = loss;
                loss = partial + 0.5 * Math.Log(2 * Math.PI);
                partial.Dispose();
            }
            if (reduction == Reduction.None) return scope.Keep(loss);
            using (loss) return scope.Keep(Reduce(op, loss, reduction));
        }
        finally
        {
            if (unsqueezed) v.Dispose();
        }
    }
}
