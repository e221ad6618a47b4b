using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Ir;
using static Kiln.Compiler.Emit.Model.RuntimeNames;

namespace Kiln.Compiler.Emit.Model
{
    /// <summary>One kernel argument: its type in the kernel, its name there, and the host value passed for it.</summary>
    internal readonly record struct KernelArgument(string Type, string Name, string Value);

    /// <summary>
    /// A fused group on a CUDA device: a <c>[GpuKernel]</c> method of the Compiled class whose body is the loop's scalar
    /// body for element i, its launcher delegate type and its MethodInfo (Kiln's build step compiles it to PTX with
    /// Kiln's own kernels), and the launch in the method.
    /// </summary>
    internal static class GpuKernelEmitter
    {
        /// <summary>Writes kernel <paramref name="name"/> into the Compiled class's kernels; <paramref name="body"/> writes element i.</summary>
        public static void Kernel(MethodEmission m, string name, List<KernelArgument> args, FusionStep g, Action<IndentedWriter> body)
        {
            var k = m.Kernels;
            k.Line();
            k.Line($"internal delegate void {name}_Launch(global::ILGPU.Runtime.AcceleratorStream stream, global::ILGPU.Index1D index, {Parameters(args, g)});");
            k.Line($"static readonly global::System.Reflection.MethodInfo {name}_Method = typeof(Compiled).GetMethod(\"{name}\", global::System.Reflection.BindingFlags.NonPublic | global::System.Reflection.BindingFlags.Static)!;");
            k.Line("[global::Kiln.Gpu.GpuKernel]");
            k.Open($"static void {name}(global::ILGPU.Index1D index, {Parameters(args, g)})");
            k.Line("int i = index;");
            body(k);
            k.Close();
        }

        /// <summary>Launches kernel <paramref name="name"/> over n elements on the stream of the first argument's device.</summary>
        public static void Launch(IndentedWriter w, string name, List<KernelArgument> args, FusionStep g)
        {
            var masks = Masks(g);
            foreach (var n in masks) w.Line($"using var dmask{n.Id} = {Contract}.GpuUpload(mask{n.Id}, {args[0].Value});");
            var values = args.Select(a => a.Type == View ? $"{Contract}.GpuView({a.Value})" : a.Value)
                .Concat(masks.SelectMany(n => new[] { $"dmask{n.Id} is null ? {Contract}.GpuNone : {Contract}.GpuView(dmask{n.Id})", $"dmask{n.Id} is null ? 0 : 1" }));
            w.Line($"{Contract}.GpuLauncher<{name}_Launch>({args[0].Value}, {name}_Method)({Contract}.GpuStream({args[0].Value}), n, {string.Join(", ", values)});");
        }

        /// <summary>The broadcast map argument of input k of a group.</summary>
        public static string IndexOf(FusionStep g, int k) =>
            ElementwiseCode.Broadcasts(g) ? $"{Contract}.GpuIndex(gb{g.Output}!.Maps[{k}])" : $"{Contract}.GpuIdentity";

        static List<IrNode> Masks(FusionStep g) => g.Elementwise.Where(n => n.Op == IrOps.Dropout).ToList();

        static string Parameters(List<KernelArgument> args, FusionStep g) =>
            string.Join(", ", args.Select(a => $"{a.Type} {a.Name}").Concat(Masks(g).SelectMany(n => new[] { $"{View} mask{n.Id}", $"int hasMask{n.Id}" })));
    }
}
