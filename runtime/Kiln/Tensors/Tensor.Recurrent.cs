using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Recurrent;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// A fused LSTM layer direction: proj [T, N, 4H] (input projection plus biases), initial h0 and c0 [N, H], W_hh [4H, H].
    /// Returns [T, N, 2H] with each step's h then c.
    /// </summary>
    internal static Tensor LstmLayerOp(Tensor proj, Tensor h0, Tensor c0, Tensor whh, bool reverse)
    {
        const string op = "lstm_layer";
        if (proj.Dim != 3 || proj.Size(2) % 4 != 0)
            throw new KilnException(op, $"{op}: expected the input projection [T, N, 4*hidden], got {ShapeText.Format(proj._shape)}");
        int steps = proj.Size(0), n = proj.Size(1), h = proj.Size(2) / 4;
        foreach (var (t, name, shape) in new[] { (h0, "h0", new[] { n, h }), (c0, "c0", new[] { n, h }), (whh, "weight_hh", new[] { 4 * h, h }) })
            if (!ShapeRules.SameShape(t._shape, shape) || t.DType != proj.DType)
                throw new KilnException(op, $"{op}: expected {name} of shape {ShapeText.Format(shape)} and dtype {proj.DType}, got {ShapeText.Format(t._shape)} {t.DType}");
        RequireFloat(op, proj);
        using var pc = proj.ContiguousInternal();
        using var hc0 = h0.ContiguousInternal();
        using var cc0 = c0.ContiguousInternal();
        using var wc = whh.ContiguousInternal();
        var output = Allocate([steps, n, 2 * h], proj.DType);
        var gates = Allocate([steps, n, 4 * h], proj.DType);
        if (proj.DType == DType.Float32)
            LstmKernel.Forward(steps, n, h, pc.Ptr<float>(), hc0.Ptr<float>(), cc0.Ptr<float>(), wc.Ptr<float>(), output.Ptr<float>(), gates.Ptr<float>(), reverse);
        else
            LstmKernel.Forward(steps, n, h, pc.Ptr<double>(), hc0.Ptr<double>(), cc0.Ptr<double>(), wc.Ptr<double>(), output.Ptr<double>(), gates.Ptr<double>(), reverse);
        if (!GradMode.Enabled || !(proj.RequiresGrad || h0.RequiresGrad || c0.RequiresGrad || whh.RequiresGrad)) { gates.Dispose(); return output; }
        // The activated gates ride along as a non-differentiable input for backward.
        return RecordMany(op, output, new OpArgs { Mode = reverse ? "reverse" : null }, [proj, h0, c0, whh, gates]);
    }

    /// <summary>Gradients of proj, h0, c0 and W_hh of <see cref="LstmLayerOp"/>.</summary>
    internal static Tensor[] LstmLayerBackwardOp(Tensor h0, Tensor c0, Tensor whh, Tensor gates, Tensor output, Tensor grad, bool reverse)
    {
        int steps = gates.Size(0), n = gates.Size(1), h = gates.Size(2) / 4;
        using var hc0 = h0.ContiguousInternal();
        using var cc0 = c0.ContiguousInternal();
        using var wc = whh.ContiguousInternal();
        using var oc = output.ContiguousInternal();
        using var gc = grad.ToInternal(gates.DType).ContiguousInternal();
        var dproj = Allocate([steps, n, 4 * h], gates.DType);
        var dh0 = Allocate([n, h], gates.DType);
        var dc0 = Allocate([n, h], gates.DType);
        var dwhh = Allocate([4 * h, h], gates.DType);
        using var hprev = Allocate([steps, n, h], gates.DType);
        if (gates.DType == DType.Float32)
            LstmKernel.Backward(steps, n, h, hc0.Ptr<float>(), cc0.Ptr<float>(), wc.Ptr<float>(), oc.Ptr<float>(), gates.Ptr<float>(), gc.Ptr<float>(),
                dproj.Ptr<float>(), dh0.Ptr<float>(), dc0.Ptr<float>(), dwhh.Ptr<float>(), hprev.Ptr<float>(), reverse);
        else
            LstmKernel.Backward(steps, n, h, hc0.Ptr<double>(), cc0.Ptr<double>(), wc.Ptr<double>(), oc.Ptr<double>(), gates.Ptr<double>(), gc.Ptr<double>(),
                dproj.Ptr<double>(), dh0.Ptr<double>(), dc0.Ptr<double>(), dwhh.Ptr<double>(), hprev.Ptr<double>(), reverse);
        return [dproj, dh0, dc0, dwhh];
    }
}
