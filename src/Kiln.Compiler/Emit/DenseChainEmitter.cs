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

        /// <summary>"linear", "activation" or "dropout".</summary>
        public string Kind { get; }
        /// <summary>The Linear layer as a C# expression over the model <c>m</c> (e.g. <c>m.layer1</c>).</summary>
        public string? Member { get; }
        /// <summary>The activation (<see cref="ScalarCode.Activations"/>).</summary>
        public string? Op { get; }
        /// <summary>Dropout's probability and training flag, as C# expressions over the model (<c>m.dropout.P</c>, <c>m.Training</c>).</summary>
        public string? Probability { get; }
        /// <summary>See <see cref="Probability"/>.</summary>
        public string? Training { get; }

        /// <summary>A Linear layer reached by <paramref name="member"/>, an expression over the model <c>m</c>.</summary>
        public static ChainStep Linear(string member) => new ChainStep("linear", member, null, null, null);
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
    /// Plans and writes the compiled form of a dense chain (Linear layers with activations and dropout between them,
    /// from one 2-D float input): each Linear is the tensor core's GEMM with its bias, and each run of elementwise steps
    /// after it is one generated loop — forward keeps only the pre-activation, backward recomputes the activations,
    /// regenerates dropout's mask from its counter-based draw, and applies the registry's derivative rules (through
    /// <see cref="ScalarCode"/>). The whole forward is one autograd node (<c>Autograd.Function</c>).
    /// </summary>
    public static class DenseChainEmitter
    {
        /// <summary>Fusion groups: an optional Linear followed by the elementwise steps up to the next Linear.</summary>
        public static List<(string? Linear, List<ChainStep> Elementwise)> Plan(IReadOnlyList<ChainStep> steps)
        {
            var groups = new List<(string? Linear, List<ChainStep> Elementwise)>();
            foreach (var s in steps)
            {
                if (s.Kind == "linear" || groups.Count == 0) groups.Add((s.Kind == "linear" ? s.Member : null, new List<ChainStep>()));
                if (s.Kind != "linear") groups[groups.Count - 1].Elementwise.Add(s);
            }
            return groups;
        }

        /// <summary>The members to add to the model's partial class: <c>Compile()</c> and the nested <c>Compiled</c> class.</summary>
        public static string Emit(string modelName, string nodeName, IReadOnlyList<ChainStep> steps, string indent)
        {
            var plan = Plan(steps);
            var sb = new StringBuilder();
            void L(int depth, string text) => sb.Append(indent).Append(' ', depth * 4).AppendLine(text);
            const string T = "global::Kiln.Tensor";
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
            L(1, "/// <summary>The model's Forward, compiled; an input that is not a 2-D float32 tensor runs the eager Forward.</summary>");
            L(1, $"public {T} Forward({T} x)");
            L(1, "{");
            L(2, "if (x.Dim != 2 || x.DType != global::Kiln.DType.Float32) return _model.Forward(x);");
            L(2, "var m = _model;");
            // Parameters, in the order the node lists its inputs.
            var inputs = new List<string> { "x" };
            for (int k = 0; k < plan.Count; k++)
            {
                if (plan[k].Linear is not { } member) continue;
                L(2, $"var w{k} = {member}.Weight;");
                L(2, $"var b{k} = {member}.Bias;");
                inputs.Add($"w{k}");
                inputs.Add($"b{k}");
            }
            // Dropout decisions are taken now, in forward order (the generator stream is used as eager dropout uses it).
            for (int k = 0; k < plan.Count; k++)
                for (int j = 0; j < plan[k].Elementwise.Count; j++)
                    if (plan[k].Elementwise[j] is { Kind: "dropout" } d)
                        L(2, $"double p{k}_{j} = {d.Probability}; bool drop{k}_{j} = ({d.Training}) && p{k}_{j} > 0; global::Kiln.Compilation.DropoutDraw draw{k}_{j} = default;");
            for (int k = 0; k < plan.Count; k++) L(2, $"{T}? in{k} = null, z{k} = null;");
            L(2, "bool needX = x.RequiresGrad;");
            L(2, $"return global::Kiln.Autograd.Function(\"{nodeName}\", new {T}?[] {{ {string.Join(", ", inputs)} }}, forward: ctx =>");
            L(2, "{");
            L(3, $"{T} h = x.Contiguous();");
            for (int k = 0; k < plan.Count; k++)
            {
                var (linear, run) = plan[k];
                // What the backward reads is saved (pinned): a Tensor.Scope ending before Backward does not free it.
                L(3, linear is null ? $"in{k} = h;" : $"in{k} = ctx.Save(h);");
                string z = linear is null ? "h" : $"global::Kiln.NN.F.Linear(h, w{k}, b{k})";
                L(3, run.Count > 0 ? $"z{k} = ctx.Save({z});" : $"z{k} = {z};");
                if (run.Count == 0) { L(3, $"h = z{k};"); continue; }
                L(3, $"h = {T}.EmptyLike(z{k});");
                L(3, "{");
                L(4, $"var zs = z{k}.AsSpan<float>(); var hs = h.AsSpan<float>();");
                Masks(k, run, reserve: true);
                Loop(run, () => L(5, $"hs[i] = v{run.Count};"));
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
                var (linear, run) = plan[k];
                // The input's gradient (and what only it needs) is skipped when the input needs none, as eager autograd does.
                if (k == 0 && linear is null) L(3, "if (!needX) return grads;");
                if (run.Count > 0)
                {
                    L(3, "{");
                    L(4, $"var dz = {T}.EmptyLike(z{k}!);");
                    L(4, $"var zs = z{k}!.AsSpan<float>(); var ds = d.AsSpan<float>(); var dzs = dz.AsSpan<float>();");
                    Masks(k, run, reserve: false);
                    // The loop recomputes the run's intermediate values (cheaper than storing them), then applies the rules in reverse.
                    Loop(run, () =>
                    {
                        L(5, $"float g{run.Count} = ds[i];");
                        for (int j = run.Count - 1; j >= 0; j--)
                            L(5, $"float g{j} = {StepBackward(run[j], $"v{j}", $"v{j + 1}", $"g{j + 1}", j)};");
                        L(5, "dzs[i] = g0;");
                    });
                    ReturnMasks(run);
                    L(4, "d = dz;");
                    L(3, "}");
                }
                if (linear is not null)
                {
                    slot -= 2;
                    // y = x·Wᵀ + b: dW = dYᵀ·x, db = Σ rows of dY, dx = dY·W (the tensor core's GEMMs).
                    L(3, $"grads[{slot}] = d.T.Matmul(in{k}!);");
                    L(3, $"if (b{k} is not null) grads[{slot + 1}] = d.Sum(0);");
                    if (k == 0) L(3, "if (!needX) return grads;");
                    L(3, $"d = d.Matmul(w{k});");
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
                    string draw = reserve ? $"draw{k}_{j} = global::Kiln.Compilation.DropoutDraw.Reserve(zs.Length, p{k}_{j}); " : "";
                    L(4, $"if (drop{k}_{j}) {{ {draw}mask{j} = global::System.Buffers.ArrayPool<float>.Shared.Rent(zs.Length); draw{k}_{j}.Fill(global::System.MemoryExtensions.AsSpan(mask{j}, 0, zs.Length)); }}");
                }
            }

            void ReturnMasks(List<ChainStep> run)
            {
                for (int j = 0; j < run.Count; j++)
                    if (run[j].Kind == "dropout") L(4, $"if (mask{j} != null) global::System.Buffers.ArrayPool<float>.Shared.Return(mask{j});");
            }

            // One loop over the run's elements: v0 is the pre-activation, v1.. each step's value; then the body.
            void Loop(List<ChainStep> run, System.Action body)
            {
                L(4, "for (int i = 0; i < zs.Length; i++)");
                L(4, "{");
                L(5, "float v0 = zs[i];");
                for (int j = 0; j < run.Count; j++)
                    L(5, $"float v{j + 1} = {StepForward(run[j], $"v{j}", j)};");
                body();
                L(4, "}");
            }
        }

        static string StepForward(ChainStep s, string v, int j) => s.Kind == "dropout"
            ? $"mask{j} != null ? {v} * mask{j}[i] : {v}"
            : ScalarCode.Forward(s.Op!, v);

        static string StepBackward(ChainStep s, string x, string y, string g, int j) => s.Kind == "dropout"
            ? $"mask{j} != null ? {g} * mask{j}[i] : {g}"
            : ScalarCode.Backward(s.Op!, x, y, g);

        static string Describe(List<(string? Linear, List<ChainStep> Elementwise)> plan) =>
            string.Join(", then ", plan.Select(g =>
                (g.Linear is null ? "" : "GEMM+bias (" + g.Linear.Replace("global::Kiln.NN.", "") + ")") +
                (g.Elementwise.Count == 0 ? "" : (g.Linear is null ? "" : " with ") + "one fused loop of " +
                    string.Join(" → ", g.Elementwise.Select(e => e.Kind == "dropout" ? "dropout" : e.Op)))));
    }
}
