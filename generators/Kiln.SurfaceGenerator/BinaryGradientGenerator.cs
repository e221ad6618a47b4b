using System;
using System.Linq;
using Kiln.Compiler.Emit;
using Kiln.Compiler.Ops.Pointwise;
using Microsoft.CodeAnalysis;
using static Kiln.SurfaceGenerator.SurfaceNames;

namespace Kiln.SurfaceGenerator;

/// <summary>
/// Writes each two-input op's pair of gradients, from its one declaration in <see cref="BinaryOps"/>, as one fused loop
/// over (a, b, y, grad) producing both — the eager engine's backward where no graph is built (swiglu's rules took nine
/// passes over its operands). Ops whose gradient is the incoming one itself (add, sub, remainder) get none: their
/// rule is no pass at all.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class BinaryGradientGenerator : IIncrementalGenerator
{
    static readonly string Header = SurfaceNames.Header("BinaryOps");

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context) =>
        context.RegisterPostInitializationOutput(c => c.AddSource("BinaryGradients.g.cs", GradientKernels()));

    /// <summary>The gradient of input <paramref name="input"/> (0: a, 1: b) as C#, or null where it has no form in these lanes.</summary>
    static string? Print(BinaryOp op, int input, Lanes lanes)
    {
        try
        {
            var g = new CSharpScalarAlgebra(lanes, MathClass);
            return input == 0 ? op.GradA(g, "a", "b", "y", "g") : op.GradB(g, "a", "b", "y", "g");
        }
        catch (NotSupportedException) { return null; }
    }

    /// <summary>Whether both gradients read an operand (not the incoming gradient alone): only then is a pass saved.</summary>
    static bool Computes(BinaryOp op) => Reads(op.Reads(0)) && Reads(op.Reads(1));

    static bool Reads((bool A, bool B, bool Y) r) => r.A || r.B || r.Y;

    static string StructName(BinaryOp op) => char.ToUpperInvariant(op.Name[0]) + op.Name.Substring(1) + "Grads";

    static string GradientKernels()
    {
        var w = new IndentedWriter().Line(Header).Line("#nullable enable").Line("namespace Kiln.Kernels.Elementwise").Line("{");
        var fused = BinaryOps.All.Where(Computes).ToArray();
        foreach (var op in fused)
        {
            w.Line($"    /// <summary>Both gradients of <c>{op.Name}</c> from its operands a, b, its output y and the output's gradient g.</summary>");
            w.Line($"    internal struct {StructName(op)} : IFloatGradPair").Line("    {");
            w.Line($"        public void Scalar(double a, double b, double y, double g, out double ga, out double gb) {{ ga = {Print(op, 0, Lanes.Double)}; gb = {Print(op, 1, Lanes.Double)}; }}");
            Vector(w, op, Lanes.Vector256, "HasVector", "Vector", "Vector256");
            Vector(w, op, Lanes.Vector512, "HasVector512", "Vector512", "Vector512");
            w.Line("    }");
        }
        Lookup(w, "BinaryGradients", "fused gradient pair", fused.Select(o => o.Name).ToArray(),
            "The gradients of <paramref name=\"op\"/>'s inputs (the needed ones; the others null), unrecorded.",
            "global::Kiln.Tensor?[] Run(string op, global::Kiln.Tensor? a, global::Kiln.Tensor? b, global::Kiln.Tensor? y, global::Kiln.Tensor g, bool needA, bool needB)",
            name => $"{Kernels}.GradPairLoop.Run<{StructName(BinaryOps.Find(name)!)}>(a, b, y, g, needA, needB)");
        return w.ToString();
    }

    /// <summary>A vector body (both gradients in <paramref name="lanes"/>), or a placeholder flagged absent.</summary>
    static void Vector(IndentedWriter w, BinaryOp op, Lanes lanes, string flag, string method, string type)
    {
        string? ga = Print(op, 0, lanes), gb = Print(op, 1, lanes);
        string v = $"global::System.Runtime.Intrinsics.{type}<float>";
        bool has = ga is not null && gb is not null;
        w.Line($"        public bool {flag} => {(has ? "true" : "false")};");
        w.Line($"        public void {method}({v} a, {v} b, {v} y, {v} g, out {v} ga, out {v} gb) {{ ga = {(has ? ga : "g")}; gb = {(has ? gb : "g")}; }}");
    }
}
