using System;
using System.Collections.Generic;

namespace Kiln.Optim;

/// <summary>Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize (<c>torch.optim.SGD</c>).</summary>
public sealed class SGD : Optimizer
{
    /// <summary>SGD over <paramref name="parameters"/>.</summary>
    public SGD(IEnumerable<Tensor> parameters, double lr = 1e-3, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, momentum, dampening, weightDecay, nesterov, maximize) { }

    /// <summary>SGD over parameter groups; their unset options take these defaults.</summary>
    public SGD(IEnumerable<ParamGroup> groups, double lr = 1e-3, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base("SGD", groups, new() { ["lr"] = lr, ["momentum"] = momentum, ["dampening"] = dampening, ["weight_decay"] = weightDecay, ["nesterov"] = nesterov ? 1 : 0, ["maximize"] = maximize ? 1 : 0 }) { }

    private protected override void Validate(ParamGroup g)
    {
        if (g.Flag("nesterov") && (g["momentum"] <= 0 || g["dampening"] != 0))
            throw new KilnException(Name, $"{Name}: Nesterov momentum requires a momentum and zero dampening");
    }

    private protected override unsafe void StepGroup(ParamGroup g)
    {
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            using var step = new FusedStep(this, p);
            var st = State(p);
            bool first = false;
            Tensor? buf = null;
            if (g["momentum"] != 0)
            {
                first = !st.ContainsKey("momentum_buffer");
                buf = step.State(Buffer(st, "momentum_buffer", p));
            }
            p.Backend.Sgd(step.Param, step.Grad, buf, new(g.Lr, g["weight_decay"], g["momentum"], g["dampening"], first, g.Flag("nesterov"), g.Flag("maximize")));
        }
    }
}

/// <summary>Adam (<c>torch.optim.Adam</c>), with L2 weight decay added to the gradient and optional AMSGrad.</summary>
public class Adam : Optimizer
{
    /// <summary>Adam over <paramref name="parameters"/>.</summary>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

    /// <summary>Adam over parameter groups.</summary>
    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this("Adam", groups, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

    private protected Adam(string name, IEnumerable<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool maximize)
        : base(name, groups, new() { ["lr"] = lr, ["beta1"] = beta1, ["beta2"] = beta2, ["eps"] = eps, ["weight_decay"] = weightDecay, ["amsgrad"] = amsgrad ? 1 : 0, ["maximize"] = maximize ? 1 : 0 }) { }

    private protected virtual bool Decoupled => false;

    private protected override void Validate(ParamGroup g)
    {
        foreach (var b in new[] { "beta1", "beta2" })
            if (g[b] < 0 || g[b] >= 1) throw new KilnException(Name, $"{Name}: Invalid {b} parameter: {g[b]} (must be in [0, 1))", KilnErrorKind.Shape);
    }

    private protected override unsafe void StepGroup(ParamGroup g)
    {
        double lr = g.Lr, b1 = g["beta1"], b2 = g["beta2"];
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            using var fused = new FusedStep(this, p);
            var st = State(p);
            double step = NextStep(st);
            var m = fused.State(Buffer(st, "exp_avg", p));
            var v = fused.State(Buffer(st, "exp_avg_sq", p));
            var vmax = g.Flag("amsgrad") ? fused.State(Buffer(st, "max_exp_avg_sq", p)) : null;
            double stepSize = lr / (1 - Math.Pow(b1, step)), bc2Sqrt = Math.Sqrt(1 - Math.Pow(b2, step));
            p.Backend.Adam(fused.Param, fused.Grad, m, v, vmax, new(lr, b1, b2, g["eps"], g["weight_decay"], Decoupled, g.Flag("maximize"), stepSize, bc2Sqrt));
        }
    }
}

/// <summary>Adam with decoupled weight decay (<c>torch.optim.AdamW</c>): weights shrink by lr·weight_decay before the Adam step.</summary>
public sealed class AdamW : Adam
{
    /// <summary>AdamW over <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

    /// <summary>AdamW over parameter groups.</summary>
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base("AdamW", groups, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

    private protected override bool Decoupled => true;
}

/// <summary>RMSprop (<c>torch.optim.RMSprop</c>), optionally centred and with momentum.</summary>
public sealed class RMSprop : Optimizer
{
    /// <summary>RMSprop over <paramref name="parameters"/>.</summary>
    public RMSprop(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, alpha, eps, weightDecay, momentum, centered, maximize) { }

    /// <summary>RMSprop over parameter groups.</summary>
    public RMSprop(IEnumerable<ParamGroup> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base("RMSprop", groups, new() { ["lr"] = lr, ["alpha"] = alpha, ["eps"] = eps, ["weight_decay"] = weightDecay, ["momentum"] = momentum, ["centered"] = centered ? 1 : 0, ["maximize"] = maximize ? 1 : 0 }) { }

    private protected override unsafe void StepGroup(ParamGroup g)
    {
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            using var step = new FusedStep(this, p);
            var st = State(p);
            NextStep(st);
            var sq = step.State(Buffer(st, "square_avg", p));
            var gAvg = g.Flag("centered") ? step.State(Buffer(st, "grad_avg", p)) : null;
            var buf = g["momentum"] > 0 ? step.State(Buffer(st, "momentum_buffer", p)) : null;
            p.Backend.RmsProp(step.Param, step.Grad, sq, gAvg, buf, new(g.Lr, g["alpha"], g["eps"], g["weight_decay"], g["momentum"], g.Flag("maximize")));
        }
    }
}

/// <summary>Adagrad (<c>torch.optim.Adagrad</c>) with learning-rate decay and an initial accumulator value.</summary>
public sealed class Adagrad : Optimizer
{
    /// <summary>Adagrad over <paramref name="parameters"/>.</summary>
    public Adagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize) { }

    /// <summary>Adagrad over parameter groups.</summary>
    public Adagrad(IEnumerable<ParamGroup> groups, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : base("Adagrad", groups, new() { ["lr"] = lr, ["lr_decay"] = lrDecay, ["weight_decay"] = weightDecay, ["initial_accumulator_value"] = initialAccumulatorValue, ["eps"] = eps, ["maximize"] = maximize ? 1 : 0 })
    {
        // PyTorch creates the accumulators at construction.
        foreach (var g in ParamGroups)
            foreach (var p in g.Params) Buffer(State(p), "sum", p, g["initial_accumulator_value"]);
    }

    private protected override unsafe void StepGroup(ParamGroup g)
    {
        foreach (var p in g.Params)
        {
            if (p.GradInternal is null) continue;
            using var fused = new FusedStep(this, p);
            var st = State(p);
            double step = NextStep(st);
            var sum = fused.State(Buffer(st, "sum", p, g["initial_accumulator_value"]));
            double clr = g.Lr / (1 + (step - 1) * g["lr_decay"]);
            p.Backend.Adagrad(fused.Param, fused.Grad, sum, new(clr, g["eps"], g["weight_decay"], g.Flag("maximize")));
        }
    }
}

/// <summary>
/// One parameter's fused update. A float32 or float64 parameter is updated in place. A bfloat16 or float16 one — and its
/// state, kept in its dtype as PyTorch keeps it — is widened to float32, updated, and rounded back once when the step is
/// disposed, as PyTorch's fused optimizers compute 16-bit parameters in float32 (the fused kernels read float32/float64).
/// </summary>
internal sealed class FusedStep : IDisposable
{
    readonly Tensor _p;
    readonly List<(Tensor Stored, Tensor Wide)>? _widened;   // null for a float32/float64 parameter (nothing to round back)

    public FusedStep(Optimizer opt, Tensor p)
    {
        if (!p.DType.IsFloatingPoint())
            throw new KilnException(opt.Name, $"{opt.Name}: parameters must be floating point, got {p.DType}", KilnErrorKind.DType);
        if (!p.IsContiguous) throw new KilnException(opt.Name, $"{opt.Name}: parameters must be contiguous");
        var g = p.GradInternal!;
        if (g.Numel != p.Numel) throw new KilnException(opt.Name, $"{opt.Name}: gradient shape [{string.Join(", ", g.Shape)}] does not match parameter shape [{string.Join(", ", p.Shape)}]", KilnErrorKind.Shape);
        _p = p;
        if (p.DType is DType.BFloat16 or DType.Float16) _widened = [];
        using (var converted = g.ToInternal(_widened is null ? p.DType : DType.Float32)) Grad = converted.ContiguousInternal();
        Param = State(p);
    }

    /// <summary>What the fused kernel updates: the parameter, or its float32 copy.</summary>
    public Tensor Param { get; }

    /// <summary>The gradient in <see cref="Param"/>'s dtype, contiguous.</summary>
    public Tensor Grad { get; }

    /// <summary>A state buffer as the kernel reads it: itself, or a float32 copy written back with the parameter.</summary>
    public Tensor State(Tensor stored)
    {
        if (_widened is null) return stored;
        var wide = stored.ContiguousAs(DType.Float32);
        _widened.Add((stored, wide));
        return wide;
    }

    /// <summary>Rounds the widened copies back into their 16-bit tensors; marks the parameter written for autograd's version checks.</summary>
    public void Dispose()
    {
        if (_widened is not null)
            using (Autograd.NoGrad())
                foreach (var (stored, wide) in _widened)
                {
                    using var rounded = wide.ToInternal(stored.DType);
                    stored.Copy_(rounded);
                    wide.Dispose();
                }
        Grad.Dispose();
        _p.BumpVersion();
    }
}
