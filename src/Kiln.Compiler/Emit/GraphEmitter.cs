using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Emit.Model;
using Kiln.Compiler.Ir;
using static Kiln.Compiler.Emit.Model.RuntimeNames;

namespace Kiln.Compiler.Emit
{
    /// <summary>
    /// Writes the compiled form of a forward graph as C#: the <c>Compiled</c> class and, per graph, one method made of
    /// the guard (<see cref="GuardEmitter"/>), the forward (<see cref="ForwardEmitter"/>: producers through the runtime
    /// contract, fused elementwise groups as one generated loop, eight lanes at a time plus a scalar tail, split over
    /// Kiln's worker threads), the backward (<see cref="BackwardEmitter"/>: reverse-mode over the plan, gradients
    /// accumulated where a value has several readers, each elementwise derivative from the op table's rules) and the GPU
    /// kernels of the fused groups (<see cref="GpuKernelEmitter"/>). Forward keeps only what backward reads: producers'
    /// inputs and statistics, and a group's external values only when a derivative needs them; dropout masks are
    /// regenerated from their counter-based draw. The whole forward is one autograd node (<c>Autograd.Function</c>).
    /// </summary>
    public static class GraphEmitter
    {
        /// <summary>The compiled Forward's name for input <paramref name="k"/> (names that cannot meet the kernels' locals).</summary>
        internal static string InputName(int k) => k == 0 ? "x" : "input" + k.ToString(System.Globalization.CultureInfo.InvariantCulture);

        static string Signature(IrGraph graph) => string.Join(", ", graph.InputValues.Select((v, k) =>
            IrGraph.IsOptional(graph.Nodes[v]) ? $"{Tensor}? {InputName(k)} = null" : IrGraph.IsNullable(graph.Nodes[v]) ? $"{Tensor}? {InputName(k)}" : $"{Tensor} {InputName(k)}"));

        static string Arguments(IrGraph graph) => string.Join(", ", graph.InputValues.Select((_, k) => InputName(k)));

        /// <summary>The members to add to the model's partial class: <c>Compile()</c> and the nested <c>Compiled</c> class.</summary>
        public static string Emit(string modelName, string nodeName, IrGraph graph, string indent, IrGraph? evalGraph = null, IrGraph? nullGraph = null,
            IrGraph? nullEvalGraph = null)
        {
            // A Forward that branches on Training has its null-inputs graph per mode, or none.
            if (evalGraph is not null && nullEvalGraph is null) nullGraph = null;
            var w = new IndentedWriter(indent);
            string description = evalGraph is null ? Describe(FusionPlanner.Plan(graph))
                : "in training, " + Describe(FusionPlanner.Plan(graph)) + "; in eval, " + Describe(FusionPlanner.Plan(evalGraph));
            if (nullGraph is not null) description += "; called without its optional inputs, " + Describe(FusionPlanner.Plan(nullGraph))
                + (evalGraph is null ? "" : " in training, " + Describe(FusionPlanner.Plan(nullEvalGraph!)) + " in eval");
            w.Line("/// <summary>The model with its generated fused kernels (<c>torch.compile</c>); parameters and modes are shared with this instance.</summary>");
            w.Line("public Compiled Compile(global::Kiln.Compilation.CompileMode mode = global::Kiln.Compilation.CompileMode.Default) => new Compiled(this, mode);");
            w.Line();
            w.Line("/// <summary>" + modelName + " run by its generated kernels: " + description + ".</summary>");
            w.Open("public sealed class Compiled");
            w.Line("readonly " + modelName + " _model;");
            w.Open("internal Compiled(" + modelName + " model, global::Kiln.Compilation.CompileMode mode)");
            w.Line("_model = model; Mode = mode;");
            w.Line("if (mode == global::Kiln.Compilation.CompileMode.ReduceOverhead) Pool = new global::Kiln.Memory.MemoryPool();");
            w.Close();
            w.Line("/// <summary>The eager model whose parameters this one uses.</summary>");
            w.Line("public " + modelName + " Model => _model;");
            w.Line("/// <summary>The compile mode.</summary>");
            w.Line("public global::Kiln.Compilation.CompileMode Mode { get; }");
            w.Line("/// <summary>The memory the compiled kernels' tensors are reserved in (ReduceOverhead), or null.</summary>");
            w.Line("public global::Kiln.Memory.MemoryPool? Pool { get; }");
            w.Line();
            var kernels = new IndentedWriter(indent, 1);
            if (nullGraph is not null)
            {
                // Trailing Tensor? arguments all null: the graph read without them (a null mask: the causal kernel); per
                // mode when Forward branches on Training.
                int with = graph.InputValues.Count, without = nullGraph.InputValues.Count;
                string absent = string.Join(" && ", Enumerable.Range(without, with - without).Select(k => InputName(k) + " is null"));
                string withCall = evalGraph is null ? $"ForwardWith({Arguments(graph)})"
                    : $"(_model.Training ? ForwardTrainingWith({Arguments(graph)}) : ForwardEvalWith({Arguments(graph)}))";
                string withoutCall = evalGraph is null ? $"ForwardWithout({Arguments(nullGraph)})"
                    : $"(_model.Training ? ForwardTrainingWithout({Arguments(nullGraph)}) : ForwardEvalWithout({Arguments(nullGraph)}))";
                w.Line($"/// <summary>The model's Forward, compiled (one graph for calls with the optional inputs, one for calls without them{(evalGraph is null ? "" : ", each per mode")}).</summary>");
                w.Line($"public {Tensor} Forward({Signature(graph)}) => {absent} ? {withoutCall} : {withCall};");
                var methods = evalGraph is null
                    ? new[] { ("ForwardWith", graph, 0), ("ForwardWithout", nullGraph, with - without) }
                    : new[] { ("ForwardTrainingWith", graph, 0), ("ForwardTrainingWithout", nullGraph, with - without), ("ForwardEvalWith", evalGraph, 0), ("ForwardEvalWithout", nullEvalGraph!, with - without) };
                foreach (var (name, g, absentCount) in methods)
                {
                    w.Line();
                    Method(new MethodEmission(modelName, nodeName, name, g, w, kernels) { Absent = absentCount }, "");
                }
            }
            else if (evalGraph is null) Method(new MethodEmission(modelName, nodeName, "Forward", graph, w, kernels), "public");
            else
            {
                // Forward branches on Training: one compiled graph per mode.
                w.Line($"/// <summary>The model's Forward, compiled (one graph for training, one for eval, as Forward branches on Training).</summary>");
                w.Line($"public {Tensor} Forward({Signature(graph)}) => _model.Training ? ForwardTraining({Arguments(graph)}) : ForwardEval({Arguments(graph)});");
                w.Line();
                Method(new MethodEmission(modelName, nodeName, "ForwardTraining", graph, w, kernels), "");
                w.Line();
                Method(new MethodEmission(modelName, nodeName, "ForwardEval", evalGraph, w, kernels), "");
            }
            w.Append(kernels);
            w.Close();
            return w.ToString();
        }

        /// <summary>One compiled Forward method: guard, parameters and saved-value slots, then the autograd node with its forward and backward.</summary>
        static void Method(MethodEmission m, string visibility)
        {
            var w = m.Code;
            var graph = m.Graph;
            var plan = m.Plan;
            var inputValues = m.InputValues;
            int rank = GuardEmitter.Rank(graph, 0);
            w.Line($"/// <summary>The model's Forward, compiled; an input that is not a {(rank == 0 ? "" : rank + "-D ")}float32 tensor, or a layer configured outside the compiled form, runs the eager Forward.</summary>");
            w.Open($"{(visibility.Length == 0 ? "" : visibility + " ")}{Tensor} {m.MethodName}({Signature(graph)})");
            w.Line("var m = _model;");
            w.Line($"if ({GuardEmitter.Condition(m)}) return m.Forward({Arguments(graph)}{string.Concat(Enumerable.Repeat(", null", m.Absent))});");

            // Parameters, in the order the node lists its inputs; each producer's first slot.
            var inputs = inputValues.Select((_, k) => InputName(k)).ToList();
            foreach (var n in graph.Nodes)
            {
                var names = n.Op switch
                {
                    IrOps.Linear when n.Attr == IrOps.WeightInOut => new[] { ($"w{n.Id}", $"{Contract}.LinearWeight({n.Member})"), ($"b{n.Id}", $"{n.Member}.Bias") },
                    IrOps.Linear or IrOps.Conv2d => new[] { ($"w{n.Id}", $"{n.Member}.Weight"), ($"b{n.Id}", $"{n.Member}.Bias") },
                    IrOps.LayerNorm or IrOps.BatchNorm => new[] { ($"w{n.Id}", $"{n.Member}.Weight"), ($"b{n.Id}", $"{n.Member}.Bias") },
                    IrOps.RmsNorm or IrOps.Embedding => new[] { ($"w{n.Id}", $"{n.Member}.Weight") },
                    IrOps.SelfAttention => new[] { ($"wi{n.Id}", $"{n.Member}.InProjWeight!"), ($"bi{n.Id}", $"{n.Member}.InProjBias"),
                        ($"wo{n.Id}", $"{n.Member}.OutProj.Weight"), ($"bo{n.Id}", $"{n.Member}.OutProj.Bias") },
                    _ => Array.Empty<(string, string)>(),
                };
                if (names.Length == 0) continue;
                m.Slot[n.Id] = inputs.Count;
                foreach (var (name, value) in names) { w.Line($"var {name} = {value};"); inputs.Add(name); }
            }
            // A Linear's low-rank terms (LoRA adapters) are found now and listed after the fixed parameters.
            var linears = graph.Nodes.Where(n => n.Op == IrOps.Linear).ToList();
            foreach (var n in linears) w.Line($"var lora{n.Id} = {Contract}.LowRank({n.Member});");
            // Eager islands' parameters are found now and listed after the fixed ones.
            foreach (var n in m.Islands)
                w.Line(n.Member is not null ? $"var ip{n.Id} = {Contract}.IslandParameters({n.Member});"
                    : $"var ip{n.Id} = {Contract}.IslandParameters({string.Join(", ", n.Parameters)});");
            // An expression island over values only has no parameters of its own.
            foreach (var n in graph.Nodes.Where(n => n.Op == IrOps.Island && !IrOps.HasParameters(n))) w.Line($"var ip{n.Id} = global::System.Array.Empty<{Tensor}>();");
            string inputList = $"new {Tensor}?[] {{ {string.Join(", ", inputs)} }}";
            bool listed = m.Islands.Count > 0 || linears.Count > 0;
            if (listed)
            {
                w.Line($"var inputs = new global::System.Collections.Generic.List<{Tensor}?> {{ {string.Join(", ", inputs)} }};");
                foreach (var n in linears) w.Line($"int loraAt{n.Id} = inputs.Count; inputs.AddRange({Contract}.LowRankTensors(lora{n.Id}));");
                foreach (var n in m.Islands) w.Line($"int is{n.Id} = inputs.Count; inputs.AddRange(ip{n.Id});");
                inputList = "inputs";
            }
            // Dropout decisions are taken now; the draws are reserved as each group runs, in Forward's order.
            foreach (var n in graph.Nodes.Where(n => n.Op == IrOps.Dropout))
                w.Line($"double p{n.Id} = {n.Attr}; bool drop{n.Id} = ({n.Attr2}) && p{n.Id} > 0; global::Kiln.Compilation.DropoutDraw draw{n.Id} = default;");
            // Values that live in memory: the input and each step's output (a group's inner values stay in registers).
            // A Linear with an epilogue names its raw value where the epilogue's group reads it back (a kept pre-activation)
            // and its gradient where the group's backward runs on its own (not gated).
            var materialized = inputValues.Concat(plan.SelectMany(p => p.Epilogue is null || p.Gated ? new[] { p.Output } : new[] { p.Producer!.Id, p.Output })).ToList();
            var held = materialized.Where(v => !plan.Any(p => p.Epilogue is { } e && p.Producer!.Id == v && !e.Recomputes)).ToList();
            w.Line($"{Tensor}? {string.Join(", ", held.Select(v => $"v{v} = null"))};");
            foreach (var n in graph.Nodes)
                switch (n.Op)
                {
                    case IrOps.MaxPool2d: w.Line($"{Tensor}? idx{n.Id} = null; global::System.Collections.Generic.IReadOnlyList<int>? shape{n.Id} = null;"); break;
                    case IrOps.Flatten: w.Line($"global::System.Collections.Generic.IReadOnlyList<int>? shape{n.Id} = null;"); break;
                    case IrOps.LayerNorm: w.Line($"{Tensor}? mean{n.Id} = null, rstd{n.Id} = null;"); break;
                    case IrOps.RmsNorm: w.Line($"{Tensor}? rstd{n.Id} = null;"); break;
                    case IrOps.CrossEntropy: w.Line($"{Tensor}? lse{n.Id} = null; long count{n.Id} = 0;"); break;
                    case IrOps.BatchNorm: w.Line($"{Tensor}? mean{n.Id} = null, rstd{n.Id} = null; bool batch{n.Id} = false;"); break;
                    case IrOps.SelfAttention: w.Line($"{Attention}? att{n.Id} = null;"); break;
                    case IrOps.Island: w.Line($"global::Kiln.Compilation.EagerIsland? isl{n.Id} = null;"); break;
                }
            // Groups over several values broadcast them together (planned when the group runs).
            foreach (var g in plan.Where(ElementwiseCode.Broadcasts)) w.Line($"global::Kiln.Compilation.GroupBroadcast? gb{g.Output} = null;");
            for (int k = 0; k < inputValues.Count; k++) w.Line($"bool need{k} = {InputName(k)}.RequiresGrad;");

            string tuning = $"using var tuning = {Contract}.EnterTuning(Mode, \"{m.ModelName}\"); using var reserved = {Contract}.UsePool(Pool);";
            w.Open($"return global::Kiln.Autograd.Function(\"{m.NodeName}\", {inputList}, forward: ctx =>");
            w.Line(tuning);
            for (int k = 0; k < inputValues.Count; k++)
                w.Line(GuardEmitter.ReadAsIndices(graph, k) ? $"v{inputValues[k]} = {InputName(k)};" : $"v{inputValues[k]} = {InputName(k)}.Contiguous();");
            ForwardEmitter.Write(m);
            // What leaves the compiled node is never a block of the ReduceOverhead pool (only temporaries stay there).
            w.Line($"return {Contract}.OutsidePool(Pool, v{graph.Output})!;");
            w.Close(",");
            w.Open("backward: grad =>");
            w.Line(tuning);
            w.Line("if (global::Kiln.Autograd.IsGradEnabled) throw new global::Kiln.KilnException(\"compile\", \"" + m.ModelName + ".Compiled: double backward (createGraph: true) is not supported by compiled kernels; differentiate the eager model\");");
            w.Line($"var grads = new {Tensor}?[{(listed ? "inputs.Count" : inputs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))}];");
            w.Line($"{Tensor}? {string.Join(", ", materialized.Select(v => $"gv{v} = null"))};");
            w.Line($"gv{graph.Output} = grad.Contiguous();");
            BackwardEmitter.Write(m);
            for (int k = 0; k < inputValues.Count; k++) w.Line($"grads[{k}] = gv{inputValues[k]};");
            w.Line($"if (Pool is not null) for (int q = 0; q < grads.Length; q++) grads[q] = {Contract}.OutsidePool(Pool, grads[q]);");
            w.Line("return grads;");
            w.Close(");");
            w.Close();
        }

        internal static string Log(IrNode softmax) => softmax.Attr == "log_softmax" ? "true" : "false";

        internal static string Scale(FusionStep step) => ScalarCode.Constant(double.Parse(step.PrologueScale, System.Globalization.CultureInfo.InvariantCulture), false);

        static string Describe(List<FusionStep> plan) =>
            string.Join(", then ", plan.Select(s => s.Producer is { } p
                ? p.Op switch
                {
                    IrOps.Linear => "GEMM+bias" + (s.Epilogue is null ? "" : "+" + ElementwiseCode.Describe(s.Epilogue).Replace(" → ", "+")),
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
                : "one fused loop of " + ElementwiseCode.Describe(s)));
    }
}
