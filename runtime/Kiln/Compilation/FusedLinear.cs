using Kiln.Compiler.Shapes;
using Kiln.Kernels.Gemm;
using Kiln.Kernels.Reduce;
using Kiln.NN;

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

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor, Tensor?, GemmActivation, float[], bool)"/> with a layer's low-rank terms (LoRA)
    /// added to the product before the epilogue; the terms' inner products are saved into <paramref name="ctx"/> for the
    /// backward. Without terms it is the plain fused Linear. The terms run on the CPU (a GPU layer with adapters runs its
    /// eager Forward: <see cref="CompiledOps.Fusable(Linear)"/>).
    /// </summary>
    public static (Tensor Output, Tensor? PreActivation) Forward(FunctionContext ctx, Tensor x, Tensor weight, Tensor? bias, GemmActivation activation, float[]? multiplier, bool keepPreActivation, LowRankTerms? lowRank)
    {
        if (lowRank is null) return Forward(x, weight, bias, activation, multiplier, keepPreActivation);
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        LayerRules.Linear(x.ShapeArray, inFeatures, outFeatures);
        RequireFloat32(x, weight, bias);
        RequireCpu(x, weight);
        var r = CpuForward(x, weight, bias, activation, multiplier, keepPreActivation, lowRank);
        foreach (var u in lowRank.Inner) ctx.Save(u);
        return r;
    }

    /// <summary>
    /// The backward of <see cref="Forward(FunctionContext, Tensor, Tensor, Tensor?, GemmActivation, float[], bool, LowRankTerms?)"/>:
    /// the weight's gradient only when <paramref name="needWeight"/> (a frozen base saves none), the terms' gradients into
    /// <see cref="LowRankTerms.Gradients"/>.
    /// </summary>
    public static (Tensor? Input, Tensor? Weight, Tensor? Bias) Backward(Tensor x, Tensor weight, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput, LowRankTerms? lowRank, bool needWeight)
    {
        if (lowRank is null && (needWeight || x.IsCuda)) return Backward(x, weight, hasBias, grad, output, scale, needInput);
        CheckGradient(x, weight, grad, output);
        RequireCpu(x, weight);
        return CpuBackward(x, weight, hasBias, grad, output, scale, needInput, lowRank, needWeight);
    }

    /// <summary>The backward's operands: a gradient of the output's shape (and of the size x·Wᵀ gives), all float32.</summary>
    static void CheckGradient(Tensor x, Tensor weight, Tensor grad, Tensor? output)
    {
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        if (output is not null && !ShapeRules.SameShape(grad.ShapeArray, output.ShapeArray))
            throw new KilnException("linear", $"linear: the gradient {ShapeText.Format(grad.ShapeArray)} does not match the output {ShapeText.Format(output.ShapeArray)}", KilnErrorKind.Shape);
        if (grad.Numel != x.Numel / System.Math.Max(1, inFeatures) * outFeatures)
            throw new KilnException("linear", $"linear: the gradient {ShapeText.Format(grad.ShapeArray)} does not match the input {ShapeText.Format(x.ShapeArray)} and weight {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        RequireFloat32(x, weight, grad);
    }

    static void RequireCpu(Tensor x, Tensor weight)
    {
        if (x.IsCuda || weight.IsCuda)
            throw new KilnException("linear", "linear: a compiled layer's low-rank terms run on the CPU; on a GPU the layer runs its eager Forward", KilnErrorKind.Device);
    }

    /// <summary>The CPU form of <see cref="Forward(Tensor, Tensor, Tensor?, GemmActivation, float[], bool)"/> (shapes and dtypes checked).</summary>
    /// <remarks>
    /// With <paramref name="lowRank"/> (LoRA) each term's u = scale·x·Downᵀ is computed and kept for the backward,
    /// Σ u·Upᵀ is written into the output, and the main GEMM accumulates x·Wᵀ onto it with the epilogue (bias,
    /// activation, dropout) on the finished sum — the update is in each tile before the epilogue runs.
    /// </remarks>
    internal static (Tensor Output, Tensor? PreActivation) CpuForward(Tensor x, Tensor weight, Tensor? bias, GemmActivation activation, float[]? multiplier, bool keepPreActivation, LowRankTerms? lowRank = null)
    {
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        using var noGrad = Autograd.NoGrad();
        using var xc = x.Contiguous();
        using var wc = InPlace(weight, out long rsw, out long csw, out _);
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
            float beta = 0f;
            if (lowRank is not null)
                for (int i = 0; i < lowRank.Terms.Count; i++)
                {
                    var term = lowRank.Terms[i];
                    int r = CheckTerm(term, inFeatures, outFeatures);
                    using var down = term.Down.Contiguous();
                    using var up = term.Up.Contiguous();
                    // uᵀ = scale·Down·xᵀ [r, rows]: r rows of dot products over contiguous runs (2x faster than x·Downᵀ's r columns).
                    var ut = Tensor.Empty(new[] { r, rows }, DType.Float32);
                    Sgemm.Multiply(r, rows, inFeatures, (float)term.Scale, down.Ptr<float>(), inFeatures, 1, xc.Ptr<float>(), 1, inFeatures, 0f, ut.Ptr<float>(), rows);
                    Sgemm.Multiply(rows, outFeatures, r, 1f, ut.Ptr<float>(), 1, rows, up.Ptr<float>(), 1, r, beta, y.Ptr<float>(), outFeatures);
                    lowRank.Inner[i] = ut;
                    beta = 1f;
                }
            Sgemm.Multiply(rows, outFeatures, inFeatures, 1f, xc.Ptr<float>(), inFeatures, 1, wc.Ptr<float>(), csw, rsw, beta, y.Ptr<float>(), outFeatures, epilogue);
        }
        return (y, pre);
    }

    /// <summary>
    /// The weight [out, in] for the GEMMs, with W[o, i] at its pointer + o·<paramref name="rs"/> + i·<paramref name="cs"/>:
    /// as stored when contiguous, read in place when it is the transposed view of a contiguous [in, out] weight (a layer
    /// stored that way, <see cref="Kiln.NN.ITransposedLinear"/>: copying it cost a weight's worth of memory traffic per
    /// call; <paramref name="storedInOut"/> says so), else a contiguous copy.
    /// </summary>
    static Tensor InPlace(Tensor weight, out long rs, out long cs, out bool storedInOut)
    {
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        storedInOut = !weight.IsContiguous && weight.Stride(0) == 1 && weight.Stride(1) == outFeatures;
        if (storedInOut)
        {
            rs = 1;
            cs = outFeatures;
            return weight.T.Contiguous();
        }
        rs = inFeatures;
        cs = 1;
        return weight.Contiguous();
    }

    /// <summary>
    /// Gradients of y = x·Wᵀ + b (input of any rank): the input's (when asked), the weight's (dYᵀ·x) and the bias's
    /// (column sums of dY). With <paramref name="output"/> they are those of y = relu(x·Wᵀ + b) · scale-or-0 read from the
    /// layer's output: the pre-activation's gradient is <paramref name="grad"/> where the output is positive (times
    /// <paramref name="scale"/>), else 0 — applied while the gradient GEMMs pack it and inside the bias's column sum.
    /// </summary>
    public static (Tensor? Input, Tensor Weight, Tensor? Bias) Backward(Tensor x, Tensor weight, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput)
    {
        CheckGradient(x, weight, grad, output);
        return x.Backend.LinearEpilogueBackward(x, weight, hasBias, grad, output, scale, needInput);
    }

    /// <summary>The CPU form of <see cref="Backward(Tensor, Tensor, bool, Tensor, Tensor?, float, bool)"/> (shapes and dtypes checked).</summary>
    /// <remarks>
    /// The weight's gradient only when <paramref name="needWeight"/> (a frozen base saves none). With
    /// <paramref name="lowRank"/> each term adds, from v = scale·dZ·Up: dUp = dZᵀ·u (u kept by the forward),
    /// dDown = vᵀ·x and v·Down to the input's gradient, into <see cref="LowRankTerms.Gradients"/>; a ReLU gate is then
    /// applied to dZ once (three products read it).
    /// </remarks>
    internal static (Tensor? Input, Tensor? Weight, Tensor? Bias) CpuBackward(Tensor x, Tensor weight, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput, LowRankTerms? lowRank = null, bool needWeight = true)
    {
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        using var noGrad = Autograd.NoGrad();
        using var xc = x.Contiguous();
        // A weight stored [in, out] gets its gradient in that layout (xᵀ·dZ), handed back as the [out, in] view: computed
        // [out, in], the transposed view's backward copied it across (GPT-2's training step 2–4 % slower than eager).
        using var wc = InPlace(weight, out long rsw, out long csw, out bool storedInOut);
        using var gc = grad.Contiguous();
        using var oc = output?.Contiguous();
        int rows = checked((int)(x.Numel / System.Math.Max(1, inFeatures)));
        float* g = gc.Ptr<float>(), o = oc is null ? null : oc.Ptr<float>();
        var gate = new GemmGate { Values = o, Scale = scale };
        // Low-rank terms read the gradient in two more products, and the stored-layout weight gradient reads it as B (the
        // gate filters A): gate it once instead of in every packing.
        using var gated = (lowRank is not null || storedInOut) && !gate.IsEmpty ? Tensor.Empty(gc.ShapeArray, DType.Float32) : null;
        if (gated is not null)
        {
            gate.Apply(g, gated.Ptr<float>(), gc.Numel);
            g = gated.Ptr<float>();
            o = null;
            gate = default;
            scale = 1f;
        }
        // dW = dZᵀ·x: A is dZ read transposed (rows one apart, columns outFeatures apart), the gate in the same layout.
        Tensor? dw = null;
        if (needWeight && storedInOut)
        {
            using var stored = Tensor.Empty(new[] { inFeatures, outFeatures }, DType.Float32);
            Sgemm.Multiply(inFeatures, outFeatures, rows, 1f, xc.Ptr<float>(), 1, inFeatures, g, outFeatures, 1, 0f, stored.Ptr<float>(), outFeatures);
            dw = stored.T;
        }
        else if (needWeight)
        {
            dw = Tensor.Empty(new[] { outFeatures, inFeatures }, DType.Float32);
            Sgemm.Multiply(outFeatures, inFeatures, rows, 1f, g, 1, outFeatures, xc.Ptr<float>(), inFeatures, 1, 0f, dw.Ptr<float>(), inFeatures, gate: gate);
        }
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
            Sgemm.Multiply(rows, inFeatures, outFeatures, 1f, g, outFeatures, 1, wc.Ptr<float>(), rsw, csw, 0f, dx.Ptr<float>(), inFeatures, gate: gate);
        }
        if (lowRank is not null)
            for (int i = 0; i < lowRank.Terms.Count; i++)
            {
                var term = lowRank.Terms[i];
                int r = CheckTerm(term, inFeatures, outFeatures);
                var ut = lowRank.Inner[i] ?? throw new KilnException("linear", "linear: the low-rank terms' backward ran without their forward");
                using var down = term.Down.Contiguous();
                using var up = term.Up.Contiguous();
                // Every product in its r-rows form (r rows against long runs), transposed where the result is needed the other way.
                using var vt = Tensor.Empty(new[] { r, rows }, DType.Float32);       // vᵀ = scale·Upᵀ·dZᵀ
                Sgemm.Multiply(r, rows, outFeatures, (float)term.Scale, up.Ptr<float>(), 1, r, g, 1, outFeatures, 0f, vt.Ptr<float>(), rows);
                using var dUpT = Tensor.Empty(new[] { r, outFeatures }, DType.Float32);   // dUpᵀ = uᵀ·dZ
                Sgemm.Multiply(r, outFeatures, rows, 1f, ut.Ptr<float>(), rows, 1, g, outFeatures, 1, 0f, dUpT.Ptr<float>(), outFeatures);
                var dUp = dUpT.T.Contiguous();
                var dDown = Tensor.Empty(new[] { r, inFeatures }, DType.Float32);    // dDown = vᵀ·x
                Sgemm.Multiply(r, inFeatures, rows, 1f, vt.Ptr<float>(), rows, 1, xc.Ptr<float>(), inFeatures, 1, 0f, dDown.Ptr<float>(), inFeatures);
                if (dx is not null)                                                  // dx += v·Down
                    Sgemm.Multiply(rows, inFeatures, r, 1f, vt.Ptr<float>(), 1, rows, down.Ptr<float>(), inFeatures, 1, 1f, dx.Ptr<float>(), inFeatures);
                lowRank.Gradients[2 * i] = dDown;
                lowRank.Gradients[2 * i + 1] = dUp;
            }
        return (dx, dw, db);
    }

    /// <summary>A term's rank, after checking its Down [r, in] and Up [out, r] against the layer (float32).</summary>
    static int CheckTerm(LowRankTerm term, int inFeatures, int outFeatures)
    {
        int r = term.Down.Dim == 2 ? term.Down.Size(0) : -1;
        if (r < 0 || term.Down.Size(1) != inFeatures || term.Up.Dim != 2 || term.Up.Size(0) != outFeatures || term.Up.Size(1) != r)
            throw new KilnException("linear", $"linear: a low-rank term's down {ShapeText.Format(term.Down.ShapeArray)} and up {ShapeText.Format(term.Up.ShapeArray)} do not fit a layer of {inFeatures} inputs and {outFeatures} outputs (expected [r, {inFeatures}] and [{outFeatures}, r])", KilnErrorKind.Shape);
        RequireFloat32(term.Down, term.Up, null);
        return r;
    }

    /// <summary>The fused kernels read float32; other dtypes get eager's mismatch error instead of misread memory.</summary>
    static void RequireFloat32(Tensor a, Tensor b, Tensor? c)
    {
        foreach (var t in new[] { a, b, c })
            if (t is not null && t.DType != DType.Float32)
                throw new KilnException("linear", $"linear: expected float32 operands for the compiled kernel, but got {a.DType.Name()}, {b.DType.Name()}{(c is null ? "" : ", " + c.DType.Name())}", KilnErrorKind.DType);
    }
}
