using System.Collections.Generic;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Recurrent;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// A fused LSTM layer direction: proj [T, N, 4H] (input projection plus biases), initial h0 [N, P] and c0 [N, H],
    /// W_hh [4H, P], and with a projection W_hr [P, H] (P = H without one). Returns [T, N, P + H] with each step's h then c.
    /// With <paramref name="lengths"/> (int64 [N]) sequence n runs its first lengths[n] steps only; elsewhere its state is
    /// held (see <see cref="LstmKernel"/>), so step T - 1 (forward) or 0 (reverse) still holds each final state.
    /// </summary>
    internal static Tensor LstmLayerOp(Tensor proj, Tensor h0, Tensor c0, Tensor whh, Tensor? whr, bool reverse, Tensor? lengths = null)
    {
        const string op = "lstm_layer";
        if (proj.Dim != 3 || proj.Size(2) % 4 != 0)
            throw new KilnException(op, $"{op}: expected the input projection [T, N, 4*hidden], got {ShapeText.Format(proj._shape)}", KilnErrorKind.Shape);
        int steps = proj.Size(0), n = proj.Size(1), h = proj.Size(2) / 4, p = whr?.Size(0) ?? h;
        var expected = new List<(Tensor, string, int[])> { (h0, "h0", [n, p]), (c0, "c0", [n, h]), (whh, "weight_hh", [4 * h, p]) };
        if (whr is not null) expected.Add((whr, "weight_hr", [p, h]));
        foreach (var (t, name, shape) in expected)
            if (!ShapeRules.SameShape(t._shape, shape) || t.DType != proj.DType)
                throw new KilnException(op, $"{op}: expected {name} of shape {ShapeText.Format(shape)} and dtype {proj.DType}, got {ShapeText.Format(t._shape)} {t.DType}", KilnErrorKind.DType);
        RequireFloat(op, proj);
        CheckLengths(op, lengths, steps, n);
        return proj.Backend.LstmLayer(proj, h0, c0, whh, whr, reverse, lengths);
    }

    /// <summary>The lengths where the host kernels read them (a copy when they live on a device).</summary>
    static Tensor? HostLengths(Tensor? lengths) => lengths is null ? null : lengths.IsCuda ? lengths.Cpu() : lengths.ContiguousInternal();

    /// <summary>Sequence lengths must be int64 [N] with values in [0, T] (the kernels index with them).</summary>
    static void CheckLengths(string op, Tensor? lengths, int steps, int n)
    {
        if (lengths is null) return;
        if (lengths.DType != DType.Int64 || !ShapeRules.SameShape(lengths._shape, [n]))
            throw new KilnException(op, $"{op}: expected lengths as int64 [{n}] (one per sequence), got {lengths.DType} {ShapeText.Format(lengths._shape)}", KilnErrorKind.Shape);
        var values = lengths.ToArray<long>();
        for (int i = 0; i < values.Length; i++)
            if (values[i] < 0 || values[i] > steps)
                throw new KilnException(op, $"{op}: lengths[{i}] = {values[i]} lies outside [0, {steps}] for a sequence of {steps} steps", KilnErrorKind.Shape);
    }

    /// <summary>The host's LSTM layer direction: one fused kernel over the steps (arguments checked by <see cref="LstmLayerOp"/>).</summary>
    internal static Tensor HostLstm(Tensor proj, Tensor h0, Tensor c0, Tensor whh, Tensor? whr, bool reverse, Tensor? lengths)
    {
        const string op = "lstm_layer";
        int steps = proj.Size(0), n = proj.Size(1), h = proj.Size(2) / 4, p = whr?.Size(0) ?? h;
        using var pc = proj.ContiguousInternal();
        using var hc0 = h0.ContiguousInternal();
        using var cc0 = c0.ContiguousInternal();
        using var wc = whh.ContiguousInternal();
        using var rc = whr?.ContiguousInternal();
        using var lc = HostLengths(lengths);
        long* lp = lc is null ? null : lc.Ptr<long>();
        var output = Allocate([steps, n, p + h], proj.DType);
        var gates = Allocate([steps, n, 4 * h], proj.DType);
        if (proj.DType == DType.Float32)
            LstmKernel.Forward(steps, n, h, p, pc.Ptr<float>(), hc0.Ptr<float>(), cc0.Ptr<float>(), wc.Ptr<float>(), rc is null ? null : rc.Ptr<float>(), output.Ptr<float>(), gates.Ptr<float>(), lp, reverse);
        else
            LstmKernel.Forward(steps, n, h, p, pc.Ptr<double>(), hc0.Ptr<double>(), cc0.Ptr<double>(), wc.Ptr<double>(), rc is null ? null : rc.Ptr<double>(), output.Ptr<double>(), gates.Ptr<double>(), lp, reverse);
        if (!GradMode.Enabled || !(proj.RequiresGrad || h0.RequiresGrad || c0.RequiresGrad || whh.RequiresGrad || whr is { RequiresGrad: true })) { gates.Dispose(); return output; }
        // The activated gates (and the lengths) ride along as non-differentiable inputs for backward.
        return RecordMany(op, output, new LstmArgs(reverse, h), lengths is null ? [proj, h0, c0, whh, whr, gates] : [proj, h0, c0, whh, whr, gates, lengths]);
    }

    /// <summary>Gradients of proj, h0, c0, W_hh and W_hr (null without a projection) of <see cref="LstmLayerOp"/>.</summary>
    internal static Tensor?[] LstmLayerBackwardOp(Tensor h0, Tensor c0, Tensor whh, Tensor? whr, Tensor gates, Tensor output, Tensor grad, bool reverse, Tensor? lengths)
    {
        int steps = gates.Size(0), n = gates.Size(1), h = gates.Size(2) / 4, p = whr?.Size(0) ?? h;
        var dt = gates.DType;
        using var hc0 = h0.ContiguousInternal();
        using var cc0 = c0.ContiguousInternal();
        using var wc = whh.ContiguousInternal();
        using var rc = whr?.ContiguousInternal();
        using var oc = output.ContiguousInternal();
        using var gc = grad.ContiguousAs(dt);
        var dproj = Allocate([steps, n, 4 * h], dt);
        var dh0 = Allocate([n, p], dt);
        var dc0 = Allocate([n, h], dt);
        var dwhh = Allocate([4 * h, p], dt);
        var dwhr = whr is null ? null : Allocate([p, h], dt);
        using var hprev = Allocate([steps, n, p], dt);
        using var lc = HostLengths(lengths);
        long* lp = lc is null ? null : lc.Ptr<long>();
        if (dt == DType.Float32)
            LstmKernel.Backward(steps, n, h, p, hc0.Ptr<float>(), cc0.Ptr<float>(), wc.Ptr<float>(), rc is null ? null : rc.Ptr<float>(), oc.Ptr<float>(), gates.Ptr<float>(), gc.Ptr<float>(),
                dproj.Ptr<float>(), dh0.Ptr<float>(), dc0.Ptr<float>(), dwhh.Ptr<float>(), dwhr is null ? null : dwhr.Ptr<float>(), hprev.Ptr<float>(), lp, reverse);
        else
            LstmKernel.Backward(steps, n, h, p, hc0.Ptr<double>(), cc0.Ptr<double>(), wc.Ptr<double>(), rc is null ? null : rc.Ptr<double>(), oc.Ptr<double>(), gates.Ptr<double>(), gc.Ptr<double>(),
                dproj.Ptr<double>(), dh0.Ptr<double>(), dc0.Ptr<double>(), dwhh.Ptr<double>(), dwhr is null ? null : dwhr.Ptr<double>(), hprev.Ptr<double>(), lp, reverse);
        return [dproj, dh0, dc0, dwhh, dwhr];
    }

    /// <summary>
    /// A fused GRU layer direction: proj [T, N, 3H] (x·W_ihᵀ + b_ih), h0 [N, H], W_hh [3H, H], optional b_hh [3H].
    /// Returns every step's h, [T, N, H]. <paramref name="lengths"/> (int64 [N]) as in <see cref="LstmLayerOp"/>.
    /// </summary>
    internal static Tensor GruLayerOp(Tensor proj, Tensor h0, Tensor whh, Tensor? bhh, bool reverse, Tensor? lengths = null)
    {
        const string op = "gru_layer";
        if (proj.Dim != 3 || proj.Size(2) % 3 != 0)
            throw new KilnException(op, $"{op}: expected the input projection [T, N, 3*hidden], got {ShapeText.Format(proj._shape)}", KilnErrorKind.Shape);
        int steps = proj.Size(0), n = proj.Size(1), h = proj.Size(2) / 3;
        if (!ShapeRules.SameShape(h0._shape, [n, h]) || !ShapeRules.SameShape(whh._shape, [3 * h, h]) || bhh is not null && !ShapeRules.SameShape(bhh._shape, [3 * h]))
            throw new KilnException(op, $"{op}: expected h0 [{n}, {h}], weight_hh [{3 * h}, {h}] and bias_hh [{3 * h}]; got {ShapeText.Format(h0._shape)}, {ShapeText.Format(whh._shape)}" + (bhh is null ? "" : $", {ShapeText.Format(bhh._shape)}"), KilnErrorKind.Shape);
        RequireFloat(op, proj);
        CheckLengths(op, lengths, steps, n);
        return proj.Backend.GruLayer(proj, h0, whh, bhh, reverse, lengths);
    }

    /// <summary>The host's GRU layer direction: one fused kernel over the steps (arguments checked by <see cref="GruLayerOp"/>).</summary>
    internal static Tensor HostGru(Tensor proj, Tensor h0, Tensor whh, Tensor? bhh, bool reverse, Tensor? lengths)
    {
        const string op = "gru_layer";
        int steps = proj.Size(0), n = proj.Size(1), h = proj.Size(2) / 3;
        using var pc = proj.ContiguousInternal();
        using var hc0 = h0.ContiguousAs(proj.DType);
        using var wc = whh.ContiguousAs(proj.DType);
        using var bc = bhh?.ContiguousAs(proj.DType);
        using var lc = HostLengths(lengths);
        long* lp = lc is null ? null : lc.Ptr<long>();
        var output = Allocate([steps, n, h], proj.DType);
        var saved = Allocate([steps, n, 4 * h], proj.DType);
        if (proj.DType == DType.Float32)
            GruKernel.Forward(steps, n, h, pc.Ptr<float>(), hc0.Ptr<float>(), wc.Ptr<float>(), bc is null ? null : bc.Ptr<float>(), output.Ptr<float>(), saved.Ptr<float>(), lp, reverse);
        else
            GruKernel.Forward(steps, n, h, pc.Ptr<double>(), hc0.Ptr<double>(), wc.Ptr<double>(), bc is null ? null : bc.Ptr<double>(), output.Ptr<double>(), saved.Ptr<double>(), lp, reverse);
        if (!GradMode.Enabled || !(proj.RequiresGrad || h0.RequiresGrad || whh.RequiresGrad || bhh is { RequiresGrad: true })) { saved.Dispose(); return output; }
        return RecordMany(op, output, new GruArgs(reverse, HasBias: bhh is not null), lengths is null ? [proj, h0, whh, bhh, saved] : [proj, h0, whh, bhh, saved, lengths]);
    }

    /// <summary>Gradients of proj, h0, W_hh and b_hh (null without a bias) of <see cref="GruLayerOp"/>.</summary>
    internal static Tensor?[] GruLayerBackwardOp(Tensor h0, Tensor whh, bool hasBias, Tensor saved, Tensor output, Tensor grad, bool reverse, Tensor? lengths)
    {
        int steps = saved.Size(0), n = saved.Size(1), h = saved.Size(2) / 4;
        var dt = saved.DType;
        using var hc0 = h0.ContiguousAs(dt);
        using var wc = whh.ContiguousAs(dt);
        using var oc = output.ContiguousInternal();
        using var gc = grad.ContiguousAs(dt);
        var dproj = Allocate([steps, n, 3 * h], dt);
        var dh0 = Allocate([n, h], dt);
        var dwhh = Allocate([3 * h, h], dt);
        var dbhh = hasBias ? Allocate([3 * h], dt) : null;
        using var dhp = Allocate([steps, n, 3 * h], dt);
        using var hprev = Allocate([steps, n, h], dt);
        using var lc = HostLengths(lengths);
        long* lp = lc is null ? null : lc.Ptr<long>();
        if (dt == DType.Float32)
            GruKernel.Backward(steps, n, h, hc0.Ptr<float>(), wc.Ptr<float>(), oc.Ptr<float>(), saved.Ptr<float>(), gc.Ptr<float>(), dproj.Ptr<float>(), dh0.Ptr<float>(),
                dwhh.Ptr<float>(), dbhh is null ? null : dbhh.Ptr<float>(), dhp.Ptr<float>(), hprev.Ptr<float>(), lp, reverse);
        else
            GruKernel.Backward(steps, n, h, hc0.Ptr<double>(), wc.Ptr<double>(), oc.Ptr<double>(), saved.Ptr<double>(), gc.Ptr<double>(), dproj.Ptr<double>(), dh0.Ptr<double>(),
                dwhh.Ptr<double>(), dbhh is null ? null : dbhh.Ptr<double>(), dhp.Ptr<double>(), hprev.Ptr<double>(), lp, reverse);
        return [dproj, dh0, dwhh, dbhh];
    }

    // On a CUDA device the recurrences are recorded step by step from the backend's kernels (a GEMM and a few elementwise
    // ops per step), so autograd differentiates them; the CPU's fused layer kernels are not used there.

    /// <summary>
    /// Which rows run at step <paramref name="t"/> ([N, 1] bool, on the data's device), or null when every row does; rows
    /// that do not hold their state (<c>Where(runs, new, previous)</c>), as the host kernels do.
    /// </summary>
    internal static Tensor? RunsAt(Tensor? lengths, int t, Device device)
    {
        if (lengths is null) return null;
        using var runs = lengths.Gt(t);
        using var column = runs.Unsqueeze(1);
        return column.To(device);
    }

    /// <summary>
    /// [T, N, 1] of <paramref name="dtype"/>: 1 where step t runs for sequence n (t &lt; lengths[n]), else 0 — what zeroes
    /// a lengths-aware layer's output past each end.
    /// </summary>
    internal static Tensor StepMask(Tensor lengths, int steps, DType dtype, Device device)
    {
        using var range = Arange(0, steps);
        using var t = range.To(lengths.Device).Unsqueeze(1);
        using var n = lengths.Unsqueeze(0);
        using var runs = t.Lt(n);
        using var column = runs.Unsqueeze(2);
        using var typed = column.To(dtype);
        return typed.To(device);
    }

    /// <summary>LSTM layer (gates i, f, g, o) as recorded ops: [T, N, p + h] with each step's h (projected) and c.</summary>
    internal static Tensor CudaLstm(Tensor proj, Tensor h0, Tensor c0, Tensor whh, Tensor? whr, bool reverse, Tensor? lengths)
    {
        int steps = proj.Size(0), h = proj.Size(2) / 4;
        var outputs = new Tensor[steps];
        Tensor hPrev = h0, cPrev = c0;
        using var whhT = whh.T;
        using var whrT = whr?.T;
        for (int k = 0; k < steps; k++)
        {
            int t = reverse ? steps - 1 - k : k;
            using var pt = proj.Select(0, t);
            using var recurrent = hPrev.Matmul(whhT);
            using var gates = pt + recurrent;
            using var gi = gates.Narrow(1, 0, h); using var i = gi.Sigmoid();
            using var gf = gates.Narrow(1, h, h); using var f = gf.Sigmoid();
            using var gg = gates.Narrow(1, 2 * h, h); using var g = gg.Tanh();
            using var go = gates.Narrow(1, 3 * h, h); using var o = go.Sigmoid();
            using var kept = f * cPrev;
            using var added = i * g;
            var c = kept + added;
            using var tc = c.Tanh();
            var full = o * tc;
            var hNext = whrT is null ? full : full.Matmul(whrT);
            using var runs = RunsAt(lengths, t, proj.Device);
            if (runs is not null) { hNext = Where(runs, hNext, hPrev); c = Where(runs, c, cPrev); }
            outputs[t] = Cat(new[] { hNext, c }, 1);
            hPrev = hNext; cPrev = c;
        }
        return Stack(outputs, 0);
    }

    /// <summary>GRU layer (gates r, z, n) as recorded ops: [T, N, h].</summary>
    internal static Tensor CudaGru(Tensor proj, Tensor h0, Tensor whh, Tensor? bhh, bool reverse, Tensor? lengths)
    {
        int steps = proj.Size(0), h = proj.Size(2) / 3;
        var outputs = new Tensor[steps];
        Tensor hPrev = h0;
        using var whhT = whh.T;
        for (int k = 0; k < steps; k++)
        {
            int t = reverse ? steps - 1 - k : k;
            using var pt = proj.Select(0, t);
            using var gh0 = hPrev.Matmul(whhT);
            using var gh = bhh is null ? gh0.Alias() : gh0 + bhh;
            using var pr = pt.Narrow(1, 0, h); using var hr = gh.Narrow(1, 0, h); using var sr = pr + hr; using var r = sr.Sigmoid();
            using var pz = pt.Narrow(1, h, h); using var hz = gh.Narrow(1, h, h); using var sz = pz + hz; using var z = sz.Sigmoid();
            using var pn = pt.Narrow(1, 2 * h, h); using var hn = gh.Narrow(1, 2 * h, h); using var rn = r * hn; using var sn = pn + rn; using var nn = sn.Tanh();
            using var keep = 1.0 - z;
            using var fresh = keep * nn;
            using var carried = z * hPrev;
            var next = fresh + carried;
            using var runs = RunsAt(lengths, t, proj.Device);
            if (runs is not null) next = Where(runs, next, hPrev);
            outputs[t] = next;
            hPrev = next;
        }
        return Stack(outputs, 0);
    }
}
