using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Ir;
using static Kiln.Compiler.Emit.Model.ElementwiseCode;
using static Kiln.Compiler.Emit.Model.LoopEmitter;
using static Kiln.Compiler.Emit.Model.RuntimeNames;

namespace Kiln.Compiler.Emit.Model
{
    /// <summary>
    /// The backward pass of a compiled method, steps in reverse: each runs when its value received a gradient (and, on an
    /// input's own path, only when that input needs one). Producers call their runtime backward; a fused group recomputes
    /// what its derivatives read and applies the op table's rules node by node in one loop (or GPU kernel).
    /// </summary>
    internal static class BackwardEmitter
    {
        /// <summary>Every step of the plan in reverse, into the backward lambda's body.</summary>
        public static void Write(MethodEmission m)
        {
            for (int s = m.Plan.Count - 1; s >= 0; s--)
            {
                var step = m.Plan[s];
                // An ungated epilogue's group runs its own backward first (into the Linear's raw value), then the Linear's.
                if (step.Epilogue is { } e && !step.Gated) Block(m, e.Output, d => Group(m, e, d));
                if (step.Producer is { } p) Block(m, step.Gated ? step.Output : p.Id, d => Producer(m, step, d));
                else Block(m, step.Output, d => Group(m, step, d));
            }
        }

        /// <summary>One step's backward, run when its value received a gradient.</summary>
        static void Block(MethodEmission m, int o, Action<string> body)
        {
            // A step on the input's own path (no parameter before it) only feeds the input's gradient: skipped when it needs none.
            m.Code.Open(m.InputOnly[o] ? $"if (({m.NeedIn(o)}) && gv{o} is {{ }} d{o})" : $"if (gv{o} is {{ }} d{o})");
            body($"d{o}");
            m.Code.Close();
        }

        /// <summary>The gradient of a nullable result added to an input's (the runtime gives null for inputs it was told need none).</summary>
        static void AccumulateIfAny(MethodEmission m, string result, int input)
        {
            m.Code.Line($"if ({result} is not null)");
            m.Code.Nested(() => m.Accumulate(input, result));
        }

        static void Producer(MethodEmission m, FusionStep step, string d)
        {
            var w = m.Code;
            var p = step.Producer!;
            int i = p.Inputs.Count > 0 ? p.Inputs[0] : -1, s = m.Slot.TryGetValue(p.Id, out var first) ? first : -1;
            switch (p.Op)
            {
                case IrOps.Linear when step.Gated:
                {
                    string scale = step.EpilogueDropout is { } dn ? $"{Contract}.DropoutScale(drop{dn.Id}, p{dn.Id})" : "1f";
                    LinearBackward(m, p, s, i, d, $"v{step.Output}!", scale);
                    break;
                }
                case IrOps.Linear:
                    LinearBackward(m, p, s, i, d, "null", "1f");
                    break;
                case IrOps.Conv2d:
                    w.Line($"var r = {Contract}.Conv2dBackward({p.Member}, v{i}!, {d}, {m.NeedIn(i)});");
                    w.Line($"grads[{s}] = r.Weight; grads[{s + 1}] = r.Bias;");
                    AccumulateIfAny(m, "r.Input", i);
                    break;
                case IrOps.MaxPool2d:
                    m.Accumulate(i, $"{Contract}.MaxPool2dBackward({d}, idx{p.Id}!, shape{p.Id}!)");
                    break;
                case IrOps.Flatten:
                    m.Accumulate(i, $"{d}.Reshape(global::System.Linq.Enumerable.ToArray(shape{p.Id}!))");
                    break;
                case IrOps.LayerNorm:
                    w.Line($"var r = {Contract}.LayerNormBackward({p.Member}, v{i}!, mean{p.Id}!, rstd{p.Id}!, {d});");
                    w.Line($"grads[{s}] = r.Weight; grads[{s + 1}] = r.Bias;");
                    m.Accumulate(i, "r.Input");
                    break;
                case IrOps.RmsNorm:
                    w.Line($"var r = {Contract}.RmsNormBackward({p.Member}, v{i}!, rstd{p.Id}!, {d});");
                    w.Line($"grads[{s}] = r.Weight;");
                    m.Accumulate(i, "r.Input");
                    break;
                case IrOps.BatchNorm:
                    w.Line($"var r = {Contract}.BatchNormBackward({p.Member}, v{i}!, mean{p.Id}!, rstd{p.Id}!, batch{p.Id}, {d}, {m.NeedIn(i)});");
                    w.Line($"grads[{s}] = r.Weight; grads[{s + 1}] = r.Bias;");
                    AccumulateIfAny(m, "r.Input", i);
                    break;
                case IrOps.Softmax:
                    m.Accumulate(step.Source, $"{Contract}.SoftmaxBackward(v{p.Id}!, {d}, {p.Attr2}, {GraphEmitter.Log(p)}, {GraphEmitter.Scale(step)})");
                    break;
                case IrOps.CrossEntropy:
                    // The class targets get no gradient.
                    m.Accumulate(i, $"{Contract}.CrossEntropyBackward(v{i}!, v{p.Inputs[1]}!, lse{p.Id}!, count{p.Id}, {d})");
                    break;
                case IrOps.Embedding:
                    // Integer indices get no gradient; only the table does.
                    w.Line($"grads[{s}] = {Contract}.EmbeddingBackward({p.Member}, v{i}!, {d});");
                    break;
                case IrOps.Island:
                    w.Line($"var r = isl{p.Id}!.Backward({d});");
                    if (IrOps.HasParameters(p)) w.Line($"for (int q = 0; q < r.Parameters.Length; q++) grads[is{p.Id} + q] = r.Parameters[q];");
                    for (int k = 0; k < p.Inputs.Count; k++) AccumulateIfAny(m, $"r.Inputs[{k}]", p.Inputs[k]);
                    break;
                case IrOps.SelfAttention:
                    w.Line($"var r = att{p.Id}!.Backward({d}, {m.NeedIn(i)});");
                    w.Line($"grads[{s}] = r.InWeight; grads[{s + 1}] = r.InBias; grads[{s + 2}] = r.OutWeight; grads[{s + 3}] = r.OutBias;");
                    AccumulateIfAny(m, "r.Input", i);
                    break;
            }
        }

        /// <summary>
        /// A Linear's backward (gated by its output when <paramref name="output"/> is not "null"): no weight gradient for a
        /// frozen weight, its low-rank terms' gradients into their listed inputs.
        /// </summary>
        static void LinearBackward(MethodEmission m, Ir.IrNode p, int s, int i, string d, string output, string scale)
        {
            var w = m.Code;
            w.Line($"var r = {Contract}.LinearEpilogueBackward(v{i}!, w{p.Id}, b{p.Id} is not null, {d}, {output}, {scale}, {m.NeedIn(i)}, lora{p.Id}, w{p.Id}.RequiresGrad);");
            w.Line($"grads[{s}] = r.Weight; grads[{s + 1}] = r.Bias;");
            w.Line($"if (lora{p.Id} is not null) for (int q = 0; q < lora{p.Id}.Gradients.Length; q++) grads[loraAt{p.Id} + q] = lora{p.Id}.Gradients[q];");
            AccumulateIfAny(m, "r.Input", i);
        }

        /// <summary>A fused group's backward: its GPU kernel on a CUDA device, its loop on the CPU; broadcast inputs' gradients summed back.</summary>
        static void Group(MethodEmission m, FusionStep g, string d)
        {
            var w = m.Code;
            var ext = g.External;
            w.Line($"var dt = {d}; int n = (int)dt.Numel;");
            if (g.Recomputes) for (int k = 0; k < ext.Count; k++) w.Line(Broadcasts(g) ? $"var e{k} = gb{g.Output}!.Values[{k}];" : $"var e{k} = v{ext[k]}!.Contiguous();");
            for (int k = 0; k < ext.Count; k++) w.Line($"var de{k} = {Tensor}.EmptyLike(dt);");
            Masks(w, g, reserve: false);
            string kernel = $"__Gpu{m.MethodName}_B{g.Output}";
            var args = new List<KernelArgument> { new(View, "ds", "dt") };
            for (int k = 0; k < ext.Count; k++) args.Add(new(View, $"des{k}", $"de{k}"));
            if (g.Recomputes)
                for (int k = 0; k < ext.Count; k++)
                {
                    args.Add(new(View, $"es{k}", $"e{k}"));
                    args.Add(new(Index, $"m{k}", GpuKernelEmitter.IndexOf(g, k)));
                }
            GpuKernelEmitter.Kernel(m, kernel, args, g, k => Body(k, g, false, gpu: true));
            w.Open("if (dt.IsCuda)");
            GpuKernelEmitter.Launch(w, kernel, args, g);
            w.Close();
            w.Open("else");
            string spans = "var ds = dt.AsSpan<float>(); " + string.Concat(ext.Select((_, k) => $"var des{k} = de{k}.AsSpan<float>(); "))
                + (g.Recomputes ? string.Concat(ext.Select((_, k) => $"var es{k} = e{k}.AsSpan<float>(); ")) + Maps(g) : "");
            Loop(w, g, spans, vector => Body(w, g, vector));
            w.Close();
            ReturnMasks(w, g);
            // A broadcast value's gradient is summed back to its shape.
            for (int k = 0; k < ext.Count; k++) m.Accumulate(ext[k], Broadcasts(g) ? $"gb{g.Output}!.SumTo(de{k}, {k})" : $"de{k}");
        }

        /// <summary>One element of a group's backward: recompute what the derivatives read, then each node's rule in reverse.</summary>
        static void Body(IndentedWriter w, FusionStep g, bool vector, bool gpu = false)
        {
            var ext = g.External;
            // The group's values are recomputed (cheaper than storing them) where a derivative reads them.
            if (g.Recomputes) { Loads(w, g, vector, gpu); ForwardValues(w, g, vector, upTo: g.Elementwise.FindLastIndex(FusionStep.ReadsValues), gpu: gpu); }
            w.Line($"var g{g.Output} = {Load(vector, "ds")};");
            var inside = new HashSet<int>(g.Elementwise.Select(n => n.Id));
            var started = new HashSet<int>();
            for (int j = g.Elementwise.Count - 1; j >= 0; j--)
            {
                var n = g.Elementwise[j];
                var contributions = Gradients(g, n, vector, gpu);
                for (int a = 0; a < n.Inputs.Count; a++)
                {
                    if (contributions[a] is not { } contribution) continue;
                    int u = n.Inputs[a], k = ext.IndexOf(u);
                    if (inside.Contains(u)) w.Line($"var g{u} = {contribution};");
                    else w.Line(started.Add(k) ? $"var ge{k} = {contribution};" : $"ge{k} += {contribution};");
                }
            }
            for (int k = 0; k < ext.Count; k++) Store(w, vector, $"des{k}", $"ge{k}");
        }
    }
}
