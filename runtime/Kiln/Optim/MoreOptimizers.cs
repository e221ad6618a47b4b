using System;
using System.Collections.Generic;

namespace Kiln.Optim;

// Adamax, Adadelta, NAdam and RAdam with PyTorch's update rules, written as in-place tensor ops (they run on any device;
// not fused into one kernel per parameter like SGD and the Adam family). The parameter and its buffers are updated in place.

/// <summary>Adam with the infinity norm (<c>torch.optim.Adamax</c>).</summary>
public sealed class Adamax : Optimizer
{
    /// <summary>Adamax over <paramref name="parameters"/>.</summary>
    public Adamax(IEnumerable<Tensor> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : base("Adamax", [new ParamGroup(parameters)], new() { ["lr"] = lr, ["beta1"] = beta1, ["beta2"] = beta2, ["eps"] = eps, ["weight_decay"] = weightDecay, ["maximize"] = maximize ? 1 : 0 }) { }

    private protected override void Validate(ParamGroup g) => MoreOptimizers.CheckBetas(Name, g);

    private protected override void StepGroup(ParamGroup g)
    {
        double lr = g.Lr, b1 = g["beta1"], b2 = g["beta2"], eps = g["eps"];
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            var st = State(p);
            double step = NextStep(st);
            using var grad = MoreOptimizers.Gradient(p, g);
            var m = Buffer(st, "exp_avg", p);
            var u = Buffer(st, "exp_inf", p);
            m.Mul_(b1).Add_(grad, 1 - b1);
            using (var a = grad.Abs()) using (var floor = a.Add(eps)) u.Mul_(b2).Maximum_(floor);
            using var ratio = m.Div(u);
            p.Add_(ratio, -lr / (1 - Math.Pow(b1, step)));
        }
    }
}

/// <summary>Adadelta (<c>torch.optim.Adadelta</c>): per-parameter rates from running averages of squared gradients and updates.</summary>
public sealed class Adadelta : Optimizer
{
    /// <summary>Adadelta over <paramref name="parameters"/>.</summary>
    public Adadelta(IEnumerable<Tensor> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6, double weightDecay = 0, bool maximize = false)
        : base("Adadelta", [new ParamGroup(parameters)], new() { ["lr"] = lr, ["rho"] = rho, ["eps"] = eps, ["weight_decay"] = weightDecay, ["maximize"] = maximize ? 1 : 0 }) { }

    private protected override void Validate(ParamGroup g)
    {
        if (g["rho"] < 0 || g["rho"] > 1) throw new KilnException(Name, $"{Name}: Invalid rho value: {g["rho"]}", KilnErrorKind.Shape);
    }

    private protected override void StepGroup(ParamGroup g)
    {
        double lr = g.Lr, rho = g["rho"], eps = g["eps"];
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            var st = State(p);
            NextStep(st);
            using var grad = MoreOptimizers.Gradient(p, g);
            var square = Buffer(st, "square_avg", p);
            var acc = Buffer(st, "acc_delta", p);
            using (var g2 = grad.Mul(grad)) square.Mul_(rho).Add_(g2, 1 - rho);
            using var std = square.Add(eps).Sqrt_();
            using var delta = acc.Add(eps).Sqrt_().Div_(std).Mul_(grad);
            using (var d2 = delta.Mul(delta)) acc.Mul_(rho).Add_(d2, 1 - rho);
            p.Add_(delta, -lr);
        }
    }
}

/// <summary>
/// Adam with Nesterov momentum (<c>torch.optim.NAdam</c>), with PyTorch 2's momentum schedule (1.13 multiplied one
/// factor of the schedule twice in the look-ahead term).
/// </summary>
public sealed class NAdam : Optimizer
{
    /// <summary>NAdam over <paramref name="parameters"/>.</summary>
    public NAdam(IEnumerable<Tensor> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3)
        : base("NAdam", [new ParamGroup(parameters)], new() { ["lr"] = lr, ["beta1"] = beta1, ["beta2"] = beta2, ["eps"] = eps, ["weight_decay"] = weightDecay, ["momentum_decay"] = momentumDecay }) { }

    private protected override void Validate(ParamGroup g) => MoreOptimizers.CheckBetas(Name, g);

    private protected override void StepGroup(ParamGroup g)
    {
        double lr = g.Lr, b1 = g["beta1"], b2 = g["beta2"], eps = g["eps"], decay = g["momentum_decay"];
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            var st = State(p);
            double step = NextStep(st);
            using var grad = MoreOptimizers.Gradient(p, g);
            var m = Buffer(st, "exp_avg", p);
            var v = Buffer(st, "exp_avg_sq", p);
            if (!st.TryGetValue("mu_product", out var muProduct))
            {
                st["mu_product"] = muProduct = Tensor.Ones(Array.Empty<int>(), DType.Float64); // the schedule's product, in double
                TensorScope.Exempt(muProduct);
            }
            double mu = b1 * (1 - 0.5 * Math.Pow(0.96, step * decay));
            double muNext = b1 * (1 - 0.5 * Math.Pow(0.96, (step + 1) * decay));
            muProduct.Mul_(mu);
            double product = muProduct.Item<double>();
            MoreOptimizers.Moments(m, v, grad, b1, b2);
            using var denom = v.Div(1 - Math.Pow(b2, step)).Sqrt_().Add_(eps);
            using (var g1 = grad.Div(denom)) p.Add_(g1, -lr * (1 - mu) / (1 - product));
            using (var g2 = m.Div(denom)) p.Add_(g2, -lr * muNext / (1 - product * muNext));
        }
    }
}

/// <summary>Rectified Adam (<c>torch.optim.RAdam</c>): SGD with momentum until the variance estimate is reliable.</summary>
public sealed class RAdam : Optimizer
{
    /// <summary>RAdam over <paramref name="parameters"/>.</summary>
    public RAdam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base("RAdam", [new ParamGroup(parameters)], new() { ["lr"] = lr, ["beta1"] = beta1, ["beta2"] = beta2, ["eps"] = eps, ["weight_decay"] = weightDecay }) { }

    private protected override void Validate(ParamGroup g) => MoreOptimizers.CheckBetas(Name, g);

    private protected override void StepGroup(ParamGroup g)
    {
        double lr = g.Lr, b1 = g["beta1"], b2 = g["beta2"], eps = g["eps"];
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            var st = State(p);
            double step = NextStep(st);
            using var grad = MoreOptimizers.Gradient(p, g);
            var m = Buffer(st, "exp_avg", p);
            var v = Buffer(st, "exp_avg_sq", p);
            MoreOptimizers.Moments(m, v, grad, b1, b2);
            double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(b2, step);
            double rhoInf = 2 / (1 - b2) - 1;
            double rhoT = rhoInf - 2 * step * Math.Pow(b2, step) / bc2;
            using var corrected = m.Div(bc1);
            if (rhoT > 5)
            {
                double rect = Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
                using var denom = v.Sqrt().Add_(eps);
                using var adaptive = corrected.Div(denom);
                p.Add_(adaptive, -lr * Math.Sqrt(bc2) * rect);
            }
            else p.Add_(corrected, -lr);
        }
    }
}

/// <summary>What the optimizers above share.</summary>
/// <summary>
/// Rprop (<c>torch.optim.Rprop</c>): a per-element step size grown by <c>etaPlus</c> while the gradient keeps its sign
/// and shrunk by <c>etaMinus</c> when it flips (that step then skipped), moving by the gradient's sign only. For full
/// batches.
/// </summary>
public sealed class Rprop : Optimizer
{
    /// <summary>Rprop over <paramref name="parameters"/>, each step size starting at <paramref name="lr"/>.</summary>
    public Rprop(IEnumerable<Tensor> parameters, double lr = 1e-2, double etaMinus = 0.5, double etaPlus = 1.2, double stepSizeMin = 1e-6, double stepSizeMax = 50,
        bool maximize = false)
        : base("Rprop", [new ParamGroup(parameters)], new()
        {
            ["lr"] = lr,
            ["eta_minus"] = etaMinus,
            ["eta_plus"] = etaPlus,
            ["step_size_min"] = stepSizeMin,
            ["step_size_max"] = stepSizeMax,
            ["maximize"] = maximize ? 1 : 0
        })
    { }

    private protected override void Validate(ParamGroup g)
    {
        if (!(0 < g["eta_minus"] && g["eta_minus"] < 1 && 1 < g["eta_plus"]))
            throw new KilnException(Name, $"{Name}: Invalid eta values: {g["eta_minus"]}, {g["eta_plus"]} (need 0 < eta_minus < 1 < eta_plus)");
    }

    private protected override void StepGroup(ParamGroup g)
    {
        double etaMinus = g["eta_minus"], etaPlus = g["eta_plus"], min = g["step_size_min"], max = g["step_size_max"];
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            var st = State(p);
            NextStep(st);
            var prev = Buffer(st, "prev", p);
            var stepSize = Buffer(st, "step_size", p, g.Lr);
            using var grad = g.Flag("maximize") ? p.GradInternal.Neg() : p.GradInternal.Clone();
            // The sign of grad·prev picks each element's factor: etaPlus (same sign), etaMinus (flipped), 1 (a zero).
            using var agreement = grad * prev;
            using var same = agreement.Gt(0);
            using var flipped = agreement.Lt(0);
            using var ones = Tensor.OnesLike(grad);
            using var up = ones.MaskedFill(same, etaPlus);
            using var factor = up.MaskedFill(flipped, etaMinus);
            stepSize.Mul_(factor).Clamp_(min, max);
            using var kept = grad.MaskedFill(flipped, 0); // a flipped sign skips this step and forgets the gradient
            using var direction = kept.Sign();
            using var move = direction * stepSize;
            p.Sub_(move);
            prev.Copy_(kept);
        }
    }
}

/// <summary>
/// Averaged SGD (<c>torch.optim.ASGD</c>): SGD with a decaying rate η = lr/(1 + λ·lr·t)^α and a running average of the
/// parameters (state <c>ax</c>) from step <c>t0</c> on.
/// </summary>
public sealed class ASGD : Optimizer
{
    /// <summary>ASGD over <paramref name="parameters"/>.</summary>
    public ASGD(IEnumerable<Tensor> parameters, double lr = 1e-2, double lambd = 1e-4, double alpha = 0.75, double t0 = 1e6, double weightDecay = 0, bool maximize = false)
        : base("ASGD", [new ParamGroup(parameters)], new()
        {
            ["lr"] = lr,
            ["lambd"] = lambd,
            ["alpha"] = alpha,
            ["t0"] = t0,
            ["weight_decay"] = weightDecay,
            ["maximize"] = maximize ? 1 : 0
        })
    { }

    private protected override bool StateFits(string key, Tensor value, Tensor parameter) => key is "eta" or "mu" || base.StateFits(key, value, parameter);

    private protected override void StepGroup(ParamGroup g)
    {
        double lr = g.Lr, lambd = g["lambd"], alpha = g["alpha"], t0 = g["t0"];
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            var st = State(p);
            double step = NextStep(st);
            var eta = ScalarState(st, "eta", lr);
            var mu = ScalarState(st, "mu", 1);
            var ax = Buffer(st, "ax", p);
            using var grad = MoreOptimizers.Gradient(p, g);
            double etaValue = eta.Item<float>(), muValue = mu.Item<float>();
            p.Mul_(1 - lambd * etaValue);
            p.Add_(grad, -etaValue);
            if (muValue != 1)
            {
                using var gap = p - ax;
                using var scaled = gap * muValue;
                ax.Add_(scaled);
            }
            else ax.Copy_(p);
            eta.Fill_(lr / Math.Pow(1 + lambd * lr * step, alpha));
            mu.Fill_(1 / Math.Max(1, step - t0));
        }
    }
}

internal static class MoreOptimizers
{
    public static void CheckBetas(string name, ParamGroup g)
    {
        foreach (var b in new[] { "beta1", "beta2" })
            if (g[b] < 0 || g[b] >= 1) throw new KilnException(name, $"{name}: Invalid {b} parameter: {g[b]} (must be in [0, 1))", KilnErrorKind.Shape);
    }

    /// <summary>Adam's running moments: m ← β1·m + (1-β1)·g, v ← β2·v + (1-β2)·g².</summary>
    public static void Moments(Tensor m, Tensor v, Tensor grad, double b1, double b2)
    {
        m.Mul_(b1).Add_(grad, 1 - b1);
        using var g2 = grad.Mul(grad);
        v.Mul_(b2).Add_(g2, 1 - b2);
    }

    /// <summary>The gradient with weight decay added (and negated when maximizing), as a new tensor.</summary>
    public static Tensor Gradient(Tensor p, ParamGroup g)
    {
        var grad = g.Flag("maximize") ? p.GradInternal!.Neg() : p.GradInternal!.Clone();
        double wd = g["weight_decay"];
        if (wd != 0) grad.Add_(p, wd);
        return grad;
    }
}
