using System;
using System.Linq;
using Kiln.Compiler.Ir;
using Xunit;

namespace Kiln.Tests.Compiler;

/// <summary>The fusion planner's groups on hand-built graphs: what runs in one loop, what is read from memory, what is saved.</summary>
public class FusionPlannerTests
{
    [Fact]
    public void ARunOfElementwiseOpsAfterAProducerIsOneGroup()
    {
        var g = new IrBuilder();
        int h = g.Add(IrOps.Linear, g.Input, "m.a");
        h = g.Add(IrOps.Activation, h, attr: "tanh");
        h = g.Add(IrOps.Dropout, h, attr: "0.2", attr2: "m.Training");
        h = g.Add(IrOps.Linear, h, "m.b");
        var plan = FusionPlanner.Plan(g.Build(h));
        Assert.Equal(new[] { "linear", "group", "linear" }, plan.Select(s => s.Producer?.Op ?? "group"));
        Assert.Equal(new[] { IrOps.Activation, IrOps.Dropout }, plan[1].Elementwise.Select(n => n.Op));
        Assert.Equal(new[] { 1 }, plan[1].External);
        Assert.True(plan[1].Recomputes);
    }

    [Theory]
    [InlineData("relu,dropout", "relu", true)]
    [InlineData("dropout,relu", "relu", true)]
    [InlineData("relu", "relu", true)]
    [InlineData("gelu,dropout", "gelu", false)]
    [InlineData("gelu_tanh", "gelu_tanh", false)]
    [InlineData("dropout", null, false)]
    public void ALinearsActivationAndDropoutRunInItsGemmEpilogue(string ops, string? activation, bool gated)
    {
        var chain = ops.Split(',');
        var g = new IrBuilder();
        int h = g.Add(IrOps.Linear, g.Input, "m.a");
        foreach (var op in chain)
            h = op == "dropout" ? g.Add(IrOps.Dropout, h, attr: "0.2", attr2: "m.Training") : g.Add(IrOps.Activation, h, attr: op);
        int last = h;
        var plan = FusionPlanner.Plan(g.Build(g.Add(IrOps.Linear, h, "m.b")));
        Assert.Equal(2, plan.Count);
        Assert.Equal(chain.Length, plan[0].Epilogue!.Elementwise.Count);
        Assert.Equal(activation, plan[0].EpilogueActivation);
        Assert.Equal(chain.Contains("dropout"), plan[0].EpilogueDropout is not null);
        Assert.Equal(gated, plan[0].Gated);
        Assert.Equal(last, plan[0].Output);
        // Only a GELU's backward reads the pre-activation, so only it keeps it.
        Assert.Equal(activation is "gelu" or "gelu_tanh", !plan[0].Gated && plan[0].Epilogue!.Recomputes);
    }

    [Theory]
    [InlineData("dropout,gelu")]
    [InlineData("relu,relu")]
    [InlineData("tanh")]
    [InlineData("relu,tanh")]
    public void OtherChainsAfterALinearStayAGroup(string ops)
    {
        var chain = ops.Split(',');
        var g = new IrBuilder();
        int h = g.Add(IrOps.Linear, g.Input, "m.a");
        foreach (var op in chain)
            h = op == "dropout" ? g.Add(IrOps.Dropout, h, attr: "0.2", attr2: "m.Training") : g.Add(IrOps.Activation, h, attr: op);
        var plan = FusionPlanner.Plan(g.Build(h));
        Assert.Null(plan[0].Epilogue);
        Assert.Equal(chain.Length, plan[1].Elementwise.Count);
    }

    [Fact]
    public void AConstantScaleBeforeASoftmaxRunsInItsRowKernel()
    {
        var g = new IrBuilder();
        int l = g.Add(IrOps.Linear, g.Input, "m.a");
        int scaled = g.Add(IrOps.Binary, l, attr: "mul", attr2: "0.125");
        int s = g.Add(IrOps.Softmax, scaled, attr: "softmax", attr2: "-1");
        var plan = FusionPlanner.Plan(g.Build(s));
        Assert.Equal(2, plan.Count);
        Assert.Equal("0.125", plan[1].PrologueScale);
        Assert.Equal(l, plan[1].Source);
        // A division or a scaled value read elsewhere stays its own loop.
        var h = new IrBuilder();
        int l2 = h.Add(IrOps.Linear, h.Input, "m.a");
        int d = h.Add(IrOps.Binary, l2, attr: "div", attr2: "8");
        var plan2 = FusionPlanner.Plan(h.Build(h.Add(IrOps.Softmax, d, attr: "softmax", attr2: "-1")));
        Assert.Equal(3, plan2.Count);
        Assert.Null(plan2[2].Prologue);
        Assert.Equal("1", plan2[2].PrologueScale);
    }

    [Fact]
    public void TheResidualAddBeforeANormRunsInsideTheNormsPass()
    {
        // LayerNorm(x + dropout(attention(x))): the add's loop is called block by block by the norm, and still written.
        var g = new IrBuilder();
        int a = g.Add(IrOps.SelfAttention, g.Input, "m.attn");
        int d = g.Add(IrOps.Dropout, a, attr: "0.1", attr2: "m.Training");
        int s = g.Add(IrOps.Add, new[] { g.Input, d });
        int n = g.Add(IrOps.LayerNorm, s, "m.norm");
        var plan = FusionPlanner.Plan(g.Build(g.Add(IrOps.RmsNorm, n, "m.rms")));
        Assert.Equal(4, plan.Count);
        Assert.True(plan[1].RunsInNorm);
        Assert.Same(plan[1], plan[2].Prelude);
        // A norm reading a producer directly has no prelude.
        Assert.Null(plan[3].Prelude);
    }

    [Fact]
    public void AnActivationBetweenALinearAndANormGoesToTheEpilogueNotTheNormsPass()
    {
        var g = new IrBuilder();
        int l = g.Add(IrOps.Linear, g.Input, "m.a");
        int r = g.Add(IrOps.Activation, l, attr: "relu");
        var plan = FusionPlanner.Plan(g.Build(g.Add(IrOps.LayerNorm, r, "m.norm")));
        Assert.Equal(2, plan.Count);
        Assert.Equal(r, plan[0].Output);
        Assert.Null(plan[1].Prelude);
        Assert.False(plan[0].Epilogue!.RunsInNorm);
    }

    [Fact]
    public void ALinearReadTwiceKeepsItsValueAndRunsNoEpilogue()
    {
        var g = new IrBuilder();
        int l = g.Add(IrOps.Linear, g.Input, "m.a");
        int r = g.Add(IrOps.Activation, l, attr: "relu");
        int sum = g.Add(IrOps.Add, new[] { l, r });
        var plan = FusionPlanner.Plan(g.Build(sum));
        Assert.Null(plan[0].Epilogue);
        Assert.Equal(l, plan[0].Output);
    }

    [Fact]
    public void AResidualAddJoinsTheDropoutBeforeItAndReadsTheSkipFromMemory()
    {
        // Post-norm residual: x + dropout(attention(x)), then LayerNorm — the add and the dropout are one loop that saves nothing.
        var g = new IrBuilder();
        int a = g.Add(IrOps.SelfAttention, g.Input, "m.attn");
        int d = g.Add(IrOps.Dropout, a, attr: "m.d.P", attr2: "m.d.Training");
        int s = g.Add(IrOps.Add, new[] { g.Input, d });
        int n = g.Add(IrOps.LayerNorm, s, "m.norm");
        var plan = FusionPlanner.Plan(g.Build(n));
        Assert.Equal(3, plan.Count);
        Assert.Equal(new[] { d, s }, plan[1].Elementwise.Select(x => x.Id));
        Assert.Equal(new[] { a, 0 }, plan[1].External);
        Assert.False(plan[1].Recomputes);
    }

    [Fact]
    public void AValueReadTwiceIsMaterialisedAndStartsNoLongerGroup()
    {
        var g = new IrBuilder();
        int l = g.Add(IrOps.Linear, g.Input, "m.a");
        int r = g.Add(IrOps.Activation, l, attr: "sigmoid");
        int t = g.Add(IrOps.Activation, r, attr: "tanh");
        int sum = g.Add(IrOps.Add, new[] { r, t });
        var graph = g.Build(g.Add(IrOps.Linear, sum, "m.b"));
        var plan = FusionPlanner.Plan(graph);
        // relu's value has two readers, so it is written to memory; tanh and the add then fuse.
        Assert.Equal(new[] { r }, plan[1].Elementwise.Select(x => x.Id));
        Assert.Equal(new[] { t, sum }, plan[2].Elementwise.Select(x => x.Id));
        Assert.Equal(new[] { r }, plan[2].External);
        Assert.Equal(2, graph.Uses()[r]);
    }

    [Fact]
    public void ValuesBeforeAnyParameterAreMarkedInputOnly()
    {
        var g = new IrBuilder();
        int drop = g.Add(IrOps.Dropout, g.Input, attr: "0.5", attr2: "true");
        int lin = g.Add(IrOps.Linear, drop, "m.a");
        int act = g.Add(IrOps.Activation, lin, attr: "tanh");
        var only = g.Build(act).InputOnly();
        Assert.True(only[0]);
        Assert.True(only[drop]);
        Assert.False(only[lin]);
        Assert.False(only[act]);
    }

    [Fact]
    public void AGraphThatReadsALaterValueIsRejected()
    {
        var nodes = new[] { new IrNode(0, IrOps.Input, Array.Empty<int>()), new IrNode(1, IrOps.Activation, new[] { 2 }, attr: "relu"), new IrNode(2, IrOps.Linear, new[] { 0 }, "m.a") };
        var e = Assert.Throws<ArgumentException>(() => new IrGraph(nodes, 2, Array.Empty<string>()));
        Assert.Contains("node 1 reads %2", e.Message);
    }

    [Fact]
    public void EqualGraphsCompareEqual()
    {
        IrGraph Make(string act)
        {
            var g = new IrBuilder();
            return g.Build(g.Add(IrOps.Activation, g.Add(IrOps.Linear, g.Input, "m.a"), attr: act));
        }
        Assert.Equal(Make("relu"), Make("relu"));
        Assert.NotEqual(Make("relu"), Make("tanh"));
    }
}
