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
    /// The forward pass of a compiled method, step by step in the plan's order: producers (GEMM, convolution, norms,
    /// softmax, cross-entropy, eager islands) through the runtime contract, a Linear with its activation and dropout in
    /// the GEMM epilogue, and fused groups as one generated loop (or GPU kernel). Each step saves what its backward reads.
    /// </summary>
    internal static class ForwardEmitter
    {
        /// <summary>Every step of the plan, into the forward lambda's body.</summary>
        public static void Write(MethodEmission m)
        {
            var plan = m.Plan;
            for (int k = 0; k < plan.Count; k++)
            {
                var step = plan[k];
                if (step.Epilogue is not null) { Epilogue(m, step); continue; }
                if (step.Producer is not null) { Producer(m, step); continue; }
                // A group feeding a norm is emitted with it (the norm's pass runs the group's loop block by block).
                if (step.RunsInNorm) { Group(m, step, plan[++k]); continue; }
                Group(m, step);
            }
        }

        /// <summary>A Linear with its activation and dropout in the GEMM epilogue (the dropout draw reserved first, as eager does).</summary>
        static void Epilogue(MethodEmission m, FusionStep step)
        {
            var w = m.Code;
            var p = step.Producer!;
            var g = step.Epilogue!;
            string x = $"v{p.Inputs[0]}!";
            bool keep = !step.Gated && g.Recomputes;
            string activation = step.EpilogueActivation switch { "relu" => "Relu", "gelu" => "Gelu", "gelu_tanh" => "GeluTanh", _ => "None" };
            string mask = step.EpilogueDropout is { } dn ? $"mask{dn.Id}" : "null";
            w.Open();
            w.Line($"ctx.Save({x});");
            w.Line($"int n = {Contract}.LinearOutputCount({x}, w{p.Id});");
            Masks(w, g, reserve: true);
            w.Line($"var fl = {Contract}.LinearEpilogue(ctx, {x}, w{p.Id}, b{p.Id}, global::Kiln.Kernels.Gemm.GemmActivation.{activation}, {mask}, {(keep ? "true" : "false")}, lora{p.Id});");
            if (keep) w.Line($"v{p.Id} = ctx.Save(fl.PreActivation!);");
            w.Line($"v{g.Output} = {(step.Gated ? "ctx.Save(fl.Output)" : "fl.Output")};");
            ReturnMasks(w, g);
            w.Close();
        }

        /// <summary>A producer step through its runtime call.</summary>
        static void Producer(MethodEmission m, FusionStep step)
        {
            var w = m.Code;
            var p = step.Producer!;
            string x = p.Inputs.Count > 0 ? $"v{step.Source}!" : "";
            switch (p.Op)
            {
                case IrOps.Linear:
                    w.Line($"ctx.Save({x});");
                    w.Line($"v{p.Id} = lora{p.Id} is null ? global::Kiln.NN.F.Linear({x}, w{p.Id}, b{p.Id}) : {Contract}.LinearEpilogue(ctx, {x}, w{p.Id}, b{p.Id}, global::Kiln.Kernels.Gemm.GemmActivation.None, null, false, lora{p.Id}).Output;");
                    break;
                case IrOps.Conv2d:
                    w.Line($"ctx.Save({x});");
                    w.Line($"v{p.Id} = {p.Member}.Forward({x});");
                    break;
                case IrOps.MaxPool2d:
                    w.Line($"shape{p.Id} = {x}.Shape;");
                    w.Line($"var pooled{p.Id} = {p.Member}.ForwardWithIndices({x});");
                    w.Line($"idx{p.Id} = ctx.Save(pooled{p.Id}.Indices);");
                    w.Line($"v{p.Id} = pooled{p.Id}.Values;");
                    break;
                case IrOps.Flatten:
                    w.Line($"shape{p.Id} = {x}.Shape;");
                    w.Line($"v{p.Id} = {x}.Flatten({p.Attr});");
                    break;
                case IrOps.LayerNorm:
                    w.Line($"ctx.Save({x});");
                    w.Line($"var ln{p.Id} = {Contract}.LayerNorm({p.Member}, {x}{Produce(step)});");
                    w.Line($"mean{p.Id} = ctx.Save(ln{p.Id}.Mean); rstd{p.Id} = ctx.Save(ln{p.Id}.Rstd);");
                    w.Line($"v{p.Id} = ln{p.Id}.Output;");
                    break;
                case IrOps.RmsNorm:
                    w.Line($"ctx.Save({x});");
                    w.Line($"var rms{p.Id} = {Contract}.RmsNorm({p.Member}, {x}{Produce(step)});");
                    w.Line($"rstd{p.Id} = ctx.Save(rms{p.Id}.Rstd);");
                    w.Line($"v{p.Id} = rms{p.Id}.Output;");
                    break;
                case IrOps.BatchNorm:
                    w.Line($"ctx.Save({x});");
                    w.Line($"var bn{p.Id} = {Contract}.BatchNorm({p.Member}, {x});");
                    w.Line($"mean{p.Id} = ctx.Save(bn{p.Id}.Mean); rstd{p.Id} = ctx.Save(bn{p.Id}.Rstd); batch{p.Id} = bn{p.Id}.BatchStatistics;");
                    w.Line($"v{p.Id} = bn{p.Id}.Output;");
                    break;
                case IrOps.Softmax:
                    w.Line($"v{p.Id} = ctx.Save({Contract}.Softmax({x}, {p.Attr2}, {GraphEmitter.Log(p)}, {GraphEmitter.Scale(step)}));");
                    break;
                case IrOps.CrossEntropy:
                    w.Line($"ctx.Save({x});");
                    w.Line($"var ce{p.Id} = {Contract}.CrossEntropy({x}, v{p.Inputs[1]}!);");
                    w.Line($"lse{p.Id} = ctx.Save(ce{p.Id}.Lse); count{p.Id} = ce{p.Id}.Count;");
                    w.Line($"v{p.Id} = ce{p.Id}.Loss;");
                    break;
                case IrOps.Embedding:
                    w.Line($"ctx.Save({x});");
                    w.Line($"v{p.Id} = {Contract}.Embedding({p.Member}, {x});");
                    break;
                case IrOps.SelfAttention:
                    w.Line($"att{p.Id} = {Contract}.SelfAttention(ctx, {p.Member}, {x});");
                    w.Line($"v{p.Id} = att{p.Id}.Output;");
                    break;
                case IrOps.Island:
                {
                    // A layer's call, or the expression's text with its values as t[0], t[1], ...
                    string body = p.Attr2 is null ? $"{p.Member}.{p.Attr}(t[0])" : IrOps.FillTemplate(p.Attr2, p.Inputs.Count, k => $"t[{k}]");
                    string values = string.Join(", ", p.Inputs.Select(i => $"v{i}!"));
                    string valueArray = p.Inputs.Count == 0 ? $"global::System.Array.Empty<{Tensor}>()" : $"new {Tensor}[] {{ {values} }}";
                    string needs = string.Join(", ", p.Inputs.Select(m.NeedIn));
                    w.Line($"isl{p.Id} = {Contract}.RunIsland(ip{p.Id}, t => {body}, {valueArray}, new bool[] {{ {needs} }});");
                    w.Line($"v{p.Id} = isl{p.Id}.Output;");
                    break;
                }
                default: throw new NotSupportedException("no producer form for " + p.Op);
            }
        }

        /// <summary>The range function a norm's pass runs to produce its input block by block (the group before it), if any.</summary>
        static string Produce(FusionStep norm) => norm.Prelude is { } g ? $", rows{g.Output}" : "";

        /// <summary>A fused group: its generated GPU kernel on a CUDA device, its loop on the CPU.</summary>
        static void Group(MethodEmission m, FusionStep g, FusionStep? norm = null)
        {
            var w = m.Code;
            var ext = g.External;
            w.Open();
            if (Broadcasts(g))
            {
                w.Line($"var values = new {Tensor}[] {{ {string.Join(", ", ext.Select(v => $"v{v}!.Contiguous()"))} }};");
                w.Line($"var gb = gb{g.Output} = {Contract}.PlanBroadcast(\"{Describe(g)}\", values);");
                for (int k = 0; k < ext.Count; k++) w.Line($"var e{k} = {(g.Recomputes ? "ctx.Save(" : "")}values[{k}]{(g.Recomputes ? ")" : "")};");
                w.Line($"var ot = {Tensor}.Empty(gb.Shape, global::Kiln.DType.Float32, values[0].Device); int n = (int)ot.Numel;");
            }
            else
            {
                w.Line($"var e0 = {(g.Recomputes ? "ctx.Save(" : "")}v{ext[0]}!.Contiguous(){(g.Recomputes ? ")" : "")};");
                w.Line($"var ot = {Tensor}.EmptyLike(e0); int n = (int)ot.Numel;");
            }
            Masks(w, g, reserve: true);
            string? into = norm is null ? null : $"rows{g.Output}";
            if (into is not null) w.Line($"global::System.Action<long, long>? {into} = null;");
            string kernel = $"__Gpu{m.MethodName}_F{g.Output}";
            var args = new List<KernelArgument> { new(View, "os", "ot") };
            for (int k = 0; k < ext.Count; k++)
            {
                args.Add(new(View, $"es{k}", $"e{k}"));
                args.Add(new(Index, $"m{k}", GpuKernelEmitter.IndexOf(g, k)));
            }
            GpuKernelEmitter.Kernel(m, kernel, args, g, k =>
            {
                Loads(k, g, false, gpu: true);
                ForwardValues(k, g, false, gpu: true);
                k.Line($"os[i] = a{g.Output};");
            });
            w.Open("if (ot.IsCuda)");
            GpuKernelEmitter.Launch(w, kernel, args, g);
            w.Close();
            w.Open("else");
            Loop(w, g, string.Concat(ext.Select((_, k) => $"var es{k} = e{k}.AsSpan<float>(); ")) + Maps(g) + "var os = ot.AsSpan<float>();", vector =>
            {
                Loads(w, g, vector);
                ForwardValues(w, g, vector);
                Store(w, vector, "os", $"a{g.Output}");
            }, into);
            w.Close();
            w.Line($"v{g.Output} = ot;");
            if (norm is not null) Producer(m, norm);
            ReturnMasks(w, g);
            w.Close();
        }
    }
}
