using System;
using System.Collections.Generic;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Ops.Pointwise;
using Kiln.Compiler.Shapes;

namespace Kiln.Compiler.Autodiff
{
    /// <summary>
    /// The derivative of every differentiable op, each written once in terms of other ops (PyTorch's
    /// derivatives.yaml, as C#). Generic over <see cref="IGradAlgebra{T}"/>: the eager engine runs these
    /// rules on tensors, and the kernel compiler will run the same rules on its graph.
    /// </summary>
    public static class Derivatives
    {
        /// <summary>Ops whose result is just another view or copy of the input's values.</summary>
        static readonly HashSet<string> Reshapes = new HashSet<string> { "view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze" };

        /// <summary>True when <paramref name="op"/> has a derivative rule here.</summary>
        public static bool IsDifferentiable(string op) =>
            Reshapes.Contains(op) || Known.Contains(op) || UnaryOps.Find(op) is not null || BinaryOps.Find(op) is not null;

        // The ops with a rule below (pointwise ops have theirs in their declarations, UnaryOps and BinaryOps).
        static readonly HashSet<string> Known = new HashSet<string>
        {
            "pow_scalar", "softplus", "clamp", "where", "to", "alias",
            "contiguous", "clone", "copy", "sum", "mean", "prod", "var", "std", "norm", "logsumexp", "max", "min", "max_dim",
            "min_dim", "softmax", "log_softmax", "cumsum", "matmul", "bmm", "addmm", "permute", "transpose", "expand", "narrow",
            "slice", "select", "cat", "index_select", "gather", "scatter", "scatter_add", "tril", "triu", "pad_slice",
            "im2col", "col2im", "sdpa", "lstm_layer", "gru_layer", "layer_norm", "rms_norm", "batch_norm", "conv2d", "max_pool2d", "rope",
            "mse_loss",
        };

        /// <summary>
        /// Gradients of the inputs of <paramref name="op"/> given the gradient of its output; null where an
        /// input gets none (indices, masks, inputs that do not need one).
        /// </summary>
        public static T?[] Backward<T>(string op, IGradAlgebra<T> g, IGradContext<T> c, T grad) where T : class
        {
            var r = new T?[c.InputCount];
            var a = c.Args;
            bool n0 = c.NeedsGrad(0), n1 = c.InputCount > 1 && c.NeedsGrad(1);
            if (Reshapes.Contains(op)) { r[0] = g.Reshape(grad, c.InputShape(0)); return r; }
            // One-input pointwise ops: their declaration holds the rule (gelu's mode picks its tanh form).
            if (UnaryOps.Find(op == "gelu" && a is GeluArgs { Approximate: "tanh" } ? "gelu_tanh" : op) is { } unary)
            {
                // Only what the rule reads is fetched: an in-place op may have overwritten the other.
                T x = unary.BackwardReadsInput ? c.Input(0) : null!, y = unary.BackwardReadsOutput ? c.Output : null!;
                r[0] = g.FusedUnaryBackward(unary.Name, x, y, grad) ?? unary.Backward(g, x, y, grad);
                return r;
            }
            // Two-input pointwise ops: the declaration's gradients, reduced to each input's (broadcast) shape.
            if (BinaryOps.Find(op) is { } binary)
            {
                // Both in one fused pass where the algebra has one and no input was broadcast (nothing to reduce).
                if ((!n0 || ShapeRules.SameShape(c.InputShape(0), g.Shape(grad))) && (!n1 || ShapeRules.SameShape(c.InputShape(1), g.Shape(grad))))
                {
                    var (ra, rb) = (n0 ? binary.Reads(0) : default, n1 ? binary.Reads(1) : default);
                    T? fa = ra.A || rb.A ? c.Input(0) : null, fb = ra.B || rb.B ? c.Input(1) : null, fy = ra.Y || rb.Y ? c.Output : null;
                    if (g.FusedBinaryBackward(binary.Name, fa, fb, fy, grad, n0, n1) is { } both) return both;
                }
                for (int i = 0; i < 2; i++)
                {
                    if (!c.NeedsGrad(i)) continue;
                    var (readsA, readsB, readsY) = binary.Reads(i);
                    T x0 = readsA ? c.Input(0) : null!, x1 = readsB ? c.Input(1) : null!, y = readsY ? c.Output : null!;
                    r[i] = g.SumTo(i == 0 ? binary.GradA(g, x0, x1, y, grad) : binary.GradB(g, x0, x1, y, grad), c.InputShape(i));
                }
                return r;
            }
            switch (op)
            {
                case "pow_scalar":
                {
                    double e = OpArgs.Of<PowScalarArgs>(op, a).Exponent;
                    r[0] = e == 0 ? g.ZerosLike(grad) : g.Mul(grad, g.Scale(g.PowScalar(c.Input(0), e - 1), e));
                    break;
                }
                case "softplus":
                {
                    var (beta, threshold) = OpArgs.Of<SoftplusArgs>(op, a);
                    T bx = g.Scale(c.Input(0), beta), s = g.Sigmoid(bx), linear = g.GreaterMask(bx, threshold);
                    r[0] = g.Mul(grad, g.Add(s, g.Mul(linear, g.AddScalar(g.Neg(s), 1))));
                    break;
                }
                case "clamp":
                {
                    var (min, max) = OpArgs.Of<ClampArgs>(op, a);
                    r[0] = g.Mul(grad, g.InRangeMask(c.Input(0), min, max));
                    break;
                }
                case "where":
                {
                    T cond = c.Input(0), zero = g.ZerosLike(grad);
                    if (n1) r[1] = g.SumTo(g.Where(cond, grad, zero), c.InputShape(1));
                    if (c.NeedsGrad(2)) r[2] = g.SumTo(g.Where(cond, zero, grad), c.InputShape(2));
                    break;
                }
                case "rope":
                {
                    // y = x·cos + R(x)·sin with R([x1, x2]) = [-x2, x1] over the last dim's halves; R's transpose is
                    // [b1, b2] → [b2, -b1], so dx = g·cos + Rᵀ(g·sin) = g·cos + R(g)·[-s2, -s1]: a rope of g with the sin
                    // table's halves swapped and negated (one fused pass; the same products and sums, so the same bits).
                    int last = c.InputShape(0).Length - 1, half = c.InputShape(0)[last] / 2;
                    if (n0)
                    {
                        T sin = c.Input(2);
                        int[] ss = c.InputShape(2);
                        int sl = ss.Length - 1;
                        // A table broadcast along the last dim (or a scalar) holds one value for both halves.
                        T flipped = sl < 0 || ss[sl] == 1 ? g.Neg(sin) : g.Cat(new[] { g.Neg(g.Narrow(sin, sl, half, half)), g.Neg(g.Narrow(sin, sl, 0, half)) }, sl);
                        r[0] = g.Rope(grad, c.Input(1), flipped);
                    }
                    if (n1) r[1] = g.SumTo(g.Mul(grad, c.Input(0)), c.InputShape(1));
                    if (c.NeedsGrad(2))
                    {
                        T x = c.Input(0);
                        r[2] = g.SumTo(g.Mul(grad, g.Cat(new[] { g.Neg(g.Narrow(x, last, half, half)), g.Narrow(x, last, 0, half) }, last)), c.InputShape(2));
                    }
                    break;
                }
                case "to": r[0] = g.CastLike(grad, c.Input(0)); break;
                case "alias":
                case "contiguous":
                case "clone": r[0] = grad; break;
                case "copy": r[0] = g.CastLike(g.SumTo(grad, c.InputShape(0)), c.Input(0)); break;
                case "sum": r[0] = Unreduce(g, grad, c.InputShape(0), OpArgs.Of<ReduceArgs>(op, a)); break;
                case "mean":
                {
                    var shape = c.InputShape(0);
                    var ra = OpArgs.Of<ReduceArgs>(op, a);
                    r[0] = g.Scale(Unreduce(g, grad, shape, ra), 1.0 / Count(shape, ra.Dims));
                    break;
                }
                case "prod":
                {
                    // d prod / d x_i = prod / x_i (inputs with zeros are not special-cased).
                    var shape = c.InputShape(0);
                    var ra = OpArgs.Of<ReduceArgs>(op, a);
                    r[0] = g.Div(g.Mul(Unreduce(g, grad, shape, ra), Unreduce(g, c.Output, shape, ra)), c.Input(0));
                    break;
                }
                case "var":
                case "std":
                {
                    var shape = c.InputShape(0);
                    var ma = OpArgs.Of<MomentArgs>(op, a);
                    T x = c.Input(0);
                    int[] dims = ReducedDims(ma, shape.Length);
                    T centered = g.Sub(x, g.Scale(g.Sum(x, dims, true), 1.0 / Count(shape, ma.Dims)));
                    double denom = Count(shape, ma.Dims) - ma.Correction;
                    T gu = Unreduce(g, grad, shape, ma);
                    r[0] = op == "var"
                        ? g.Mul(gu, g.Scale(centered, 2 / denom))
                        : g.Div(g.Mul(gu, g.Scale(centered, 1 / denom)), Unreduce(g, c.Output, shape, ma));
                    break;
                }
                case "norm":
                {
                    var shape = c.InputShape(0);
                    var na = OpArgs.Of<NormArgs>(op, a);
                    double p = na.P;
                    T x = c.Input(0), gu = Unreduce(g, grad, shape, na), nu = Unreduce(g, c.Output, shape, na);
                    if (p == 0) r[0] = g.ZerosLike(x); // a count of non-zeros: flat almost everywhere
                    else if (p == 1) r[0] = g.Mul(gu, g.Sign(x));
                    // A zero norm (a zero row) divides by 1 instead: every x there is 0, so its gradient is 0, as PyTorch's
                    // masked rule gives (F.normalize and cosine_similarity meet such rows).
                    else if (p == 2) r[0] = g.Div(g.Mul(gu, x), g.Add(nu, g.EqualMask(nu, g.ZerosLike(nu))));
                    else if (double.IsInfinity(p))
                    {
                        T hit = g.EqualMask(g.Abs(x), nu);
                        T ties = Unreduce(g, g.Sum(hit, ReducedDims(na, shape.Length), na.KeepDim), shape, na);
                        r[0] = g.Div(g.Mul(gu, g.Mul(g.Sign(x), hit)), ties);
                    }
                    else
                    {
                        // sign(x)·|x|^(p-1), with |x| read as 1 where x is 0 (below p = 1 its power is infinite there, and
                        // 0·inf is NaN): 0 at x = 0, as PyTorch's masked rule; a zero norm divides by 1, as above.
                        T scaled = g.Mul(g.Sign(x), g.PowScalar(g.Add(g.Abs(x), g.EqualMask(x, g.ZerosLike(x))), p - 1));
                        T denominator = g.PowScalar(nu, p - 1);
                        r[0] = g.Div(g.Mul(gu, scaled), g.Add(denominator, g.EqualMask(nu, g.ZerosLike(nu))));
                    }
                    break;
                }
                case "logsumexp":
                {
                    var shape = c.InputShape(0);
                    var ra = OpArgs.Of<ReduceArgs>(op, a);
                    r[0] = g.Mul(Unreduce(g, grad, shape, ra), g.Exp(g.Sub(c.Input(0), Unreduce(g, c.Output, shape, ra))));
                    break;
                }
                case "max":
                case "min":
                {
                    // Full reduction: ties share the gradient evenly.
                    T hit = g.EqualMask(c.Input(0), c.Output);
                    var all = AllDims(c.InputShape(0).Length);
                    r[0] = g.Div(g.Mul(grad, hit), g.Sum(hit, all, false));
                    break;
                }
                case "max_dim":
                case "min_dim":
                {
                    // Along a dim: the gradient goes to the selected index (input 1 holds the indices).
                    var shape = c.InputShape(0);
                    var da = OpArgs.Of<DimReduceArgs>(op, a);
                    int d = ShapeRules.NormalizeDim(op, da.Dim, shape.Length);
                    T idx = c.Input(1), gr = grad;
                    if (!da.KeepDim) { idx = g.Unsqueeze(idx, d); gr = g.Unsqueeze(gr, d); }
                    r[0] = g.ScatterAddInto(shape, grad, d, idx, gr);
                    break;
                }
                case "softmax":
                {
                    int d = OpArgs.Of<DimArgs>(op, a).Dim;
                    T y = c.Output;
                    if (g.FusedSoftmaxBackward(grad, y, d, false) is { } fused) { r[0] = fused; break; }
                    T gy = g.Mul(grad, y);
                    r[0] = g.Sub(gy, g.Mul(y, g.Sum(gy, new[] { d }, true)));
                    break;
                }
                case "log_softmax":
                {
                    int d = OpArgs.Of<DimArgs>(op, a).Dim;
                    r[0] = g.FusedSoftmaxBackward(grad, c.Output, d, true) ?? g.Sub(grad, g.Mul(g.Exp(c.Output), g.Sum(grad, new[] { d }, true)));
                    break;
                }
                case "cumsum":
                {
                    int d = OpArgs.Of<DimArgs>(op, a).Dim;
                    r[0] = g.Flip(g.CumSum(g.Flip(grad, d), d), d);
                    break;
                }
                case "matmul":
                case "bmm":
                    MatmulBackward(g, c, grad, r, 1.0);
                    break;
                case "addmm":
                {
                    var (beta, alpha) = OpArgs.Of<AddmmArgs>(op, a);
                    if (n0) r[0] = g.SumTo(Scaled(g, grad, beta), c.InputShape(0));
                    T m1 = c.Input(1), m2 = c.Input(2);
                    if (n1) r[1] = Scaled(g, g.Matmul(grad, g.Transpose(m2, 0, 1)), alpha);
                    if (c.NeedsGrad(2)) r[2] = SecondOperandGrad(g, m1, m2, grad, alpha);
                    break;
                }
                case "permute":
                {
                    var dims = OpArgs.Of<PermuteArgs>(op, a).Dims;
                    int rank = dims.Count;
                    var inverse = new int[rank];
                    for (int i = 0; i < rank; i++) inverse[ShapeRules.NormalizeDim(op, dims[i], rank)] = i;
                    r[0] = g.Permute(grad, inverse);
                    break;
                }
                case "transpose":
                {
                    var (d0, d1) = OpArgs.Of<TransposeArgs>(op, a);
                    r[0] = g.Transpose(grad, d0, d1);
                    break;
                }
                case "expand": r[0] = g.SumTo(grad, c.InputShape(0)); break;
                case "narrow":
                {
                    var na = OpArgs.Of<NarrowArgs>(op, a);
                    r[0] = g.PadSlice(grad, c.InputShape(0), na.Dim, (int)na.Start, 1);
                    break;
                }
                case "slice":
                {
                    var sa = OpArgs.Of<SliceArgs>(op, a);
                    r[0] = g.PadSlice(grad, c.InputShape(0), sa.Dim, (int)sa.Start, sa.Step);
                    break;
                }
                case "select":
                {
                    var sa = OpArgs.Of<SelectArgs>(op, a);
                    r[0] = g.PadSlice(g.Unsqueeze(grad, sa.Dim), c.InputShape(0), sa.Dim, (int)sa.Index, 1);
                    break;
                }
                case "pad_slice":
                {
                    var sa = OpArgs.Of<SliceArgs>(op, a);
                    int d = ShapeRules.NormalizeDim(op, sa.Dim, c.InputShape(0).Length);
                    r[0] = g.SliceStep(grad, d, (int)sa.Start, sa.Step, c.InputShape(0)[d]);
                    break;
                }
                case "cat":
                {
                    int offset = 0;
                    var outShape = g.Shape(grad);
                    int d = ShapeRules.NormalizeDim(op, OpArgs.Of<DimArgs>(op, a).Dim, outShape.Length);
                    for (int i = 0; i < c.InputCount; i++)
                    {
                        var s = c.InputShape(i);
                        if (s.Length == 1 && s[0] == 0 && outShape.Length != 1) continue; // skipped legacy empty input
                        if (c.NeedsGrad(i)) r[i] = g.Narrow(grad, d, offset, s[d]);
                        offset += s[d];
                    }
                    break;
                }
                case "index_select": r[0] = g.IndexAddInto(c.InputShape(0), grad, OpArgs.Of<DimArgs>(op, a).Dim, c.Input(1), grad); break;
                case "gather": r[0] = g.ScatterAddInto(c.InputShape(0), grad, OpArgs.Of<DimArgs>(op, a).Dim, c.Input(1), grad); break;
                case "scatter":
                {
                    int d = OpArgs.Of<DimArgs>(op, a).Dim;
                    if (n0) r[0] = g.ScatterZero(grad, d, c.Input(1));
                    if (c.NeedsGrad(2)) r[2] = GrowTo(g, g.Gather(grad, d, c.Input(1)), c.InputShape(2));
                    break;
                }
                case "scatter_add":
                    if (n0) r[0] = grad;
                    if (c.NeedsGrad(2)) r[2] = GrowTo(g, g.Gather(grad, OpArgs.Of<DimArgs>(op, a).Dim, c.Input(1)), c.InputShape(2));
                    break;
                case "im2col":
                {
                    // unfold and fold are adjoint: each one's backward is the other.
                    var x = c.InputShape(0);
                    r[0] = g.Col2Im(grad, x[2], x[3], OpArgs.Of<Im2ColArgs>(op, a).Geometry);
                    break;
                }
                case "col2im": r[0] = g.Im2Col(grad, OpArgs.Of<Col2ImArgs>(op, a).Geometry); break;
                case "sdpa":
                {
                    // Inputs: q, k, v, the forward's log-sum-exp, then the additive mask if any (neither gets a gradient).
                    var aa = OpArgs.Of<AttentionArgs>(op, a);
                    var gs = g.AttentionBackward(c.Input(0), c.Input(1), c.Input(2), c.Input(3), c.InputCount > 4 ? c.Input(4) : null,
                        c.Output, grad, aa.Scale, aa.Causal);
                    for (int i = 0; i < 3; i++) if (c.NeedsGrad(i)) r[i] = gs[i];
                    break;
                }
                case "lstm_layer":
                {
                    // Inputs: proj, h0, c0, W_hh, W_hr (null without a projection), the activated gates and the sequence
                    // lengths when given (neither gets a gradient).
                    bool hasProjection = c.InputShape(4).Length > 0;
                    var gs = g.LstmLayerBackward(c.Input(1), c.Input(2), c.Input(3), hasProjection ? c.Input(4) : null, c.Input(5), c.Output, grad,
                        OpArgs.Of<LstmArgs>(op, a).Reverse, c.InputCount > 6 ? c.Input(6) : default);
                    for (int i = 0; i < 5; i++) if (c.NeedsGrad(i)) r[i] = gs[i];
                    break;
                }
                case "conv2d":
                {
                    var ca = OpArgs.Of<ConvArgs>(op, a);
                    var gs = g.Conv2dBackward(c.Input(0), c.Input(1), ca.HasBias, grad, ca.Geometry, ca.Groups,
                        c.NeedsGrad(0), c.NeedsGrad(1), c.InputCount > 2 && c.NeedsGrad(2));
                    for (int i = 0; i < 3; i++) if (c.NeedsGrad(i)) r[i] = gs[i];
                    break;
                }
                case "max_pool2d":
                    // Input 1 holds where each maximum came from (no gradient).
                    r[0] = g.MaxPool2dBackward(grad, c.Input(1), c.InputShape(0));
                    break;
                case "gru_layer":
                {
                    // Inputs: proj, h0, W_hh, b_hh (null without bias), the saved gates and the lengths when given (no gradients).
                    var ga = OpArgs.Of<GruArgs>(op, a);
                    var gs = g.GruLayerBackward(c.Input(1), c.Input(2), ga.HasBias, c.Input(4), c.Output, grad, ga.Reverse, c.InputCount > 5 ? c.Input(5) : default);
                    for (int i = 0; i < 4; i++) if (c.NeedsGrad(i)) r[i] = gs[i];
                    break;
                }
                case "layer_norm":
                {
                    // Inputs: x, weight, bias (absent ones are null; the arguments say which exist), row means, row 1/σ.
                    var la = OpArgs.Of<NormalizationArgs>(op, a);
                    var gs = g.LayerNormBackward(c.Input(0), la.HasWeight ? c.Input(1) : null, la.HasBias, c.Input(3), c.Input(4), grad, la.Size);
                    for (int i = 0; i < 3; i++) if (c.NeedsGrad(i)) r[i] = gs[i];
                    break;
                }
                case "rms_norm":
                {
                    // Inputs: x, weight (null when absent), no bias, no mean, row 1/rms.
                    var ra = OpArgs.Of<NormalizationArgs>(op, a);
                    var gs = g.RmsNormBackward(c.Input(0), ra.HasWeight ? c.Input(1) : null, c.Input(4), grad, ra.Size, ra.Eps);
                    for (int i = 0; i < 2; i++) if (c.NeedsGrad(i)) r[i] = gs[i];
                    break;
                }
                case "batch_norm":
                {
                    // Inputs: x, weight, bias (absent ones are null), per-channel mean, per-channel 1/σ.
                    var ba = OpArgs.Of<BatchNormArgs>(op, a);
                    var gs = g.BatchNormBackward(c.Input(0), ba.HasWeight ? c.Input(1) : null, ba.HasBias, c.Input(3), c.Input(4), grad, ba.BatchStatistics, ba.Eps);
                    for (int i = 0; i < 3; i++) if (c.NeedsGrad(i)) r[i] = gs[i];
                    break;
                }
                case "mse_loss":
                {
                    // Σ (x - t)² (÷ N for the mean): the input's gradient 2·(x - t)·grad (÷ N), the target's its negation.
                    long count = ShapeRules.Numel(c.InputShape(0));
                    double scale = OpArgs.Of<MseLossArgs>(op, a).Mean ? 2.0 / count : 2.0;
                    var dx = g.Mul(g.Sub(c.Input(0), c.Input(1)), g.Scale(grad, scale));
                    if (n0) r[0] = dx;
                    if (n1) r[1] = g.Neg(dx);
                    break;
                }
                case "tril": r[0] = g.Tril(grad, OpArgs.Of<DiagonalArgs>(op, a).Diagonal); break;
                case "triu": r[0] = g.Triu(grad, OpArgs.Of<DiagonalArgs>(op, a).Diagonal); break;
                default:
                    throw new KilnException(op, $"{op}: the derivative for '{op}' is not implemented", KilnErrorKind.Unsupported);
            }
            return r;
        }

        /// <summary>
        /// alpha·aᵀ·grad, the gradient of a 2-D product's second operand b, laid out as b is: a b stored transposed (a
        /// Linear's Wᵀ) gets (alpha·gradᵀ·a)ᵀ, so the transpose that made b hands its input a row-major gradient — a
        /// weight's gradient then needs no transposed copy when it reaches the weight (PyTorch's mm backward does the same).
        /// </summary>
        static T SecondOperandGrad<T>(IGradAlgebra<T> g, T a, T b, T grad, double alpha) where T : class =>
            g.IsTransposedInMemory(b)
                ? g.Transpose(Scaled(g, g.Matmul(g.Transpose(grad, 0, 1), a), alpha), 0, 1)
                : Scaled(g, g.Matmul(g.Transpose(a, 0, 1), grad), alpha);

        /// <summary>x·s, or x itself for s = 1 (no pass over it).</summary>
        static T Scaled<T>(IGradAlgebra<T> g, T x, double s) where T : class => s == 1 ? x : g.Scale(x, s);

        /// <summary>matmul's backward for every torch.matmul form (1-D operands gain and lose a dim).</summary>
        static void MatmulBackward<T>(IGradAlgebra<T> g, IGradContext<T> c, T grad, T?[] r, double scale) where T : class
        {
            var sa = c.InputShape(0);
            var sb = c.InputShape(1);
            T x = c.Input(0), y = c.Input(1);
            if (sa.Length == 1 && sb.Length == 1)
            {
                if (c.NeedsGrad(0)) r[0] = g.Mul(grad, y);
                if (c.NeedsGrad(1)) r[1] = g.Mul(grad, x);
                return;
            }
            T a2 = sa.Length == 1 ? g.Unsqueeze(x, 0) : x;
            T b2 = sb.Length == 1 ? g.Unsqueeze(y, 1) : y;
            T g2 = grad;
            if (sa.Length == 1) g2 = g.Unsqueeze(g2, g.Shape(g2).Length - 1);
            if (sb.Length == 1) g2 = g.Unsqueeze(g2, g.Shape(g2).Length);
            var sa2 = g.Shape(a2);
            var sb2 = g.Shape(b2);
            if (c.NeedsGrad(0))
            {
                T ga = g.SumTo(g.Matmul(g2, g.Transpose(b2, -1, -2)), sa2);
                r[0] = g.Reshape(ga, sa);
            }
            if (c.NeedsGrad(1))
            {
                T gb = sa2.Length == 2 && sb2.Length == 2 ? SecondOperandGrad(g, a2, b2, g2, 1.0) : g.SumTo(g.Matmul(g.Transpose(a2, -1, -2), g2), sb2);
                r[1] = g.Reshape(gb, sb);
            }
        }

        /// <summary>Brings a reduced gradient back to the input's shape (re-inserting dropped dims, then expanding).</summary>
        static T Unreduce<T>(IGradAlgebra<T> g, T grad, int[] shape, ReduceArgs args) where T : class
        {
            if (!args.KeepDim)
            {
                var ds = ReducedDims(args, shape.Length);
                for (int i = 0; i < ds.Length; i++) ds[i] = ShapeRules.NormalizeDim("backward", ds[i], shape.Length);
                Array.Sort(ds);
                foreach (int d in ds) if (shape.Length > 0) grad = g.Unsqueeze(grad, d);
            }
            return g.Expand(grad, shape);
        }

        /// <summary>The dims a reduction covers, as a fresh array (all of them when it names none).</summary>
        static int[] ReducedDims(ReduceArgs args, int rank) => args.Dims != null && args.Dims.Count > 0 ? ToArray(args.Dims) : AllDims(rank);

        static double Count(int[] shape, IReadOnlyList<int>? dims)
        {
            if (dims == null || dims.Count == 0) return ShapeRules.Numel(shape);
            double n = 1;
            foreach (int d in dims) n *= shape[ShapeRules.NormalizeDim("backward", d, shape.Length)];
            return n;
        }

        /// <summary>
        /// <paramref name="a"/> zero-padded at the end of each dim to <paramref name="shape"/>: scatter reads only the leading
        /// block of a src larger than its index, so the rest of src gets a zero gradient.
        /// </summary>
        static T GrowTo<T>(IGradAlgebra<T> g, T a, int[] shape) where T : class
        {
            var current = g.Shape(a);
            for (int i = 0; i < current.Length && i < shape.Length; i++)
            {
                if (current[i] == shape[i]) continue;
                var grown = (int[])g.Shape(a).Clone();
                grown[i] = shape[i];
                a = g.PadSlice(a, grown, i, 0, 1);
            }
            return a;
        }

        static int[] AllDims(int rank)
        {
            var r = new int[rank];
            for (int i = 0; i < rank; i++) r[i] = i;
            return r;
        }

        static int[] ToArray(IReadOnlyList<int> l)
        {
            var r = new int[l.Count];
            for (int i = 0; i < r.Length; i++) r[i] = l[i];
            return r;
        }
    }
}
