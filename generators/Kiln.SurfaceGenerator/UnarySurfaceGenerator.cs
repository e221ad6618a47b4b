using System;
using System.Linq;
using Kiln.Compiler.Emit;
using Kiln.Compiler.Ops.Pointwise;
using Microsoft.CodeAnalysis;
using static Kiln.SurfaceGenerator.SurfaceNames;

namespace Kiln.SurfaceGenerator;

/// <summary>
/// Writes everything of a one-input op the runtime needs from its one declaration in <see cref="UnaryOps"/>: the kernel
/// struct (double scalar body, Vector256 and Vector512 bodies where every function has a vector form), the Tensor method, the F function,
/// the nn module, and the CUDA op switch with its host-side code lookup. The table is part of Kiln.Compiler (loaded beside
/// this generator), so the output depends on nothing in the compilation: it is written once per build.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class UnarySurfaceGenerator : IIncrementalGenerator
{
    /// <summary>The first CUDA op code of the table's ops (codes below belong to the hand-written cases).</summary>
    public const int FirstGpuCode = 64;

    static readonly string Header = SurfaceNames.Header("UnaryOps");

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context) =>
        context.RegisterPostInitializationOutput(c =>
        {
            c.AddSource("UnaryKernels.g.cs", KernelStructs());
            c.AddSource("Tensor.Unary.g.cs", TensorMethods());
            c.AddSource("F.Unary.g.cs", Functions());
            c.AddSource("Modules.Unary.g.cs", ModuleClasses());
            c.AddSource("GpuUnary.g.cs", GpuSwitch());
            c.AddSource("UnaryGradients.g.cs", GradientKernels());
        });

    /// <summary>The ops whose kernel is generated (the rest run hand-written integer-capable kernels).</summary>
    static UnaryOp[] Generated => UnaryOps.All.Where(o => o.Integers != IntegerInputs.Native).ToArray();

    static string? TryPrint(UnaryOp op, Lanes lanes, bool gpu = false)
    {
        try { return op.Forward(new CSharpScalarAlgebra(lanes, MathClass, gpu), "x"); }
        catch (NotSupportedException) { return null; }
    }

    /// <summary>The derivative as C# over v (the x or y it reads) and g, or null where it reads both or neither or has no form in these lanes.</summary>
    static string? TryPrintGrad(UnaryOp op, Lanes lanes)
    {
        if (op.BackwardReadsInput == op.BackwardReadsOutput) return null;   // reads both, or neither (a constant gradient)
        try { return op.Backward(new CSharpScalarAlgebra(lanes, MathClass, false), "v", "v", "g"); }
        catch (NotSupportedException) { return null; }
    }

    /// <summary>
    /// Each op's derivative as one fused loop over (x or y, grad) — the eager engine's backward without a graph to build
    /// (written op by op over tensors, silu's took five passes) — and the lookup by op name.
    /// </summary>
    static string GradientKernels()
    {
        var w = new IndentedWriter().Line(Header).Line("#nullable enable").Line("namespace Kiln.Kernels.Elementwise").Line("{");
        var fused = Generated.Where(o => TryPrintGrad(o, Lanes.Double) is not null).ToArray();
        foreach (var op in fused)
        {
            string scalar = TryPrintGrad(op, Lanes.Double)!;
            string? vector = TryPrintGrad(op, Lanes.Vector256);
            string? vector512 = TryPrintGrad(op, Lanes.Vector512);
            w.Line($"    /// <summary>The gradient of <c>{op.Name}</c> from {(op.BackwardReadsOutput ? "its output" : "its input")} v and the output's gradient g.</summary>");
            w.Line($"    internal struct {op.KernelStruct}Grad : IFloatGradFunction").Line("    {");
            Bodies(w, new[] { "v", "g" }, scalar, vector, vector512);
            w.Line("    }");
        }
        Lookup(w, "UnaryGradients", "fused gradient loop", fused.Select(o => o.Name).ToArray(),
            "The gradient of <paramref name=\"op\"/> from v (its input or output, as its rule reads) and <paramref name=\"g\"/>, unrecorded.",
            "global::Kiln.Tensor Run(string op, global::Kiln.Tensor v, global::Kiln.Tensor g)",
            name => $"FloatGrad<{UnaryOps.Find(name)!.KernelStruct}Grad>.Run(v, g)");
        return w.ToString();
    }

    /// <summary>
    /// A kernel struct's members over <paramref name="parameters"/>: the double scalar body, then each lane width's flag and
    /// body (a body without a form in those lanes is flagged absent and returns its first parameter, never called).
    /// </summary>
    static void Bodies(IndentedWriter w, string[] parameters, string scalar, string? vector, string? vector512)
    {
        w.Line($"        public double Scalar({string.Join(", ", parameters.Select(p => "double " + p))}) => {scalar};");
        foreach (var (flag, method, type, body) in new[] { ("HasVector", "Vector", "Vector256", vector), ("HasVector512", "Vector512", "Vector512", vector512) })
        {
            string v = $"global::System.Runtime.Intrinsics.{type}<float>";
            w.Line($"        public bool {flag} => {(body is null ? "false" : "true")};");
            w.Line($"        public {v} {method}({string.Join(", ", parameters.Select(p => $"{v} {p}"))}) => {body ?? parameters[0]};");
        }
    }

    static string Doc(UnaryOp op) => $"/// <summary>{op.Summary}</summary>";

    static string KernelStructs()
    {
        var w = new IndentedWriter().Line(Header).Line("#nullable enable").Line("namespace Kiln.Kernels.Elementwise").Line("{");
        foreach (var op in Generated)
        {
            string scalar = TryPrint(op, Lanes.Double) ?? throw new InvalidOperationException($"{op.Name} has no scalar form");
            string? vector = TryPrint(op, Lanes.Vector256);
            string? vector512 = TryPrint(op, Lanes.Vector512);
            w.Line($"    /// <summary><c>{op.Name}</c>: {op.Summary}</summary>");
            w.Line($"    internal struct {op.KernelStruct} : IFloatFunction").Line("    {");
            Bodies(w, new[] { "x" }, scalar, vector, vector512);
            w.Line("    }");
        }
        return w.Line("}").ToString();
    }

    static string Kernel(UnaryOp op) => op.Integers == IntegerInputs.Native
        ? $"MapUnary(\"{op.Name}\", new {Kernels}.{op.RuntimeKernel}(), floating: false)"
        : $"MapUnary(\"{op.Name}\", new {Kernels}.FloatUnary<{Kernels}.{op.KernelStruct}>(), floating: true)";

    static string TensorMethods()
    {
        var w = new IndentedWriter().Line(Header).Line("#nullable enable").Line("namespace Kiln").Line("{");
        w.Line("    public sealed partial class Tensor").Line("    {");
        foreach (var op in UnaryOps.All.Where(o => o.TensorMethod))
        {
            string record = $"Record(\"{op.Name}\", {Kernel(op)}, null, this)";
            w.Line($"        {Doc(op)}");
            w.Line(op.Integers == IntegerInputs.Identity
                ? $"        public Tensor {op.Method}() => DType.IsFloatingPoint() ? {record} : Clone();"
                : $"        public Tensor {op.Method}() => {record};");
        }
        return w.Line("    }").Line("}").ToString();
    }

    static string Functions()
    {
        var w = new IndentedWriter().Line(Header).Line("#nullable enable").Line("namespace Kiln.NN").Line("{");
        w.Line("    public static partial class F").Line("    {");
        foreach (var op in UnaryOps.All.Where(o => o.Functional && o.TensorMethod))
        {
            w.Line($"        {Doc(op)}");
            w.Line($"        public static Tensor {op.Method}(Tensor x) => x.{op.Method}();");
        }
        return w.Line("    }").Line("}").ToString();
    }

    static string ModuleClasses()
    {
        var w = new IndentedWriter().Line(Header).Line("#nullable enable").Line("namespace Kiln.NN").Line("{");
        foreach (var op in UnaryOps.All.Where(o => o.Module is not null && o.TensorMethod))
        {
            w.Line($"    /// <summary>{op.Summary} (<c>nn.{op.Module}</c>)</summary>");
            w.Line($"    public sealed class {op.Module} : Module<Tensor, Tensor>").Line("    {");
            w.Line("        /// <inheritdoc/>");
            w.Line($"        public override Tensor Forward(Tensor input) => input.{op.Method}();");
            w.Line("    }");
        }
        return w.Line("}").ToString();
    }

    static string GpuSwitch()
    {
        var ops = Generated;
        var w = new IndentedWriter().Line(Header).Line("#nullable enable").Line("namespace Kiln.Gpu.Kernels").Line("{");
        w.Line("    /// <summary>The op table's floating functions in a GPU kernel: double, as the CPU's scalar bodies, rounded by the caller.</summary>");
        w.Line("    [global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]");
        w.Line("    public static class TableUnary").Line("    {");
        w.Line($"        /// <summary>The first code of the table's ops.</summary>");
        w.Line($"        public const int First = {FirstGpuCode};");
        w.Line("        /// <summary>Applies table op <paramref name=\"op\"/> (a code from <see cref=\"First\"/> on).</summary>");
        w.Line("        public static double Apply(int op, double x)").Line("        {").Line("            switch (op)").Line("            {");
        for (int i = 0; i < ops.Length; i++)
        {
            string body = TryPrint(ops[i], Lanes.Double, gpu: true) ?? throw new InvalidOperationException($"{ops[i].Name} has no GPU form");
            w.Line($"                case {FirstGpuCode + i}: return {body}; // {ops[i].Name}");
        }
        w.Line("                default: return double.NaN;").Line("            }").Line("        }");
        w.Line("    }").Line("}");
        w.Line("namespace Kiln.Gpu").Line("{");
        w.Line("    /// <summary>The CUDA code of a table op's kernel struct (-1 for the hand-written ones).</summary>");
        w.Line("    internal static class TableUnaryCodes").Line("    {");
        w.Line("        public static int CodeOf<TOp>() where TOp : struct =>");
        for (int i = 0; i < ops.Length; i++)
            w.Line($"            typeof(TOp) == typeof({Kernels}.FloatUnary<{Kernels}.{ops[i].KernelStruct}>) ? {FirstGpuCode + i} :");
        w.Line("            -1;").Line("    }").Line("}");
        return w.ToString();
    }
}
