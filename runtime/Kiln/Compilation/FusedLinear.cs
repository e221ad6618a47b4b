using Kiln.Compiler.Shapes;
using Kiln.Kernels.Gemm;
using Kiln.Kernels.Reduce;

namespace Kiln.Compilation;

/// <summary>
/// A compiled Linear with the elementwise work after it done inside the GEMM: the epilogue adds the bias, keeps the
/// pre-activation when a backward needs it, applies ReLU/GELU and multiplies by a dropout mask while each tile of the
/// output is in cache; its backward is the plain Linear's too. For ReLU (with or without dropout) the backward reads only the layer's output: the gradient GEMMs
/// take the upstream gradient gated by it as they pack it, and the bias gradient is a gated column sum, so the
/// pre-activation and its gradient are never written.
/// </summary>
internal static unsafe class FusedLinear
{
    /// <summary>The number of elements of x·Wᵀ (the dropout draws an epilogue reserves).</summary>
    public static int OutputCount(Tensor x, Tensor weight) => checked((int)(x.Numel / System.Math.Max(1, weight.Size(1)) * weight.Size(0)));

    /// <summary>The factor dropout's kept elements carry (eager's mask value); 1 when no dropout runs.</summary>
    public static float DropoutScale(bool dropping, double p) => dropping ? (float)(1 / (1 - p)) : 1f;

    /// <summary>
    /// activation(x·Wᵀ + b) · multiplier for float32 <paramref name="x"/> of any rank; the pre-activation (x·Wᵀ + b) too
    /// when <paramref name="keepPreActivation"/>. <paramref name="multiplier"/> holds at least as many elements as the output.
    /// </summary>
    public static (Tensor Output, Tensor? PreActivation) Forward(Tensor x, Tensor weight, Tensor? bias, GemmActivation activation, float[]? multiplier, bool keepPreActivation)
    {
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        LayerRules.Linear(x.ShapeArray, inFeatures, outFeatures);
        RequireFloat32(x, weight, bias);
        return x.Backend.LinearEpilogue(x, weight, bias, activation, multiplier, keepPreActivation);
    }

    /// <summary>The CPU form of <see cref="Forward"/> (shapes and dtypes checked).</summary>
    internal static (Tensor Output, Tensor? PreActivation) CpuForward(Tensor x, Tensor weight, Tensor? bias, GemmActivation activation, float[]? multiplier, bool keepPreActivation)
    {
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        using var noGrad = Autograd.NoGrad();
        using var xc = x.Contiguous();
        using var wc = weight.Contiguous();
        using var bc = bias?.Contiguous();
        var shape = (int[])x.ShapeArray.Clone();
        shape[^1] = outFeatures;
        var y = Tensor.Empty(shape, DType.Float32);
        var pre = keepPreActivation ? Tensor.Empty(shape, DType.Float32) : null;
        int rows = checked((int)(x.Numel / System.Math.Max(1, inFeatures)));
        if (multiplier is not null && multiplier.Length < y.Numel)
            throw new KilnException("linear", $"linear: the epilogue's multiplier holds {multiplier.Length} elements, the output {y.Numel}");
        fixed (float* m = multiplier)
        {
            var epilogue = new GemmEpilogue
            {
                ColumnBias = bc is null ? null : bc.Ptr<float>(),
                Activation = activation,
                Multiplier = m,
                PreActivation = pre is null ? null : pre.Ptr<float>(),
                Ld = outFeatures,
            };
            Sgemm.Multiply(rows, outFeatures, inFeatures, 1f, xc.Ptr<float>(), inFeatures, 1, wc.Ptr<float>(), 1, inFeatures, 0f, y.Ptr<float>(), outFeatures, epilogue);
        }
        return (y, pre);
    }

    /// <summary>
    /// Gradients of y = x·Wᵀ + b (input of any rank): the input's (when asked), the weight's (dYᵀ·x) and the bias's
    /// (column sums of dY). With <paramref name="output"/> they are those of y = relu(x·Wᵀ + b) · scale-or-0 read from the
    /// layer's output: the pre-activation's gradient is <paramref name="grad"/> where the output is positive (times
    /// <paramref name="scale"/>), else 0 — applied while the gradient GEMMs pack it and inside the bias's column sum.
    /// </summary>
    public static (Tensor? Input, Tensor Weight, Tensor? Bias) Backward(Tensor x, Tensor weight, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput)
    {
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        if (output is not null && !ShapeRules.SameShape(grad.ShapeArray, output.ShapeArray))
            throw new KilnException("linear", $"linear: the gradient {ShapeText.Format(grad.ShapeArray)} does not match the output {ShapeText.Format(output.ShapeArray)}", KilnErrorKind.Shape);
        if (grad.Numel != x.Numel / System.Math.Max(1, inFeatures) * outFeatures)
            throw new KilnException("linear", $"linear: the gradient {ShapeText.Format(grad.ShapeArray)} does not match the input {ShapeText.Format(x.ShapeArray)} and weight {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        RequireFloat32(x, weight, grad);
        return x.Backend.LinearEpilogueBackward(x, weight, hasBias, grad, output, scale, needInput);
    }

    /// <summary>The CPU form of <see cref="Backward"/> (shapes and dtypes checked).</summary>
    internal static (Tensor? Input, Tensor Weight, Tensor? Bias) CpuBackward(Tensor x, Tensor weight, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput)
    {
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        using var noGrad = Autograd.NoGrad();
        using var xc = x.Contiguous();
        using var wc = weight.Contiguous();
        using var gc = grad.Contiguous();
        using var oc = output?.Contiguous();
        int rows = checked((int)(x.Numel / System.Math.Max(1, inFeatures)));
        float* g = gc.Ptr<float>(), o = oc is null ? null : oc.Ptr<float>();
        var gate = new GemmGate { Values = o, Scale = scale };
        // dW = dZᵀ·x: A is dZ read transposed (rows one apart, columns outFeatures apart), the gate in the same layout.
        var dw = Tensor.Empty(new[] { outFeatures, inFeatures }, DType.Float32);
        Sgemm.Multiply(outFeatures, inFeatures, rows, 1f, g, 1, outFeatures, xc.Ptr<float>(), inFeatures, 1, 0f, dw.Ptr<float>(), inFeatures, gate: gate);
        Tensor? db = null;
        if (hasBias)
        {
            db = Tensor.Empty(new[] { outFeatures }, DType.Float32);
            ColumnKernels.Sum(g, db.Ptr<float>(), rows, outFeatures, o, scale);
        }
        Tensor? dx = null;
        if (needInput)
        {
            dx = Tensor.Empty(x.ShapeArray, DType.Float32);
            Sgemm.Multiply(rows, inFeatures, outFeatures, 1f, g, outFeatures, 1, wc.Ptr<float>(), inFeatures, 1, 0f, dx.Ptr<float>(), inFeatures, gate: gate);
        }
        return (dx, dw, db);
    }

    /// <summary>The fused kernels read float32; other dtypes get eager's mismatch error instead of misread memory.</summary>
    static void RequireFloat32(Tensor a, Tensor b, Tensor? c)
    {
        foreach (var t in new[] { a, b, c })
            if (t is not null && t.DType != DType.Float32)
                throw new KilnException("linear", $"linear: expected float32 operands for the compiled kernel, but got {a.DType.Name()}, {b.DType.Name()}{(c is null ? "" : ", " + c.DType.Name())}", KilnErrorKind.DType);
    }
}
