using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Kiln.Compiler.Emit
{
    /// <summary>One step of a dense chain: a Linear layer, an elementwise activation, or dropout.</summary>
    public sealed class ChainStep : System.IEquatable<ChainStep>
    {
        ChainStep(string kind, string? member, string? op, string? probability, string? training)
        {
            Kind = kind; Member = member; Op = op; Probability = probability; Training = training;
        }

        /// <summary>"linear", "conv2d", "maxpool2d", "flatten", "activation" or "dropout".</summary>
        public string Kind { get; }
        /// <summary>The Linear layer as a C# expression over the model <c>m</c> (e.g. <c>m.layer1</c>).</summary>
        public string? Member { get; }
        /// <summary>The activation (<see cref="ScalarCode.Activations"/>), or Flatten's start dim.</summary>
        public string? Op { get; }
        /// <summary>Dropout's probability and training flag, as C# expressions over the model (<c>m.dropout.P</c>, <c>m.Training</c>).</summary>
        public string? Probability { get; }
        /// <summary>See <see cref="Probability"/>.</summary>
        public string? Training { get; }

        /// <summary>A Linear layer reached by <paramref name="member"/>, an expression over the model <c>m</c>.</summary>
        public static ChainStep Linear(string member) => new ChainStep("linear", member, null, null, null);
        /// <summary>A Conv2d layer reached by <paramref name="member"/>.</summary>
        public static ChainStep Conv2d(string member) => new ChainStep("conv2d", member, null, null, null);
        /// <summary>A MaxPool2d layer reached by <paramref name="member"/>.</summary>
        public static ChainStep MaxPool2d(string member) => new ChainStep("maxpool2d", member, null, null, null);
        /// <summary>Flatten from <paramref name="startDim"/> to the last dim.</summary>
        public static ChainStep Flatten(int startDim) => new ChainStep("flatten", null, startDim.ToString(System.Globalization.CultureInfo.InvariantCulture), null, null);
        /// <summary>An elementwise activation.</summary>
        public static ChainStep Activation(string op) => new ChainStep("activation", null, op, null, null);
        /// <summary>Dropout with its probability and training flag as expressions over the model <c>m</c>.</summary>
        public static ChainStep Dropout(string probability, string training) => new ChainStep("dropout", null, null, probability, training);

        /// <inheritdoc/>
        public bool Equals(ChainStep? o) => o is not null && o.Kind == Kind && o.Member == Member && o.Op == Op && o.Probability == Probability && o.Training == Training;
        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as ChainStep);
        /// <inheritdoc/>
        public override int GetHashCode() => (Kind + "|" + Member + "|" + Op + "|" + Probability + "|" + Training).GetHashCode();
    }

    /// <summary>
    /// Plans and writes the compiled form of a sequential chain from one float input: producers (Linear as the tensor
    /// core's GEMM with its bias, Conv2d and MaxPool2d as the eager kernels without recording, Flatten as a view), each
    /// followed by a run of elementwise steps fused into one generated loop. Forward keeps only what backward reads (the
    /// producers' inputs, the pre-activations, the pools' argmax); backward recomputes the activations, regenerates
    /// dropout's mask from its counter-based draw and applies the registry's derivative rules (through
    /// <see cref="ScalarCode"/>). The whole forward is one autograd node (<c>Autograd.Function</c>).
    /// </summary>
    public static class DenseChainEmitter
    {
        static bool IsElementwise(ChainStep s) => s.Kind == "activation" || s.Kind == "dropout";

        /// <summary>Fusion groups: an optional producer followed by the elementwise steps up to the next producer.</summary>
        public static List<(ChainStep? Producer, List<ChainStep> Elementwise)> Plan(IReadOnlyList<ChainStep> steps)
        {
            var groups = new List<(ChainStep? Producer, List<ChainStep> Elementwise)>();
            foreach (var s in steps)
            {
                if (!IsElementwise(s) || groups.Count == 0) groups.Add((IsElementwise(s) ? null : s, new List<ChainStep>()));
                if (IsElementwise(s)) groups[groups.Count - 1].Elementwise.Add(s);
            }
            return groups;
        }

        static bool Weighted(ChainStep? p) => p is { Kind: "linear" } || p is { Kind: "conv2d" };

        /// <summary>The members to add to the model's partial class: <c>Compile()</c> and the nested <c>Compiled</c> class.</summary>
        public static string Emit(string modelName, string nodeName, IReadOnlyList<ChainStep> steps, string indent)
        {
            var plan = Plan(steps);
            var sb = new StringBuilder();
            void L(int depth, string text) => sb.Append(indent).Append(' ', depth * 4).AppendLine(text);
            const string T = "global::Kiln.Tensor", Ops = "global::Kiln.Compilation.CompiledOps";
            var first = plan.Select(g => g.Producer).FirstOrDefault(p => p is not null && p.Kind != "flatten");
            int rank = first is null ? 0 : first.Kind == "linear" ? 2 : 4;
            L(0, "/// <summary>The model with its generated fused kernels (<c>torch.compile</c>); parameters and modes are shared with this instance.</summary>");
            L(0, "public Compiled Compile(global::Kiln.Compilation.CompileMode mode = global::Kiln.Compilation.CompileMode.Default) => new Compiled(this, mode);");
            L(0, "");
            L(0, "/// <summary>" + modelName + " run by its generated kernels: " + Describe(plan) + ".</summary>");
            L(0, "public sealed class Compiled");
            L(0, "{");
            L(1, "readonly " + modelName + " _model;");
            L(1, "internal Compiled(" + modelName + " model, global::Kiln.Compilation.CompileMode mode) { _model = model; Mode = mode; }");
            L(1, "/// <summary>The eager model whose parameters this one uses.</summary>");
            L(1, "public " + modelName + " Model => _model;");
            L(1, "/// <summary>The compile mode.</summary>");
            L(1, "public global::Kiln.Compilation.CompileMode Mode { get; }");
            L(1, "");
            L(1, $"/// <summary>The model's Forward, compiled; an input that is not a {(rank == 0 ? "" : rank + "-D ")}float32 tensor runs the eager Forward.</summary>");
            L(1, $"public {T} Forward({T} x)");
            L(1, "{");
            L(2, "var m = _model;");
            var guard = new List<string> { "x.DType != global::Kiln.DType.Float32" };
            if (rank > 0) guard.Add($"x.Dim != {rank}");
            foreach (var g in plan)
                if (g.Producer is { Kind: "conv2d" } c) guard.Add($"!{Ops}.Fusable({c.Member})");
            L(2, $"if ({string.Join(" || ", guard)}) return m.Forward(x);");
            // Parameters, in the order the node lists its inputs.
            var inputs = new List<string> { "x" };
            for (int k = 0; k < plan.Count; k++)
            {
                if (!Weighted(plan[k].Producer)) continue;
                L(2, $"var w{k} = {plan[k].Producer!.Member}.Weight;");
                L(2, $"var b{k} = {plan[k].Producer!.Member}.Bias;");
                inputs.Add($"w{k}");
                inputs.Add($"b{k}");
            }
            // Dropout decisions are taken now, in forward order (the generator stream is used as eager dropout uses it).
            for (int k = 0; k < plan.Count; k++)
                for (int j = 0; j < plan[k].Elementwise.Count; j++)
                    if (plan[k].Elementwise[j] is { Kind: "dropout" } d)
                        L(2, $"double p{k}_{j} = {d.Probability}; bool drop{k}_{j} = ({d.Training}) && p{k}_{j} > 0; global::Kiln.Compilation.DropoutDraw draw{k}_{j} = default;");
            for (int k = 0; k < plan.Count; k++)
                L(2, $"{T}? in{k} = null, z{k} = null, idx{k} = null; global::System.Collections.Generic.IReadOnlyList<int>? shape{k} = null;");
            L(2, "bool needX = x.RequiresGrad;");
            L(2, $"return global::Kiln.Autograd.Function(\"{nodeName}\", new {T}?[] {{ {string.Join(", ", inputs)} }}, forward: ctx =>");
            L(2, "{");
            L(3, $"{T} h = x.Contiguous();");
            for (int k = 0; k < plan.Count; k++)
            {
                var (producer, run) = plan[k];
                // What the backward reads is saved (pinned): a Tensor.Scope ending before Backward does not free it.
                string z;
                switch (producer?.Kind)
                {
                    case "linear":
                        L(3, $"in{k} = ctx.Save(h);");
                        z = $"global::Kiln.NN.F.Linear(h, w{k}, b{k})";
                        break;
                    case "conv2d":
                        L(3, $"in{k} = ctx.Save(h);");
                        z = $"{producer.Member}.Forward(h)";
                        break;
                    case "maxpool2d":
                        L(3, $"shape{k} = h.Shape;");
                        L(3, $"var pooled{k} = {producer.Member}.ForwardWithIndices(h);");
                        L(3, $"idx{k} = ctx.Save(pooled{k}.Indices);");
                        z = $"pooled{k}.Values";
                        break;
                    case "flatten":
                        L(3, $"shape{k} = h.Shape;");
                        z = $"h.Flatten({producer.Op})";
                        break;
                    default:
                        z = "h";
                        break;
                }
                L(3, run.Count > 0 ? $"z{k} = ctx.Save({z});" : $"z{k} = {z};");
                if (run.Count == 0) { L(3, $"h = z{k};"); continue; }
                L(3, $"h = {T}.EmptyLike(z{k});");
                L(3, "{");
                L(4, $"var zt = z{k}; var ht = h; int n = (int)zt.Numel;");
                Masks(k, run, reserve: true);
                Loop(run, "var zs = zt.AsSpan<float>(); var hs = ht.AsSpan<float>();",
                    () => L(6, $"hs[i] = v{run.Count};"), () => L(6, $"{Vec}.CopyTo(v{run.Count}, hs.Slice(i, 8));"));
                ReturnMasks(run);
                L(3, "}");
            }
            L(3, "return h;");
            L(2, "},");
            L(2, "backward: grad =>");
            L(2, "{");
            L(3, "if (global::Kiln.Autograd.IsGradEnabled) throw new global::Kiln.KilnException(\"compile\", \"" + modelName + ".Compiled: double backward (createGraph: true) is not supported by compiled kernels; differentiate the eager model\");");
            L(3, $"var grads = new {T}?[{inputs.Count}];");
            L(3, $"{T} d = grad.Contiguous();");
            int slot = inputs.Count;
            for (int k = plan.Count - 1; k >= 0; k--)
            {
                var (producer, run) = plan[k];
                // The input's gradient (and what only it needs) is skipped when the input needs none, as eager autograd does.
                if (k == 0 && producer is null) L(3, "if (!needX) return grads;");
                if (run.Count > 0)
                {
                    L(3, "{");
                    L(4, $"var dz = {T}.EmptyLike(z{k}!);");
                    L(4, $"var zt = z{k}!; var dt = d; int n = (int)zt.Numel;");
                    Masks(k, run, reserve: false);
                    // The loop recomputes the run's intermediate values (cheaper than storing them), then applies the rules in reverse.
                    Loop(run, "var zs = zt.AsSpan<float>(); var ds = dt.AsSpan<float>(); var dzs = dz.AsSpan<float>();", () =>
                    {
                        L(6, $"float g{run.Count} = ds[i];");
                        for (int j = run.Count - 1; j >= 0; j--)
                            L(6, $"float g{j} = {StepBackward(run[j], $"v{j}", $"v{j + 1}", $"g{j + 1}", j)};");
                        L(6, "dzs[i] = g0;");
                    }, () =>
                    {
                        L(6, $"var g{run.Count} = {Vec}.Create((global::System.ReadOnlySpan<float>)ds.Slice(i, 8));");
                        for (int j = run.Count - 1; j >= 0; j--)
                            L(6, $"var g{j} = {VectorStepBackward(run[j], $"v{j}", $"v{j + 1}", $"g{j + 1}", j)};");
                        L(6, $"{Vec}.CopyTo(g0, dzs.Slice(i, 8));");
                    });
                    ReturnMasks(run);
                    L(4, "d = dz;");
                    L(3, "}");
                }
                if (producer is null) continue;
                if (Weighted(producer)) slot -= 2;
                string needInput = k == 0 ? "needX" : "true";
                switch (producer.Kind)
                {
                    case "linear":
                        // y = x·Wᵀ + b: dW = dYᵀ·x, db = Σ rows of dY, dx = dY·W (the tensor core's GEMMs).
                        L(3, $"grads[{slot}] = d.T.Matmul(in{k}!);");
                        L(3, $"if (b{k} is not null) grads[{slot + 1}] = d.Sum(0);");
                        if (k == 0) L(3, "if (!needX) return grads;");
                        L(3, $"d = d.Matmul(w{k});");
                        break;
                    case "conv2d":
                        L(3, $"var conv{k} = {Ops}.Conv2dBackward({producer.Member}, in{k}!, d, {needInput});");
                        L(3, $"grads[{slot}] = conv{k}.Weight;");
                        L(3, $"grads[{slot + 1}] = conv{k}.Bias;");
                        if (k == 0) L(3, "if (!needX) return grads;");
                        L(3, $"d = conv{k}.Input!;");
                        break;
                    case "maxpool2d":
                        if (k == 0) L(3, "if (!needX) return grads;");
                        L(3, $"d = {Ops}.MaxPool2dBackward(d, idx{k}!, shape{k}!);");
                        break;
                    case "flatten":
                        if (k == 0) L(3, "if (!needX) return grads;");
                        L(3, $"d = d.Reshape(global::System.Linq.Enumerable.ToArray(shape{k}!));");
                        break;
                }
            }
            L(3, "grads[0] = d;");
            L(3, "return grads;");
            L(2, "});");
            L(1, "}");
            L(0, "}");
            return sb.ToString();

            // Dropout masks of a run: drawn in forward (reserving the generator's counters), regenerated in backward.
            void Masks(int k, List<ChainStep> run, bool reserve)
            {
                for (int j = 0; j < run.Count; j++)
                {
                    if (run[j].Kind != "dropout") continue;
                    L(4, $"float[]? mask{j} = null;");
                    string draw = reserve ? $"draw{k}_{j} = global::Kiln.Compilation.DropoutDraw.Reserve(n, p{k}_{j}); " : "";
                    L(4, $"if (drop{k}_{j}) {{ {draw}mask{j} = global::System.Buffers.ArrayPool<float>.Shared.Rent(n); draw{k}_{j}.Fill(global::System.MemoryExtensions.AsSpan(mask{j}, 0, n)); }}");
                }
            }

            void ReturnMasks(List<ChainStep> run)
            {
                for (int j = 0; j < run.Count; j++)
                    if (run[j].Kind == "dropout") L(4, $"if (mask{j} != null) global::System.Buffers.ArrayPool<float>.Shared.Return(mask{j});");
            }

            // The loop over a run's elements, split over Kiln's worker threads: v0 is the producer's output, v1.. each
            // step's value, then the body — eight lanes at a time where every step has a vector form (decided here, at
            // build time), and a scalar tail.
            void Loop(List<ChainStep> run, string spans, System.Action scalarBody, System.Action vectorBody)
            {
                L(4, "global::Kiln.Threads.For(n, 16384, (s0, s1) =>");
                L(4, "{");
                L(5, spans);
                L(5, "int i = (int)s0, end = (int)s1;");
                if (Vectorizable(run))
                {
                    L(5, "for (; i + 8 <= end; i += 8)");
                    L(5, "{");
                    L(6, $"var v0 = {Vec}.Create((global::System.ReadOnlySpan<float>)zs.Slice(i, 8));");
                    for (int j = 0; j < run.Count; j++)
                        L(6, $"var v{j + 1} = {VectorStepForward(run[j], $"v{j}", j)};");
                    vectorBody();
                    L(5, "}");
                }
                L(5, "for (; i < end; i++)");
                L(5, "{");
                L(6, "float v0 = zs[i];");
                for (int j = 0; j < run.Count; j++)
                    L(6, $"float v{j + 1} = {StepForward(run[j], $"v{j}", j)};");
                scalarBody();
                L(5, "}");
                L(4, "});");
            }
        }

        const string Vec = "global::System.Runtime.Intrinsics.Vector256";

        static string MaskLanes(int j) => $"{Vec}.Create(new global::System.ReadOnlySpan<float>(mask{j}, i, 8))";

        static bool Vectorizable(List<ChainStep> run)
        {
            try
            {
                foreach (var s in run)
                    if (s.Kind == "activation") { ScalarCode.VectorForward(s.Op!, "x"); ScalarCode.VectorBackward(s.Op!, "x", "y", "g"); }
                return true;
            }
            catch (System.NotSupportedException) { return false; }
        }

        static string VectorStepForward(ChainStep s, string v, int j) => s.Kind == "dropout"
            ? $"mask{j} != null ? {v} * {MaskLanes(j)} : {v}"
            : ScalarCode.VectorForward(s.Op!, v);

        static string VectorStepBackward(ChainStep s, string x, string y, string g, int j) => s.Kind == "dropout"
            ? $"mask{j} != null ? {g} * {MaskLanes(j)} : {g}"
            : ScalarCode.VectorBackward(s.Op!, x, y, g);

        static string StepForward(ChainStep s, string v, int j) => s.Kind == "dropout"
            ? $"mask{j} != null ? {v} * mask{j}[i] : {v}"
            : ScalarCode.Forward(s.Op!, v);

        static string StepBackward(ChainStep s, string x, string y, string g, int j) => s.Kind == "dropout"
            ? $"mask{j} != null ? {g} * mask{j}[i] : {g}"
            : ScalarCode.Backward(s.Op!, x, y, g);

        static string Describe(List<(ChainStep? Producer, List<ChainStep> Elementwise)> plan) =>
            string.Join(", then ", plan.Select(g =>
                (g.Producer is null ? "" : g.Producer.Kind switch
                {
                    "linear" => "GEMM+bias (" + g.Producer.Member!.Replace("global::Kiln.NN.", "") + ")",
                    "conv2d" => "conv2d (" + g.Producer.Member!.Replace("global::Kiln.NN.", "") + ")",
                    "maxpool2d" => "max pool",
                    _ => "flatten",
                }) +
                (g.Elementwise.Count == 0 ? "" : (g.Producer is null ? "" : " with ") + "one fused loop of " +
                    string.Join(" → ", g.Elementwise.Select(e => e.Kind == "dropout" ? "dropout" : e.Op)))));
    }
}
