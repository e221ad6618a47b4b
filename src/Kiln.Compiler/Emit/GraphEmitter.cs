using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Kiln.Compiler.Ir;

namespace Kiln.Compiler.Emit
{
    /// <summary>
    /// Writes the compiled form of a forward graph as C#: each producer (Linear as the tensor core's GEMM with its bias,
    /// Conv2d, MaxPool2d, LayerNorm and self-attention as the eager kernels without recording, Flatten as a view) and each
    /// fused elementwise group (one generated loop, eight lanes at a time plus a scalar tail, split over Kiln's worker
    /// threads) in the fusion plan's order. Forward keeps only what backward reads: producers' inputs and statistics, and
    /// a group's external values only when an activation's derivative needs them; dropout masks are regenerated from their
    /// counter-based draw. Backward is reverse-mode over the plan — gradients accumulated where a value has several readers
    /// (residual connections), each elementwise derivative taken from the registry's rules (<see cref="ScalarCode"/>). The
    /// whole forward is one autograd node (<c>Autograd.Function</c>).
    /// </summary>
    public static class GraphEmitter
    {
        const string T = "global::Kiln.Tensor", Ops = "global::Kiln.Compilation.CompiledOps", Attention = "global::Kiln.Compilation.CompiledAttention";
        const string Vec = "global::System.Runtime.Intrinsics.Vector256";

        /// <summary>The compiled Forward's name for input <paramref name="k"/> (names that cannot meet the kernels' locals).</summary>
        static string InputName(int k) => k == 0 ? "x" : "input" + k.ToString(System.Globalization.CultureInfo.InvariantCulture);

        static string Signature(IrGraph graph) => string.Join(", ", graph.InputValues.Select((v, k) =>
            IrGraph.IsOptional(graph.Nodes[v]) ? $"{T}? {InputName(k)} = null" : IrGraph.IsNullable(graph.Nodes[v]) ? $"{T}? {InputName(k)}" : $"{T} {InputName(k)}"));

        static string Arguments(IrGraph graph) => string.Join(", ", graph.InputValues.Select((_, k) => InputName(k)));

        /// <summary>The members to add to the model's partial class: <c>Compile()</c> and the nested <c>Compiled</c> class.</summary>
        public static string Emit(string modelName, string nodeName, IrGraph graph, string indent, IrGraph? evalGraph = null)
        {
            var sb = new StringBuilder();
            void L(int depth, string text) => sb.Append(indent).Append(' ', depth * 4).AppendLine(text);
            string description = evalGraph is null ? Describe(FusionPlanner.Plan(graph))
                : "in training, " + Describe(FusionPlanner.Plan(graph)) + "; in eval, " + Describe(FusionPlanner.Plan(evalGraph));
            L(0, "/// <summary>The model with its generated fused kernels (<c>torch.compile</c>); parameters and modes are shared with this instance.</summary>");
            L(0, "public Compiled Compile(global::Kiln.Compilation.CompileMode mode = global::Kiln.Compilation.CompileMode.Default) => new Compiled(this, mode);");
            L(0, "");
            L(0, "/// <summary>" + modelName + " run by its generated kernels: " + description + ".</summary>");
            L(0, "public sealed class Compiled");
            L(0, "{");
            L(1, "readonly " + modelName + " _model;");
            L(1, "internal Compiled(" + modelName + " model, global::Kiln.Compilation.CompileMode mode)");
            L(1, "{");
            L(2, "_model = model; Mode = mode;");
            L(2, "if (mode == global::Kiln.Compilation.CompileMode.ReduceOverhead) Pool = new global::Kiln.Memory.MemoryPool();");
            L(1, "}");
            L(1, "/// <summary>The eager model whose parameters this one uses.</summary>");
            L(1, "public " + modelName + " Model => _model;");
            L(1, "/// <summary>The compile mode.</summary>");
            L(1, "public global::Kiln.Compilation.CompileMode Mode { get; }");
            L(1, "/// <summary>The memory the compiled kernels' tensors are reserved in (ReduceOverhead), or null.</summary>");
            L(1, "public global::Kiln.Memory.MemoryPool? Pool { get; }");
            L(1, "");
            var kernels = new StringBuilder();
            if (evalGraph is null) Method(sb, indent, modelName, nodeName, graph, "public", "Forward", kernels);
            else
            {
                // Forward branches on Training: one compiled graph per mode.
                L(1, $"/// <summary>The model's Forward, compiled (one graph for training, one for eval, as Forward branches on Training).</summary>");
                L(1, $"public {T} Forward({Signature(graph)}) => _model.Training ? ForwardTraining({Arguments(graph)}) : ForwardEval({Arguments(graph)});");
                L(1, "");
                Method(sb, indent, modelName, nodeName, graph, "", "ForwardTraining", kernels);
                L(1, "");
                Method(sb, indent, modelName, nodeName, evalGraph, "", "ForwardEval", kernels);
            }
            sb.Append(kernels);
            L(0, "}");
            return sb.ToString();
        }

        /// <summary>One compiled Forward method for <paramref name="graph"/>: guards, parameters, the autograd node with its forward and backward.</summary>
        static void Method(StringBuilder sb, string indent, string modelName, string nodeName, IrGraph graph, string visibility, string methodName, StringBuilder kernels)
        {
            var plan = FusionPlanner.Plan(graph);
            var inputOnly = graph.InputOnly();
            var behind = graph.InputsBehind();
            var inputValues = graph.InputValues;
            void L(int depth, string text) => sb.Append(indent).Append(' ', depth * 4).AppendLine(text);
            int Rank(int k) => graph.ReadersOfInput(k).Select(n => n.Op switch { IrOps.Conv2d or IrOps.MaxPool2d => 4, IrOps.SelfAttention => 3, _ => 0 }).DefaultIfEmpty(0).Max();
            // An input read only by eager islands and embeddings may be integer (token ids): the layer checks it as in eager.
            // A float input other than float32 runs the eager Forward, as the fused loops read float32.
            // Whether every reader takes input k without differentiating it (islands, embeddings, class targets).
            bool ReadAsIndices(int k) => graph.ReadersOfInput(k).All(n => Enumerable.Range(0, n.Inputs.Count).All(j => n.Inputs[j] != inputValues[k] || IrOps.ReadsIndices(n, j)));
            int rank = Rank(0);
            L(1, $"/// <summary>The model's Forward, compiled; an input that is not a {(rank == 0 ? "" : rank + "-D ")}float32 tensor, or a layer configured outside the compiled form, runs the eager Forward.</summary>");
            L(1, $"{(visibility.Length == 0 ? "" : visibility + " ")}{T} {methodName}({Signature(graph)})");
            L(1, "{");
            L(2, "var m = _model;");
            // A null Tensor? argument runs the eager Forward (the graph reads every input); tested first.
            var guard = inputValues.Select((v, k) => (v, k)).Where(p => IrGraph.IsNullable(graph.Nodes[p.v])).Select(p => $"{InputName(p.k)} is null").ToList();
            for (int k = 0; k < inputValues.Count; k++)
            {
                string name = InputName(k);
                guard.Add(ReadAsIndices(k) ? $"({name}.DType != global::Kiln.DType.Float32 && global::Kiln.DTypes.IsFloatingPoint({name}.DType))" : $"{name}.DType != global::Kiln.DType.Float32");
                if (Rank(k) > 0) guard.Add($"{name}.Dim != {Rank(k)}");
            }
            foreach (var n in graph.Nodes)
            {
                if (n.Op == IrOps.Conv2d || n.Op == IrOps.LayerNorm || n.Op == IrOps.RmsNorm) guard.Add($"!{Ops}.Fusable({n.Member})");
                if (n.Op == IrOps.SelfAttention) guard.Add($"!{Attention}.Fusable({n.Member})");
            }
            foreach (var c in graph.Conditions) guard.Add($"!({c})");
            // On a CUDA device the fused groups are generated GPU kernels and the GEMMs, convolutions, pooling, softmax,
            // cross-entropy, layer norm and embeddings run as the CUDA backend's kernels; a graph with any other producer
            // (RMSNorm, BatchNorm, self-attention) runs the eager Forward there (same results).
            if (plan.Any(st => st.Producer is { } pr && !GpuProducer(pr.Op)))
                guard.Add($"{InputName(0)}.IsCuda");
            L(2, $"if ({string.Join(" || ", guard.Distinct())}) return m.Forward({Arguments(graph)});");

            // Parameters, in the order the node lists its inputs; each producer's first slot.
            var inputs = inputValues.Select((_, k) => InputName(k)).ToList();
            var slot = new Dictionary<int, int>();
            foreach (var n in graph.Nodes)
            {
                var names = n.Op switch
                {
                    IrOps.Linear or IrOps.Conv2d => new[] { ($"w{n.Id}", $"{n.Member}.Weight"), ($"b{n.Id}", $"{n.Member}.Bias") },
                    IrOps.LayerNorm or IrOps.BatchNorm => new[] { ($"w{n.Id}", $"{n.Member}.Weight"), ($"b{n.Id}", $"{n.Member}.Bias") },
                    IrOps.RmsNorm or IrOps.Embedding => new[] { ($"w{n.Id}", $"{n.Member}.Weight") },
                    IrOps.SelfAttention => new[] { ($"wi{n.Id}", $"{n.Member}.InProjWeight!"), ($"bi{n.Id}", $"{n.Member}.InProjBias"),
                        ($"wo{n.Id}", $"{n.Member}.OutProj.Weight"), ($"bo{n.Id}", $"{n.Member}.OutProj.Bias") },
                    _ => Array.Empty<(string, string)>(),
                };
                if (names.Length == 0) continue;
                slot[n.Id] = inputs.Count;
                foreach (var (name, value) in names) { L(2, $"var {name} = {value};"); inputs.Add(name); }
            }
            // Eager islands' parameters are found now and listed after the fixed ones.
            var islands = graph.Nodes.Where(n => n.Op == IrOps.Island && IrOps.HasParameters(n)).ToList();
            foreach (var n in islands)
                L(2, n.Member is not null ? $"var ip{n.Id} = global::Kiln.Compilation.EagerIsland.TrainableParameters({n.Member});"
                    : $"var ip{n.Id} = global::Kiln.Compilation.EagerIsland.Trainable({string.Join(", ", n.Parameters)});");
            // An expression island over values only has no parameters of its own.
            foreach (var n in graph.Nodes.Where(n => n.Op == IrOps.Island && !IrOps.HasParameters(n))) L(2, $"var ip{n.Id} = global::System.Array.Empty<{T}>();");
            string inputList = $"new {T}?[] {{ {string.Join(", ", inputs)} }}";
            if (islands.Count > 0)
            {
                L(2, $"var inputs = new global::System.Collections.Generic.List<{T}?> {{ {string.Join(", ", inputs)} }};");
                foreach (var n in islands) L(2, $"int is{n.Id} = inputs.Count; inputs.AddRange(ip{n.Id});");
                inputList = "inputs";
            }
            // Dropout decisions are taken now; the draws are reserved as each group runs, in Forward's order.
            foreach (var n in graph.Nodes.Where(n => n.Op == IrOps.Dropout))
                L(2, $"double p{n.Id} = {n.Attr}; bool drop{n.Id} = ({n.Attr2}) && p{n.Id} > 0; global::Kiln.Compilation.DropoutDraw draw{n.Id} = default;");
            // Values that live in memory: the input and each step's output (a group's inner values stay in registers).
            // A Linear with an epilogue names its raw value where the epilogue's group reads it back (a kept pre-activation)
            // and its gradient where the group's backward runs on its own (not gated).
            var materialized = inputValues.Concat(plan.SelectMany(p => p.Epilogue is null || p.Gated ? new[] { p.Output } : new[] { p.Producer!.Id, p.Output })).ToList();
            var held = materialized.Where(v => !plan.Any(p => p.Epilogue is { } e && p.Producer!.Id == v && !e.Recomputes)).ToList();
            L(2, $"{T}? {string.Join(", ", held.Select(v => $"v{v} = null"))};");
            foreach (var n in graph.Nodes)
                switch (n.Op)
                {
                    case IrOps.MaxPool2d: L(2, $"{T}? idx{n.Id} = null; global::System.Collections.Generic.IReadOnlyList<int>? shape{n.Id} = null;"); break;
                    case IrOps.Flatten: L(2, $"global::System.Collections.Generic.IReadOnlyList<int>? shape{n.Id} = null;"); break;
                    case IrOps.LayerNorm: L(2, $"{T}? mean{n.Id} = null, rstd{n.Id} = null;"); break;
                    case IrOps.RmsNorm: L(2, $"{T}? rstd{n.Id} = null;"); break;
                    case IrOps.CrossEntropy: L(2, $"{T}? lse{n.Id} = null; long count{n.Id} = 0;"); break;
                    case IrOps.BatchNorm: L(2, $"{T}? mean{n.Id} = null, rstd{n.Id} = null; bool batch{n.Id} = false;"); break;
                    case IrOps.SelfAttention: L(2, $"{Attention}? att{n.Id} = null;"); break;
                    case IrOps.Island: L(2, $"global::Kiln.Compilation.EagerIsland? isl{n.Id} = null;"); break;
                }
            // Groups over several values broadcast them together (planned when the group runs).
            foreach (var g in plan.Where(Broadcasts)) L(2, $"global::Kiln.Compilation.GroupBroadcast? gb{g.Output} = null;");
            for (int k = 0; k < inputValues.Count; k++) L(2, $"bool need{k} = {InputName(k)}.RequiresGrad;");
            L(2, $"return global::Kiln.Autograd.Function(\"{nodeName}\", {inputList}, forward: ctx =>");
            L(2, "{");
            string tuning = $"using var tuning = global::Kiln.Compilation.Autotune.Enter(Mode, \"{modelName}\"); using var reserved = global::Kiln.Memory.MemoryPool.Use(Pool);";
            L(3, tuning);
            for (int k = 0; k < inputValues.Count; k++)
                L(3, ReadAsIndices(k) ? $"v{inputValues[k]} = {InputName(k)};" : $"v{inputValues[k]} = {InputName(k)}.Contiguous();");
            for (int k = 0; k < plan.Count; k++)
            {
                var step = plan[k];
                if (step.Epilogue is not null) { EpilogueForward(step); continue; }
                if (step.Producer is not null) { ProducerForward(step); continue; }
                // A group feeding a norm is emitted with it (the norm's pass runs the group's loop block by block).
                if (step.RunsInNorm) { GroupForward(step, plan[++k]); continue; }
                GroupForward(step);
            }
            // What leaves the compiled node is never a block of the ReduceOverhead pool (only temporaries stay there).
            L(3, $"return global::Kiln.Memory.MemoryPool.Outside(Pool, v{graph.Output})!;");
            L(2, "},");
            L(2, "backward: grad =>");
            L(2, "{");
            L(3, tuning);
            L(3, "if (global::Kiln.Autograd.IsGradEnabled) throw new global::Kiln.KilnException(\"compile\", \"" + modelName + ".Compiled: double backward (createGraph: true) is not supported by compiled kernels; differentiate the eager model\");");
            L(3, $"var grads = new {T}?[{(islands.Count > 0 ? "inputs.Count" : inputs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))}];");
            L(3, $"{T}? {string.Join(", ", materialized.Select(v => $"gv{v} = null"))};");
            L(3, $"gv{graph.Output} = grad.Contiguous();");
            for (int s = plan.Count - 1; s >= 0; s--)
            {
                var step = plan[s];
                // An ungated epilogue's group runs its own backward first (into the Linear's raw value), then the Linear's.
                if (step.Epilogue is { } e && !step.Gated) BackwardBlock(e.Output, d => GroupBackward(e, d));
                if (step.Producer is { } p) BackwardBlock(step.Gated ? step.Output : p.Id, d => ProducerBackward(step, d));
                else BackwardBlock(step.Output, d => GroupBackward(step, d));
            }
            for (int k = 0; k < inputValues.Count; k++) L(3, $"grads[{k}] = gv{inputValues[k]};");
            L(3, "if (Pool is not null) for (int q = 0; q < grads.Length; q++) grads[q] = global::Kiln.Memory.MemoryPool.Outside(Pool, grads[q]);");
            L(3, "return grads;");
            L(2, "});");
            L(1, "}");

            // One step's backward, run when its value received a gradient.
            void BackwardBlock(int o, Action<string> body)
            {
                // A step on the input's own path (no parameter before it) only feeds the input's gradient: skipped when it needs none.
                string cond = inputOnly[o] ? $"({NeedIn(o)}) && gv{o} is {{ }} d{o}" : $"gv{o} is {{ }} d{o}";
                L(3, $"if ({cond})");
                L(3, "{");
                body($"d{o}");
                L(3, "}");
            }

            // A Linear with its activation and dropout in the GEMM epilogue (the dropout draw reserved first, as eager does).
            void EpilogueForward(FusionStep step)
            {
                var p = step.Producer!;
                var g = step.Epilogue!;
                string x = $"v{p.Inputs[0]}!";
                bool keep = !step.Gated && g.Recomputes;
                string activation = step.EpilogueActivation switch { "relu" => "Relu", "gelu" => "Gelu", "gelu_tanh" => "GeluTanh", _ => "None" };
                string mask = step.EpilogueDropout is { } dn ? $"mask{dn.Id}" : "null";
                L(3, "{");
                L(4, $"ctx.Save({x});");
                L(4, $"int n = global::Kiln.Compilation.FusedLinear.OutputCount({x}, w{p.Id});");
                Masks(g, reserve: true);
                L(4, $"var fl = global::Kiln.Compilation.FusedLinear.Forward({x}, w{p.Id}, b{p.Id}, global::Kiln.Kernels.Gemm.GemmActivation.{activation}, {mask}, {(keep ? "true" : "false")});");
                if (keep) L(4, $"v{p.Id} = ctx.Save(fl.PreActivation!);");
                L(4, $"v{g.Output} = {(step.Gated ? "ctx.Save(fl.Output)" : "fl.Output")};");
                ReturnMasks(g);
                L(3, "}");
            }

            string NeedIn(int v) => inputOnly[v] ? string.Join(" || ", behind[v].Select(k => $"need{k}").DefaultIfEmpty("false")) : "true";

            // Callers test the value for null first where it may be null (an array element the compiler cannot track).
            void Acc(int depth, int v, string value)
            {
                L(depth, $"{{ var t = {value}!; gv{v} = gv{v} is null ? t : gv{v} + t; }}");
            }

            void ProducerForward(FusionStep step, int depth = 3)
            {
                var p = step.Producer!;
                string x = p.Inputs.Count > 0 ? $"v{step.Source}!" : "";
                switch (p.Op)
                {
                    case IrOps.Linear:
                        L(depth, $"ctx.Save({x});");
                        L(depth, $"v{p.Id} = global::Kiln.NN.F.Linear({x}, w{p.Id}, b{p.Id});");
                        break;
                    case IrOps.Conv2d:
                        L(depth, $"ctx.Save({x});");
                        L(depth, $"v{p.Id} = {p.Member}.Forward({x});");
                        break;
                    case IrOps.MaxPool2d:
                        L(depth, $"shape{p.Id} = {x}.Shape;");
                        L(depth, $"var pooled{p.Id} = {p.Member}.ForwardWithIndices({x});");
                        L(depth, $"idx{p.Id} = ctx.Save(pooled{p.Id}.Indices);");
                        L(depth, $"v{p.Id} = pooled{p.Id}.Values;");
                        break;
                    case IrOps.Flatten:
                        L(depth, $"shape{p.Id} = {x}.Shape;");
                        L(depth, $"v{p.Id} = {x}.Flatten({p.Attr});");
                        break;
                    case IrOps.LayerNorm:
                        L(depth, $"ctx.Save({x});");
                        L(depth, $"var ln{p.Id} = {Ops}.LayerNorm({p.Member}, {x}{Produce(step)});");
                        L(depth, $"mean{p.Id} = ctx.Save(ln{p.Id}.Mean); rstd{p.Id} = ctx.Save(ln{p.Id}.Rstd);");
                        L(depth, $"v{p.Id} = ln{p.Id}.Output;");
                        break;
                    case IrOps.RmsNorm:
                        L(depth, $"ctx.Save({x});");
                        L(depth, $"var rms{p.Id} = {Ops}.RmsNorm({p.Member}, {x}{Produce(step)});");
                        L(depth, $"rstd{p.Id} = ctx.Save(rms{p.Id}.Rstd);");
                        L(depth, $"v{p.Id} = rms{p.Id}.Output;");
                        break;
                    case IrOps.BatchNorm:
                        L(depth, $"ctx.Save({x});");
                        L(depth, $"var bn{p.Id} = {Ops}.BatchNorm({p.Member}, {x});");
                        L(depth, $"mean{p.Id} = ctx.Save(bn{p.Id}.Mean); rstd{p.Id} = ctx.Save(bn{p.Id}.Rstd); batch{p.Id} = bn{p.Id}.BatchStatistics;");
                        L(depth, $"v{p.Id} = bn{p.Id}.Output;");
                        break;
                    case IrOps.Softmax:
                        L(depth, $"v{p.Id} = ctx.Save({Ops}.Softmax({x}, {p.Attr2}, {Log(p)}, {Scale(step)}));");
                        break;
                    case IrOps.CrossEntropy:
                        L(depth, $"ctx.Save({x});");
                        L(depth, $"var ce{p.Id} = {Ops}.CrossEntropy({x}, v{p.Inputs[1]}!);");
                        L(depth, $"lse{p.Id} = ctx.Save(ce{p.Id}.Lse); count{p.Id} = ce{p.Id}.Count;");
                        L(depth, $"v{p.Id} = ce{p.Id}.Loss;");
                        break;
                    case IrOps.Embedding:
                        L(depth, $"ctx.Save({x});");
                        L(depth, $"v{p.Id} = {Ops}.Embedding({p.Member}, {x});");
                        break;
                    case IrOps.SelfAttention:
                        L(depth, $"att{p.Id} = {Attention}.Forward(ctx, {p.Member}, {x});");
                        L(depth, $"v{p.Id} = att{p.Id}.Output;");
                        break;
                    case IrOps.Island:
                    {
                        // A layer's call, or the expression's text with its values as t[0], t[1], ...
                        string body = p.Attr2 is null ? $"{p.Member}.{p.Attr}(t[0])" : IrOps.FillTemplate(p.Attr2, p.Inputs.Count, k => $"t[{k}]");
                        string values = string.Join(", ", p.Inputs.Select(i => $"v{i}!"));
                        string valueArray = p.Inputs.Count == 0 ? $"global::System.Array.Empty<{T}>()" : $"new {T}[] {{ {values} }}";
                        string needs = string.Join(", ", p.Inputs.Select(NeedIn));
                        L(depth, $"isl{p.Id} = global::Kiln.Compilation.EagerIsland.Run(ip{p.Id}, t => {body}, {valueArray}, new bool[] {{ {needs} }});");
                        L(depth, $"v{p.Id} = isl{p.Id}.Output;");
                        break;
                    }
                    default: throw new NotSupportedException("no producer form for " + p.Op);
                }
            }

            void ProducerBackward(FusionStep step, string d)
            {
                var p = step.Producer!;
                int i = p.Inputs.Count > 0 ? p.Inputs[0] : -1, s = slot.TryGetValue(p.Id, out var first) ? first : -1;
                switch (p.Op)
                {
                    case IrOps.Linear when step.Gated:
                    {
                        string scale = step.EpilogueDropout is { } dn ? $"global::Kiln.Compilation.FusedLinear.DropoutScale(drop{dn.Id}, p{dn.Id})" : "1f";
                        L(4, $"var r = global::Kiln.Compilation.FusedLinear.Backward(v{i}!, w{p.Id}, b{p.Id} is not null, {d}, v{step.Output}!, {scale}, {NeedIn(i)});");
                        L(4, $"grads[{s}] = r.Weight; grads[{s + 1}] = r.Bias;");
                        L(4, "if (r.Input is not null)"); Acc(5, i, "r.Input");
                        break;
                    }
                    case IrOps.Linear:
                        L(4, $"var r = {Ops}.LinearBackward(v{i}!, w{p.Id}, b{p.Id} is not null, {d}, {NeedIn(i)});");
                        L(4, $"grads[{s}] = r.Weight; grads[{s + 1}] = r.Bias;");
                        L(4, "if (r.Input is not null)"); Acc(5, i, "r.Input");
                        break;
                    case IrOps.Conv2d:
                        L(4, $"var r = {Ops}.Conv2dBackward({p.Member}, v{i}!, {d}, {NeedIn(i)});");
                        L(4, $"grads[{s}] = r.Weight; grads[{s + 1}] = r.Bias;");
                        L(4, "if (r.Input is not null)"); Acc(5, i, "r.Input");
                        break;
                    case IrOps.MaxPool2d:
                        Acc(4, i, $"{Ops}.MaxPool2dBackward({d}, idx{p.Id}!, shape{p.Id}!)");
                        break;
                    case IrOps.Flatten:
                        Acc(4, i, $"{d}.Reshape(global::System.Linq.Enumerable.ToArray(shape{p.Id}!))");
                        break;
                    case IrOps.LayerNorm:
                        L(4, $"var r = {Ops}.LayerNormBackward({p.Member}, v{i}!, mean{p.Id}!, rstd{p.Id}!, {d});");
                        L(4, $"grads[{s}] = r.Weight; grads[{s + 1}] = r.Bias;");
                        Acc(4, i, "r.Input");
                        break;
                    case IrOps.RmsNorm:
                        L(4, $"var r = {Ops}.RmsNormBackward({p.Member}, v{i}!, rstd{p.Id}!, {d});");
                        L(4, $"grads[{s}] = r.Weight;");
                        Acc(4, i, "r.Input");
                        break;
                    case IrOps.BatchNorm:
                        L(4, $"var r = {Ops}.BatchNormBackward({p.Member}, v{i}!, mean{p.Id}!, rstd{p.Id}!, batch{p.Id}, {d}, {NeedIn(i)});");
                        L(4, $"grads[{s}] = r.Weight; grads[{s + 1}] = r.Bias;");
                        L(4, "if (r.Input is not null)"); Acc(5, i, "r.Input");
                        break;
                    case IrOps.Softmax:
                        Acc(4, step.Source, $"{Ops}.SoftmaxBackward(v{p.Id}!, {d}, {p.Attr2}, {Log(p)}, {Scale(step)})");
                        break;
                    case IrOps.CrossEntropy:
                        // The class targets get no gradient.
                        Acc(4, i, $"{Ops}.CrossEntropyBackward(v{i}!, v{p.Inputs[1]}!, lse{p.Id}!, count{p.Id}, {d})");
                        break;
                    case IrOps.Embedding:
                        // Integer indices get no gradient; only the table does.
                        L(4, $"grads[{s}] = {Ops}.EmbeddingBackward({p.Member}, v{i}!, {d});");
                        break;
                    case IrOps.Island:
                        L(4, $"var r = isl{p.Id}!.Backward({d});");
                        if (IrOps.HasParameters(p)) L(4, $"for (int q = 0; q < r.Parameters.Length; q++) grads[is{p.Id} + q] = r.Parameters[q];");
                        for (int k = 0; k < p.Inputs.Count; k++)
                        {
                            L(4, $"if (r.Inputs[{k}] is not null)");
                            Acc(5, p.Inputs[k], $"r.Inputs[{k}]");
                        }
                        break;
                    case IrOps.SelfAttention:
                        L(4, $"var r = att{p.Id}!.Backward({d}, {NeedIn(i)});");
                        L(4, $"grads[{s}] = r.InWeight; grads[{s + 1}] = r.InBias; grads[{s + 2}] = r.OutWeight; grads[{s + 3}] = r.OutBias;");
                        L(4, "if (r.Input is not null)"); Acc(5, i, "r.Input");
                        break;
                }
            }

            void GroupForward(FusionStep g, FusionStep? norm = null)
            {
                var ext = g.External;
                L(3, "{");
                if (Broadcasts(g))
                {
                    L(4, $"var values = new {T}[] {{ {string.Join(", ", ext.Select(v => $"v{v}!.Contiguous()"))} }};");
                    L(4, $"var gb = gb{g.Output} = global::Kiln.Compilation.GroupBroadcast.Plan(\"{Describe(g)}\", values);");
                    for (int k = 0; k < ext.Count; k++) L(4, $"var e{k} = {(g.Recomputes ? "ctx.Save(" : "")}values[{k}]{(g.Recomputes ? ")" : "")};");
                    L(4, $"var ot = {T}.Empty(gb.Shape, global::Kiln.DType.Float32, values[0].Device); int n = (int)ot.Numel;");
                }
                else
                {
                    L(4, $"var e0 = {(g.Recomputes ? "ctx.Save(" : "")}v{ext[0]}!.Contiguous(){(g.Recomputes ? ")" : "")};");
                    L(4, $"var ot = {T}.EmptyLike(e0); int n = (int)ot.Numel;");
                }
                Masks(g, reserve: true);
                string into = norm is null ? null! : $"rows{g.Output}";
                if (norm is not null) L(4, $"global::System.Action<long, long>? {into} = null;");
                // On a CUDA device: the group's generated kernel (the loop's scalar body, one thread per element).
                string kernel = $"__Gpu{methodName}_F{g.Output}";
                var kernelArgs = new List<(string Type, string Name, string Value)> { (View, "os", "ot") };
                for (int k = 0; k < ext.Count; k++)
                {
                    kernelArgs.Add((View, $"es{k}", $"e{k}"));
                    kernelArgs.Add((Index, $"m{k}", Broadcasts(g) ? $"global::Kiln.Gpu.GroupIndex.Of(gb{g.Output}!.Maps[{k}])" : "global::Kiln.Gpu.GroupIndex.Identity"));
                }
                GpuKernel(kernel, kernelArgs, g, () =>
                {
                    Loads(g, false, gpu: true);
                    ForwardValues(g, false, gpu: true);
                    L(6, $"os[i] = a{g.Output};");
                });
                L(4, "if (ot.IsCuda)");
                L(4, "{");
                Launch(kernel, kernelArgs, g);
                L(4, "}");
                L(4, "else");
                L(4, "{");
                Loop(g, string.Concat(ext.Select((_, k) => $"var es{k} = e{k}.AsSpan<float>(); ")) + Maps(g) + "var os = ot.AsSpan<float>();", vector =>
                {
                    Loads(g, vector);
                    ForwardValues(g, vector);
                    Store(vector, "os", $"a{g.Output}");
                }, into);
                L(4, "}");
                L(4, $"v{g.Output} = ot;");
                if (norm is not null) ProducerForward(norm, depth: 4);
                ReturnMasks(g);
                L(3, "}");
            }

            void GroupBackward(FusionStep g, string d)
            {
                var ext = g.External;
                L(4, $"var dt = {d}; int n = (int)dt.Numel;");
                if (g.Recomputes) for (int k = 0; k < ext.Count; k++) L(4, Broadcasts(g) ? $"var e{k} = gb{g.Output}!.Values[{k}];" : $"var e{k} = v{ext[k]}!.Contiguous();");
                for (int k = 0; k < ext.Count; k++) L(4, $"var de{k} = {T}.EmptyLike(dt);");
                Masks(g, reserve: false);
                string kernel = $"__Gpu{methodName}_B{g.Output}";
                var kernelArgs = new List<(string Type, string Name, string Value)> { (View, "ds", "dt") };
                for (int k = 0; k < ext.Count; k++) kernelArgs.Add((View, $"des{k}", $"de{k}"));
                if (g.Recomputes)
                    for (int k = 0; k < ext.Count; k++)
                    {
                        kernelArgs.Add((View, $"es{k}", $"e{k}"));
                        kernelArgs.Add((Index, $"m{k}", Broadcasts(g) ? $"global::Kiln.Gpu.GroupIndex.Of(gb{g.Output}!.Maps[{k}])" : "global::Kiln.Gpu.GroupIndex.Identity"));
                    }
                GpuKernel(kernel, kernelArgs, g, () => BackwardBody(g, false, gpu: true));
                L(4, "if (dt.IsCuda)");
                L(4, "{");
                Launch(kernel, kernelArgs, g);
                L(4, "}");
                L(4, "else");
                L(4, "{");
                string spans = "var ds = dt.AsSpan<float>(); " + string.Concat(ext.Select((_, k) => $"var des{k} = de{k}.AsSpan<float>(); "))
                    + (g.Recomputes ? string.Concat(ext.Select((_, k) => $"var es{k} = e{k}.AsSpan<float>(); ")) + Maps(g) : "");
                Loop(g, spans, vector => BackwardBody(g, vector));
                L(4, "}");
                ReturnMasks(g);
                // A broadcast value's gradient is summed back to its shape.
                for (int k = 0; k < ext.Count; k++) Acc(4, ext[k], Broadcasts(g) ? $"gb{g.Output}!.SumTo(de{k}, {k})" : $"de{k}");
            }

            // One element of a group's backward: recompute what the derivatives read, then each node's rule in reverse.
            void BackwardBody(FusionStep g, bool vector, bool gpu = false)
            {
                var ext = g.External;
                // The group's values are recomputed (cheaper than storing them) where a derivative reads them.
                if (g.Recomputes) { Loads(g, vector, gpu); ForwardValues(g, vector, upTo: g.Elementwise.FindLastIndex(FusionStep.ReadsValues), gpu: gpu); }
                L(6, $"var g{g.Output} = {Load(vector, "ds")};");
                var inside = new HashSet<int>(g.Elementwise.Select(n => n.Id));
                var started = new HashSet<int>();
                for (int j = g.Elementwise.Count - 1; j >= 0; j--)
                {
                    var n = g.Elementwise[j];
                    var contributions = NodeGradients(g, n, vector, gpu);
                    for (int a = 0; a < n.Inputs.Count; a++)
                    {
                        if (contributions[a] is not { } contribution) continue;
                        int u = n.Inputs[a], k = ext.IndexOf(u);
                        if (inside.Contains(u)) L(6, $"var g{u} = {contribution};");
                        else L(6, started.Add(k) ? $"var ge{k} = {contribution};" : $"ge{k} += {contribution};");
                    }
                }
                for (int k = 0; k < ext.Count; k++) Store(vector, $"des{k}", $"ge{k}");
            }

            // A group's GPU kernel: a [GpuKernel] method of the Compiled class whose body is the loop's scalar body for element
            // i, its launcher delegate type and its MethodInfo (the build step compiles it to PTX with Kiln's own kernels).
            void GpuKernel(string name, List<(string Type, string Name, string Value)> args, FusionStep g, Action body)
            {
                var masks = g.Elementwise.Where(n => n.Op == IrOps.Dropout).ToList();
                string parameters = string.Join(", ", args.Select(a => $"{a.Type} {a.Name}").Concat(masks.SelectMany(n => new[] { $"{View} mask{n.Id}", $"int hasMask{n.Id}" })));
                var saved = sb;
                var k = new StringBuilder();
                sb = k;
                L(1, "");
                L(1, $"internal delegate void {name}_Launch(global::ILGPU.Runtime.AcceleratorStream stream, global::ILGPU.Index1D index, {parameters});");
                L(1, $"static readonly global::System.Reflection.MethodInfo {name}_Method = typeof(Compiled).GetMethod(\"{name}\", global::System.Reflection.BindingFlags.NonPublic | global::System.Reflection.BindingFlags.Static)!;");
                L(1, "[global::Kiln.Gpu.GpuKernel]");
                L(1, $"static void {name}(global::ILGPU.Index1D index, {parameters})");
                L(1, "{");
                L(6 - 4, "int i = index;");
                // The body is written at the loop's depth; re-indented below.
                var inner = new StringBuilder();
                sb = inner;
                body();
                sb = k;
                foreach (var line in inner.ToString().Split(new[] { Environment.NewLine }, StringSplitOptions.RemoveEmptyEntries))
                    k.Append(line.Length >= 16 ? line.Remove(indent.Length, 16) : line).Append(Environment.NewLine);
                L(1, "}");
                sb = saved;
                kernels.Append(k);
            }

            void Launch(string name, List<(string Type, string Name, string Value)> args, FusionStep g)
            {
                var masks = g.Elementwise.Where(n => n.Op == IrOps.Dropout).ToList();
                foreach (var n in masks) L(5, $"using var dmask{n.Id} = global::Kiln.Gpu.GeneratedKernels.Upload(mask{n.Id}, {args[0].Value});");
                var values = args.Select(a => a.Type == View ? $"global::Kiln.Gpu.GeneratedKernels.View({a.Value})" : a.Value)
                    .Concat(masks.SelectMany(n => new[] { $"dmask{n.Id} is null ? global::Kiln.Gpu.GeneratedKernels.None : global::Kiln.Gpu.GeneratedKernels.View(dmask{n.Id})", $"dmask{n.Id} is null ? 0 : 1" }));
                L(5, $"global::Kiln.Gpu.GeneratedKernels.Launcher<{name}_Launch>({args[0].Value}, {name}_Method)(global::Kiln.Gpu.GeneratedKernels.Stream({args[0].Value}), n, {string.Join(", ", values)});");
            }

            // The broadcast maps a group's loop reads its values through.
            string Maps(FusionStep g) => Broadcasts(g) ? string.Concat(g.External.Select((_, k) => $"var m{k} = gb{g.Output}!.Maps[{k}]; ")) : "";

            string Load(bool vector, string span) => vector ? $"{Vec}.Create((global::System.ReadOnlySpan<float>){span}.Slice(i, 8))" : $"{span}[i]";

            void Store(bool vector, string span, string value) => L(6, vector ? $"{Vec}.CopyTo({value}, {span}.Slice(i, 8));" : $"{span}[i] = {value};");

            void Loads(FusionStep g, bool vector, bool gpu = false)
            {
                for (int k = 0; k < g.External.Count; k++)
                    L(6, gpu ? $"var x{k} = es{k}[m{k}.Index(i)];"
                        : !Broadcasts(g) ? $"var x{k} = {Load(vector, $"es{k}")};"
                        : vector ? $"var x{k} = m{k}.Full ? {Load(true, $"es{k}")} : global::Kiln.Compilation.VectorMath.Load(es{k}, i, m{k});"
                        : $"var x{k} = es{k}[m{k}.Full ? i : m{k}.Index(i)];");
            }

            // The group's values in order (up to node index upTo: what a backward reads).
            void ForwardValues(FusionStep g, bool vector, int upTo = int.MaxValue, bool gpu = false)
            {
                foreach (var n in g.Elementwise.Take(upTo == int.MaxValue ? int.MaxValue : upTo + 1))
                    L(6, $"var a{n.Id} = {NodeForward(g, n, vector, gpu)};");
            }

            // Dropout masks of a group: drawn in forward (reserving the generator's counters), regenerated in backward.
            void Masks(FusionStep g, bool reserve)
            {
                foreach (var n in g.Elementwise.Where(n => n.Op == IrOps.Dropout))
                {
                    L(4, $"float[]? mask{n.Id} = null;");
                    string draw = reserve ? $"draw{n.Id} = global::Kiln.Compilation.DropoutDraw.Reserve(n, p{n.Id}); " : "";
                    L(4, $"if (drop{n.Id}) {{ {draw}mask{n.Id} = global::System.Buffers.ArrayPool<float>.Shared.Rent(n); draw{n.Id}.Fill(global::System.MemoryExtensions.AsSpan(mask{n.Id}, 0, n)); }}");
                }
            }

            void ReturnMasks(FusionStep g)
            {
                foreach (var n in g.Elementwise.Where(n => n.Op == IrOps.Dropout))
                    L(4, $"if (mask{n.Id} != null) global::System.Buffers.ArrayPool<float>.Shared.Return(mask{n.Id});");
            }

            // The loop over a group's elements, split over Kiln's worker threads: eight lanes at a time where every node has
            // a vector form (decided here, at build time), then a scalar tail.
            void Loop(FusionStep g, string spans, Action<bool> body, string? into = null)
            {
                // Into a named range function (a norm's pass calls it block by block), or over Kiln's threads now.
                L(4, into is null ? "global::Kiln.Threads.For(n, 16384, (s0, s1) =>" : $"{into} = (s0, s1) =>");
                L(4, "{");
                L(5, spans);
                L(5, "int i = (int)s0, end = (int)s1;");
                if (Vectorizable(g))
                {
                    L(5, "for (; i + 8 <= end; i += 8)");
                    L(5, "{");
                    body(true);
                    L(5, "}");
                }
                L(5, "for (; i < end; i++)");
                L(5, "{");
                body(false);
                L(5, "}");
                L(4, into is null ? "});" : "};");
            }
        }

        /// <summary>The range function a norm's pass runs to produce its input block by block (the group before it), if any.</summary>
        static string Produce(FusionStep norm) => norm.Prelude is { } g ? $", rows{g.Output}" : "";

        /// <summary>Whether a fused group reads several values (which may broadcast against each other).</summary>
        static bool Broadcasts(FusionStep g) => g.Producer is null && g.External.Count > 1;

        static string Log(IrNode softmax) => softmax.Attr == "log_softmax" ? "true" : "false";

        static string Scale(FusionStep step) => ScalarCode.Constant(double.Parse(step.PrologueScale, System.Globalization.CultureInfo.InvariantCulture), false);

        static string Ref(FusionStep g, int v) => g.External.Contains(v) && !g.Elementwise.Any(n => n.Id == v) ? $"x{g.External.IndexOf(v)}" : $"a{v}";

        /// <summary>An elementwise node's operands in the op's order: kernel variables for values, a constant for a number operand (null id).</summary>
        static List<(string Expr, int? Value)> Operands(FusionStep g, IrNode n, bool vector)
        {
            var list = n.Inputs.Select(v => (Ref(g, v), (int?)v)).ToList();
            if (n.Op == IrOps.Binary && n.Attr2 is { } c)
            {
                var constant = (ScalarCode.Constant(double.Parse(c, System.Globalization.CultureInfo.InvariantCulture), vector), (int?)null);
                if (IrOps.ConstantFirst(n)) list.Insert(0, constant); else list.Add(constant);
            }
            return list;
        }

        static string Rule(IrNode n) => n.Op == IrOps.Add ? "add" : n.Op == IrOps.Binary ? IrOps.BinaryName(n) : n.Attr!;

        const string View = "global::ILGPU.ArrayView<float>", Index = "global::Kiln.Gpu.GroupIndex";

        /// <summary>The producers whose CUDA form exists (the CUDA backend's kernels behind the same runtime calls).</summary>
        static bool GpuProducer(string op) => op is IrOps.Linear or IrOps.Flatten or IrOps.Softmax or IrOps.CrossEntropy or IrOps.LayerNorm or IrOps.Island
            or IrOps.Conv2d or IrOps.MaxPool2d or IrOps.Embedding;

        /// <summary>Whether dropout node <paramref name="id"/>'s mask is present, on the CPU (an array) or in a GPU kernel (a flag).</summary>
        static string HasMask(int id, bool gpu) => gpu ? $"hasMask{id} != 0" : $"mask{id} != null";

        static string NodeForward(FusionStep g, IrNode n, bool vector, bool gpu = false)
        {
            var ops = Operands(g, n, vector);
            return n.Op switch
            {
                IrOps.Activation => ScalarCode.Forward(n.Attr!, ops[0].Expr, vector, gpu),
                IrOps.Dropout => $"{HasMask(n.Id, gpu)} ? {ops[0].Expr} * {MaskAt(n.Id, vector)} : {ops[0].Expr}",
                IrOps.Add or IrOps.Binary => ScalarCode.BinaryForward(Rule(n), ops[0].Expr, ops[1].Expr, vector, gpu),
                _ => throw new NotSupportedException(n.Op),
            };
        }

        /// <summary>
        /// What each input of an elementwise node receives from the node's gradient <c>g{id}</c>: dropout's mask, or the
        /// registry's rule run over expressions (null where an input gets nothing).
        /// </summary>
        static string?[] NodeGradients(FusionStep g, IrNode n, bool vector, bool gpu = false)
        {
            string gy = $"g{n.Id}";
            if (n.Op == IrOps.Dropout) return new[] { $"{HasMask(n.Id, gpu)} ? {gy} * {MaskAt(n.Id, vector)} : {gy}" };
            var ops = Operands(g, n, vector);
            var all = ScalarCode.Gradients(Rule(n), ops.Select(o => o.Expr).ToArray(), $"a{n.Id}", gy, ops.Select(o => o.Value is not null).ToArray(), vector, gpu);
            var result = new string?[n.Inputs.Count];
            for (int i = 0, t = 0; i < ops.Count; i++)
                if (ops[i].Value is not null) result[t++] = all[i] ?? (vector ? $"{Vec}<float>.Zero" : "0f");
            return result;
        }

        static string MaskAt(int id, bool vector) => vector ? $"{Vec}.Create(new global::System.ReadOnlySpan<float>(mask{id}, i, 8))" : $"mask{id}[i]";

        static bool Vectorizable(FusionStep g)
        {
            try
            {
                foreach (var n in g.Elementwise) { NodeForward(g, n, true); NodeGradients(g, n, true); }
                return true;
            }
            catch (NotSupportedException) { return false; }
        }

        static string Describe(FusionStep g) => string.Join(" → ", g.Elementwise.Select(n => n.Op == IrOps.Dropout ? "dropout" : Rule(n)));

        static string Describe(List<FusionStep> plan) =>
            string.Join(", then ", plan.Select(s => s.Producer is { } p
                ? p.Op switch
                {
                    IrOps.Linear => "GEMM+bias" + (s.Epilogue is null ? "" : "+" + Describe(s.Epilogue).Replace(" → ", "+")),
                    IrOps.Conv2d => "conv2d",
                    IrOps.MaxPool2d => "max pool",
                    IrOps.LayerNorm => "layer norm",
                    IrOps.RmsNorm => "RMS norm",
                    IrOps.BatchNorm => "batch norm",
                    IrOps.Embedding => "embedding lookup",
                    IrOps.Softmax => (p.Attr == "log_softmax" ? "log-softmax" : "softmax") + (s.Prologue is null ? "" : " of x·" + s.PrologueScale),
                    IrOps.CrossEntropy => "log-softmax+NLL",
                    IrOps.SelfAttention => "self-attention",
                    IrOps.Island => "eager " + p.Attr,
                    _ => "flatten",
                } + (p.Member is null ? "" : " (" + p.Member.Replace("global::Kiln.NN.", "") + ")")
                : "one fused loop of " + Describe(s)));
    }
}
