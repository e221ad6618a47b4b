using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Analyzers.FrontEnd;
using Kiln.Compiler.Ir;
using Kiln.Generators;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// The one front end: <see cref="ForwardReader"/> reads a Forward into values once; the shape checker and the graph
/// lowering are passes over what it read. These tests look at the IR itself and at both passes over the same IR.
/// </summary>
public class FrontEndTests
{
    const string Source = """
        using Kiln;
        using Kiln.NN;

        [Model]
        public partial class Branchy : Module
        {
            readonly Linear a = new(8, 8), b = new(8, 4);
            readonly Dropout drop = new(0.3);
            public double P { get; set; } = 0.1;
            public Tensor Forward([Shape("N 8")] Tensor x)
            {
                var h = F.Relu(a.Forward(x));
                if (Training) h = drop.Forward(h);
                h = F.Dropout(h, 0.1, Training);
                return b.Forward(Training ? h.Sigmoid() : h);
            }
        }

        [Model]
        public partial class Lazy : Module
        {
            readonly Linear a = new(8, 8);
            public double P { get; set; } = 0.1;
            public Tensor Forward([Shape("N 8")] Tensor x) => a.Forward(F.Dropout(x, P, Training));
        }

        [Model]
        public partial class Stack : Module
        {
            readonly Sequential body = new(new Linear(6, 6), new ReLU(), new Linear(6, 3));
            public Tensor Forward([Shape("N 6")] Tensor x) => body.Forward(x);
        }

        [Model]
        public partial class Odd : Module
        {
            readonly Linear inner = new(4, 4);
            public Tensor Forward(Tensor x)
            {
                var h = inner.Forward(x);
                System.Console.WriteLine(h);
                return h;
            }
        }

        [Model]
        public partial class Encoder : Module
        {
            readonly TransformerEncoderLayer layer = new(16, 2, 32, 0.0, activation: "gelu", batchFirst: true, normFirst: true);
            public Tensor Forward([Shape("N L 16")] Tensor x) => layer.Forward(x);
        }

        [Model]
        public partial class Scoped : Module
        {
            readonly Linear a = new(8, 8), b = new(8, 4);
            public Tensor Forward([Shape("N 8")] Tensor x)
            {
                using var scope = Tensor.Scope();
                var h = F.Relu(a.Forward(x));
                return scope.Keep(b.Forward(h));
            }
        }

        [Model]
        public partial class Outer : Module
        {
            readonly Odd block = new();
            readonly Linear head = new(4, 2);
            public Tensor Forward([Shape("N 4")] Tensor x) => head.Forward(block.Forward(x));
        }
        """;

    static (IMethodSymbol Forward, SemanticModel Semantics) ForwardOf(string model)
    {
        var compilation = AnalyzerHarness.Compile(Source);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        var type = compilation.GetTypeByMetadataName(model)!;
        var forward = type.GetMembers("Forward").OfType<IMethodSymbol>().Single();
        return (forward, compilation.GetSemanticModel(forward.DeclaringSyntaxReferences[0].SyntaxTree));
    }

    static ForwardIr Read(string model, bool inline = true)
    {
        var (forward, semantics) = ForwardOf(model);
        return ForwardReader.Read(forward, semantics, inline, CancellationToken.None);
    }

    [Fact]
    public void ABranchOnTrainingIsOneChooseOfBothSidesAndEachModeLowersOnlyItsOwn()
    {
        var ir = Read("Branchy");
        Assert.True(ir.BranchesOnTraining);
        // if (Training) h = drop(h): a Choose of the dropped and the kept value; Training ? h.Sigmoid() : h another.
        var chooses = ir.Nodes.Where(n => n.Kind == ForwardKind.Choose).ToArray();
        Assert.Equal(2, chooses.Length);
        Assert.All(chooses, c => Assert.True(c.Own));
        var dropped = ir[chooses[0].Inputs[0]];
        Assert.Equal(ForwardKind.LayerCall, dropped.Kind);
        Assert.Equal("m.drop", dropped.Layer!.Access);
        Assert.Equal(ForwardModes.Training, dropped.Modes);

        var (forward, semantics) = ForwardOf("Branchy");
        var lowered = GraphLowering.Lower(forward, semantics, CancellationToken.None);
        Assert.Null(lowered.Unsupported);
        // Training: linear, relu, dropout layer, F.Dropout, sigmoid, linear. Eval: no dropout layer, no sigmoid.
        Assert.Equal(new[] { IrOps.Input, IrOps.Linear, IrOps.Activation, IrOps.Dropout, IrOps.Dropout, IrOps.Activation, IrOps.Linear },
            lowered.Graph!.Nodes.Select(n => n.Op));
        Assert.Equal(new[] { IrOps.Input, IrOps.Linear, IrOps.Activation, IrOps.Dropout, IrOps.Linear },
            lowered.EvalGraph!.Nodes.Select(n => n.Op));
    }

    [Fact]
    public async Task AConstantArgumentNoRuleReadsStopsNothing()
    {
        // F.Dropout(x, P, Training): P is a property the shape checker never needs, so it reads Lazy to the end.
        var (_, found) = await AnalyzerHarness.Run(Source);
        Assert.DoesNotContain(found, d => d.GetMessage().Contains("property P"));
        // The block call in Outer and the Console call in Odd are where the checker stops (a non-Kiln layer, a foreign call).
        Assert.Equal(new[] { "Odd", "Outer" }, found.Where(d => d.Id == DiagnosticDescriptors.Unsupported.Id)
            .Select(d => d.Location.SourceTree!.GetRoot().FindNode(d.Location.SourceSpan).AncestorsAndSelf()
                .OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax>().First().Identifier.Text).OrderBy(n => n));
    }

    [Fact]
    public void ATensorScopeInForwardIsTheEagerPathsBookkeepingAndCompilesAway()
    {
        // using var scope = Tensor.Scope() frees the eager path's temporaries (Kiln's own layers do it); scope.Keep(y) is y.
        var ir = Read("Scoped");
        Assert.DoesNotContain(ir.Nodes, n => n.Kind is ForwardKind.Unfollowed or ForwardKind.Opaque or ForwardKind.Effect);
        var (forward, semantics) = ForwardOf("Scoped");
        var lowered = GraphLowering.Lower(forward, semantics, CancellationToken.None);
        Assert.Null(lowered.Unsupported);
        Assert.Equal(new[] { IrOps.Input, IrOps.Linear, IrOps.Activation, IrOps.Linear }, lowered.Graph!.Nodes.Select(n => n.Op));
    }

    [Fact]
    public void ASequentialIsReadAsItsItemsInTurn()
    {
        var ir = Read("Stack");
        var calls = ir.Nodes.Where(n => n.Kind == ForwardKind.LayerCall).ToArray();
        Assert.Equal(new[] { "((global::Kiln.NN.Linear)m.body[0])", "((global::Kiln.NN.ReLU)m.body[1])", "((global::Kiln.NN.Linear)m.body[2])" },
            calls.Select(c => c.Layer!.Access));
        Assert.Equal(new long[] { 6, 3 }, calls.Where(c => c.Layer!.Type.Name == "Linear").Select(c => ((Kiln.Compiler.Shapes.SymbolicDim)c.Layer!.Spec!.Args["outFeatures"]!).TryConstant(out long v) ? v : -1));
        Assert.Equal(calls[2].Id, ir.Returned);
    }

    [Fact]
    public void ABlockThatCannotBeLoweredIsOneEagerCallAndTheModelAroundItStillCompiles()
    {
        // Odd's Forward has a statement the lowering refuses; read inline, its nodes end at the block's call node.
        var ir = Read("Outer");
        var block = ir.Nodes.Single(n => n.Kind == ForwardKind.LayerCall && n.Layer!.Access == "m.block");
        Assert.NotNull(block.InlinedFrom);
        Assert.Contains(ir.Nodes, n => n.Kind == ForwardKind.Effect);

        var (forward, semantics) = ForwardOf("Outer");
        var lowered = GraphLowering.Lower(forward, semantics, CancellationToken.None);
        Assert.Null(lowered.Unsupported);
        Assert.Equal(new[] { IrOps.Input, IrOps.Island, IrOps.Linear }, lowered.Graph!.Nodes.Select(n => n.Op));
        Assert.Equal("Odd (block)", Assert.Single(lowered.Islands).Layer);

        // Odd itself is not compiled, and says why.
        var (odd, oddSemantics) = ForwardOf("Odd");
        var alone = GraphLowering.Lower(odd, oddSemantics, CancellationToken.None);
        Assert.Null(alone.Graph);
        Assert.Equal("the statement 'System.Console.WriteLine(h);'", alone.Unsupported);
    }

    [Fact]
    public void TheEncoderLayerIsReadFromItsRealForwardWithItsSettingsGuarded()
    {
        var ir = Read("Encoder");
        var (forward, semantics) = ForwardOf("Encoder");
        var lowered = GraphLowering.Lower(forward, semantics, CancellationToken.None);
        Assert.True(lowered.Unsupported is null && lowered.Islands.Count == 0, $"{lowered.Unsupported} {lowered.Where}; islands {string.Join(", ", lowered.Islands)}\n{ir}");
        // Pre-norm (normFirst: true) with GELU, as the creation says; the compiled model checks both before running.
        Assert.Equal(new[] { IrOps.Input, IrOps.LayerNorm, IrOps.SelfAttention, IrOps.Dropout, IrOps.Add, IrOps.LayerNorm, IrOps.Linear, IrOps.Activation,
            IrOps.Dropout, IrOps.Linear, IrOps.Dropout, IrOps.Add }, lowered.Graph!.Nodes.Select(n => n.Op));
        Assert.Equal("gelu", lowered.Graph.Nodes[7].Attr);
        Assert.Equal(new[] { "m.layer.NormFirst == true", "m.layer.Activation == \"gelu\"" }, lowered.Graph.Conditions);
        Assert.Equal(new[] { "m.layer.Norm1", "m.layer.SelfAttn", "m.layer.Norm2", "m.layer.Linear1", "m.layer.Linear2" },
            lowered.Graph.Nodes.Where(n => n.Op is IrOps.LayerNorm or IrOps.SelfAttention or IrOps.Linear).Select(n => n.Member));
    }

    [Fact]
    public void WithoutInliningABlockIsOneCallTheShapeCheckerStopsAt()
    {
        var ir = Read("Outer", inline: false);
        var block = ir.Nodes.Single(n => n.Kind == ForwardKind.LayerCall && n.Layer!.Access == "m.block");
        Assert.Null(block.InlinedFrom);
        Assert.Null(block.Layer!.Spec);   // not a Kiln.NN layer: no shape rule for it
    }
}
