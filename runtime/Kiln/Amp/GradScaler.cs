using System;
using System.Collections.Generic;
using Kiln.Optim;

namespace Kiln;

/// <summary>
/// Loss scaling for float16 training (<c>torch.amp.GradScaler</c>): the loss is multiplied by a scale so small gradients
/// survive float16; before the optimizer steps the gradients are divided back, and a step whose gradients hold an inf or
/// NaN is skipped while the scale backs off. After <see cref="GrowthInterval"/> clean steps the scale grows.
/// </summary>
/// <example><code>
/// var scaler = new GradScaler();
/// using (Autocast.Enable()) loss = F.CrossEntropy(model.Forward(x), y);
/// scaler.Scale(loss).Backward();
/// scaler.Step(optimizer);
/// scaler.Update();
/// </code></example>
public sealed class GradScaler
{
    readonly HashSet<Optimizer> _unscaled = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<Optimizer, bool> _foundInf = new(ReferenceEqualityComparer.Instance);
    int _growthTracker;

    /// <summary>A scaler with PyTorch's defaults.</summary>
    public GradScaler(double initScale = 65536.0, double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000, bool enabled = true)
    {
        if (growthFactor <= 1) throw new KilnException("GradScaler", $"GradScaler: growth_factor should be > 1, got {growthFactor}");
        if (backoffFactor >= 1 || backoffFactor <= 0) throw new KilnException("GradScaler", $"GradScaler: backoff_factor should be in (0, 1), got {backoffFactor}");
        if (growthInterval <= 0) throw new KilnException("GradScaler", $"GradScaler: growth_interval should be > 0, got {growthInterval}");
        Scale_ = initScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
        IsEnabled = enabled;
    }

    double Scale_;

    /// <summary>The current scale (<c>get_scale()</c>); 1 when disabled.</summary>
    public double ScaleValue => IsEnabled ? Scale_ : 1.0;
    /// <summary>Factor the scale grows by after <see cref="GrowthInterval"/> clean steps.</summary>
    public double GrowthFactor { get; }
    /// <summary>Factor the scale shrinks by after a step with inf/NaN gradients.</summary>
    public double BackoffFactor { get; }
    /// <summary>Clean steps between growths.</summary>
    public int GrowthInterval { get; }
    /// <summary>When false every method is a pass-through (<c>enabled=False</c>).</summary>
    public bool IsEnabled { get; }

    /// <summary>loss · scale (recorded: backward gives scaled gradients).</summary>
    public Tensor Scale(Tensor loss) => IsEnabled ? loss.Mul(Scale_) : loss;

    /// <summary>
    /// Divides the gradients of <paramref name="optimizer"/>'s parameters by the scale, in place, and notes whether any is
    /// inf or NaN (<c>unscale_</c>). Called by <see cref="Step"/> unless done already (e.g. before gradient clipping).
    /// </summary>
    public void Unscale_(Optimizer optimizer)
    {
        if (!IsEnabled) return;
        if (!_unscaled.Add(optimizer))
            throw new KilnException("unscale_", "unscale_: unscale_() has already been called on this optimizer since the last update()");
        bool found = false;
        double inverse = 1.0 / Scale_;
        using var _ = Autograd.NoGrad();
        foreach (var group in optimizer.ParamGroups)
            foreach (var p in group.Params)
            {
                if (p.GradInternal is not { } g) continue;
                g.Mul_(inverse);
                if (!found) found = !AllFinite(g);
            }
        _foundInf[optimizer] = found;
    }

    /// <summary>True when every element is finite (the host reads one flag from the device, as PyTorch's step does).</summary>
    static bool AllFinite(Tensor g)
    {
        using var a = g.Abs();
        using var finite = a.Lt(double.PositiveInfinity);   // false for inf and NaN
        using var all = finite.All();
        return all.Item<bool>();
    }

    /// <summary>Unscales if needed, then steps the optimizer unless an inf/NaN gradient was found (<c>step</c>); returns whether it stepped.</summary>
    public bool Step(Optimizer optimizer)
    {
        if (!IsEnabled) { optimizer.Step(); return true; }
        if (!_unscaled.Contains(optimizer)) Unscale_(optimizer);
        if (_foundInf[optimizer]) return false;
        optimizer.Step();
        return true;
    }

    /// <summary>Adjusts the scale after the step(s): back off on inf/NaN, grow after a run of clean steps (<c>update</c>).</summary>
    public void Update(double? newScale = null)
    {
        if (!IsEnabled) return;
        if (newScale is { } s) Scale_ = s;
        else
        {
            bool found = false;
            foreach (var f in _foundInf.Values) found |= f;
            if (found)
            {
                Scale_ *= BackoffFactor;
                _growthTracker = 0;
            }
            else if (++_growthTracker == GrowthInterval)
            {
                Scale_ *= GrowthFactor;
                _growthTracker = 0;
            }
        }
        _unscaled.Clear();
        _foundInf.Clear();
    }
}
