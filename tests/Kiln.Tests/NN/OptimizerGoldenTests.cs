using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Kiln.Optim;
using Kiln.Optim.Schedulers;
using Xunit;
using static Kiln.Tests.NN.NNGolden;

namespace Kiln.Tests.NN;

/// <summary>Optimizers after 5 steps and schedulers over 30 steps, against PyTorch from the same start.</summary>
public class OptimizerGoldenTests
{
    public static IEnumerable<object[]> OptimizerCases() => Names("optimizers");
    public static IEnumerable<object[]> SchedulerCases() => Names("schedulers");

    /// <summary>The same loss the Python script uses: Σ(p1·C1 - T1)² + Σ sin(p2)·C2.</summary>
    static Tensor Loss(Tensor p1, Tensor p2, Tensor c1, Tensor t1, Tensor c2) => ((p1 * c1 - t1).Pow(2)).Sum() + (p2.Sin() * c2).Sum();

    static ParamGroup Group(Tensor p, JsonElement? options)
    {
        var g = new ParamGroup([p]);
        if (options is { } o)
            foreach (var kv in o.EnumerateObject()) Set(g, kv.Name, kv.Value);
        return g;
    }

    static void Set(ParamGroup g, string key, JsonElement v)
    {
        if (key == "betas") { var b = v.EnumerateArray().ToArray(); g["beta1"] = b[0].GetDouble(); g["beta2"] = b[1].GetDouble(); }
        else g[key] = v.ValueKind is JsonValueKind.True ? 1 : v.ValueKind is JsonValueKind.False ? 0 : v.GetDouble();
    }

    internal static Optimizer Make(string type, IEnumerable<ParamGroup> groups, JsonElement kw)
    {
        double D(string k, double f) => Dbl(kw, k, f);
        bool B(string k) => Bool(kw, k);
        double b1 = 0.9, b2 = 0.999;
        if (kw.TryGetProperty("betas", out var bs)) { var b = bs.EnumerateArray().ToArray(); b1 = b[0].GetDouble(); b2 = b[1].GetDouble(); }
        return type switch
        {
            "SGD" => new SGD(groups, D("lr", 1e-3), D("momentum", 0), D("dampening", 0), D("weight_decay", 0), B("nesterov"), B("maximize")),
            "Adam" => new Adam(groups, D("lr", 1e-3), b1, b2, D("eps", 1e-8), D("weight_decay", 0), B("amsgrad"), B("maximize")),
            "AdamW" => new AdamW(groups, D("lr", 1e-3), b1, b2, D("eps", 1e-8), D("weight_decay", 1e-2), B("amsgrad"), B("maximize")),
            "RMSprop" => new RMSprop(groups, D("lr", 1e-2), D("alpha", 0.99), D("eps", 1e-8), D("weight_decay", 0), D("momentum", 0), B("centered"), B("maximize")),
            "Adagrad" => new Adagrad(groups, D("lr", 1e-2), D("lr_decay", 0), D("weight_decay", 0), D("initial_accumulator_value", 0), D("eps", 1e-10), B("maximize")),
            _ => throw new ArgumentException(type),
        };
    }

    internal static (Tensor P1, Tensor P2, Func<Tensor> Loss) Problem()
    {
        var opt = Section("optimizer_problem");
        var p1 = NNGolden.Tensor(opt.GetProperty("P1"))!.RequiresGrad_();
        var p2 = NNGolden.Tensor(opt.GetProperty("P2"))!.RequiresGrad_();
        var c1 = NNGolden.Tensor(opt.GetProperty("C1"))!;
        var t1 = NNGolden.Tensor(opt.GetProperty("T1"))!;
        var c2 = NNGolden.Tensor(opt.GetProperty("C2"))!;
        return (p1, p2, () => Loss(p1, p2, c1, t1, c2));
    }

    public static IEnumerable<object[]> LbfgsCases() => Names("lbfgs");

    /// <summary>
    /// L-BFGS, plain and with the strong Wolfe line search: each step(closure) returns PyTorch's first loss and leaves its
    /// parameters (after up to 8 inner iterations, so rounding differences have room to grow: 1e-4), with its evaluation count.
    /// </summary>
    [Theory]
    [MemberData(nameof(LbfgsCases))]
    public void LbfgsStepsMatchPyTorch(string name)
    {
        var c = Case("lbfgs", name);
        var (p1, p2, loss) = Problem();
        var k = c.GetProperty("kwargs");
        double D(string key, double fallback) => k.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;
        var opt = new LBFGS([p1, p2], D("lr", 1), (int)D("max_iter", 20), historySize: (int)D("history_size", 100),
            lineSearchFn: k.TryGetProperty("line_search_fn", out var ls) ? ls.GetString() : null);
        Tensor Closure()
        {
            opt.ZeroGrad();
            var l = loss();
            l.Backward();
            return l;
        }
        int i = 0;
        foreach (var step in c.GetProperty("steps").EnumerateArray())
        {
            var returned = opt.Step(Closure);
            Assert.Equal(step.GetProperty("loss").GetDouble(), returned.To(DType.Float64).Item<double>(), 4);
            AssertClose(step.GetProperty("p1"), p1, $"{name} step {i} p1", 1e-4, 1e-4);
            AssertClose(step.GetProperty("p2"), p2, $"{name} step {i} p2", 1e-4, 1e-4);
            var state = opt.StateDict().State[0];
            Assert.Equal(step.GetProperty("func_evals").GetInt32(), (int)state["func_evals"].Item<float>());
            Assert.Equal(step.GetProperty("n_iter").GetInt32(), (int)state["n_iter"].Item<float>());
            i++;
        }
    }

    [Fact]
    public void LbfgsResumesFromItsStateDict()
    {
        var (a1, a2, lossA) = Problem();
        var (b1, b2, lossB) = Problem();
        var optA = new LBFGS([a1, a2], 0.8, maxIter: 3, historySize: 4);
        var optB = new LBFGS([b1, b2], 0.8, maxIter: 3, historySize: 4);
        Func<Tensor> closure(LBFGS o, Func<Tensor> f) => () => { o.ZeroGrad(); var l = f(); l.Backward(); return l; };
        optA.Step(closure(optA, lossA));
        optB.Step(closure(optB, lossB));
        var saved = optA.StateDict();
        var (c1, c2, lossC) = Problem();
        using (Autograd.NoGrad()) { c1.Copy_(a1); c2.Copy_(a2); }
        var optC = new LBFGS([c1, c2], 0.8, maxIter: 3, historySize: 4);
        optC.LoadStateDict(saved);
        optB.Step(closure(optB, lossB));
        optC.Step(closure(optC, lossC));
        Assert.Equal(b1.ToArray<float>(), c1.ToArray<float>());
        Assert.Equal(b2.ToArray<float>(), c2.ToArray<float>());
    }

    [Fact]
    public void LbfgsNeedsAClosureAndOneGroup()
    {
        var (p1, p2, _) = Problem();
        Assert.Contains("closure", Assert.Throws<KilnException>(() => new LBFGS([p1, p2]).Step()).Message);
        Assert.Contains("strong_wolfe", Assert.Throws<KilnException>(() => new LBFGS([p1], lineSearchFn: "backtracking")).Message);
        Assert.Contains("parameter groups", Assert.Throws<KilnException>(() => new LBFGS([p1]).AddParamGroup(new ParamGroup([p2]))).Message);
    }

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void FiveStepsMatchPyTorch(string name)
    {
        var c = Case("optimizers", name);
        var (p1, p2, loss) = Problem();
        var groups = c.GetProperty("groups");
        IEnumerable<ParamGroup> pg = groups.ValueKind == JsonValueKind.Null
            ? [new ParamGroup([p1, p2])]
            : [Group(p1, groups[0]), Group(p2, groups[1])];
        var opt = Make(c.GetProperty("type").GetString()!, pg, c.GetProperty("kwargs"));
        for (int i = 0; i < 5; i++)
        {
            opt.ZeroGrad();
            loss().Backward();
            opt.Step();
        }
        AssertClose(c.GetProperty("p1"), p1, $"{name} p1", 1e-5, 1e-5);
        AssertClose(c.GetProperty("p2"), p2, $"{name} p2", 1e-5, 1e-5);
    }

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void StateDictRoundTripContinuesIdentically(string name)
    {
        var c = Case("optimizers", name);
        var type = c.GetProperty("type").GetString()!;
        var kw = c.GetProperty("kwargs");
        var (a1, a2, lossA) = Problem();
        var (b1, b2, lossB) = Problem();
        var optA = Make(type, [new ParamGroup([a1, a2])], kw);
        var optB = Make(type, [new ParamGroup([b1, b2])], kw);
        for (int i = 0; i < 3; i++) { optA.ZeroGrad(); lossA().Backward(); optA.Step(); optB.ZeroGrad(); lossB().Backward(); optB.Step(); }
        // B restarts from A's state dict on fresh optimizer: both must then move identically.
        var fresh = Make(type, [new ParamGroup([b1, b2])], kw);
        fresh.LoadStateDict(optA.StateDict());
        for (int i = 0; i < 2; i++) { optA.ZeroGrad(); lossA().Backward(); optA.Step(); fresh.ZeroGrad(); lossB().Backward(); fresh.Step(); }
        Assert.Equal(a1.ToArray<float>(), b1.ToArray<float>());
        Assert.Equal(a2.ToArray<float>(), b2.ToArray<float>());
    }

    static object MakeScheduler(string name, Optimizer o) => name switch
    {
        "step" => new StepLR(o, 7, 0.5),
        "multistep" => new MultiStepLR(o, [5, 12, 12, 20], 0.3),
        "exponential" => new ExponentialLR(o, 0.9),
        "cosine" => new CosineAnnealingLR(o, 10, 0.001),
        "linear" => new LinearLR(o, 0.25, 1.0, 8),
        "lambda" => new LambdaLR(o, e => 1.0 / (1 + e)),
        "onecycle" => new OneCycleLR(o, 0.5, 30),
        "onecycle_linear_three_phase_adam" => new OneCycleLR(o, 0.5, 30, annealStrategy: "linear", threePhase: true),
        "sequential_warmup_cosine" => new SequentialLR(o, [new LinearLR(o, 0.1, 1.0, 5), new CosineAnnealingLR(o, 25)], [5]),
        "plateau" => new ReduceLROnPlateau(o, factor: 0.5, patience: 2, cooldown: 1),
        "constant" => new ConstantLR(o, 0.5, 4),
        "polynomial" => new PolynomialLR(o, 20, 2.0),
        "multiplicative" => new MultiplicativeLR(o, e => e % 2 != 0 ? 0.95 : 0.9),
        "chained_constant_exponential" => new ChainedScheduler([new ConstantLR(o, 0.1, 3), new ExponentialLR(o, 0.9)]),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("step")]
    [InlineData("cosine")]
    [InlineData("onecycle")]
    [InlineData("plateau")]
    [InlineData("sequential_warmup_cosine")]
    [InlineData("chained_constant_exponential")]
    [InlineData("polynomial")]
    public void SchedulerStateDictResumesTheSequence(string name)
    {
        var metrics = Case("schedulers", "plateau").GetProperty("metrics").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var pa = Tensor.Zeros(2).RequiresGrad_();
        var optA = new SGD([pa], lr: 0.1, momentum: 0.9);
        var a = MakeScheduler(name, optA);
        void StepIt(object s, int i) { if (s is ReduceLROnPlateau p) p.Step(metrics[i]); else ((LRScheduler)s).Step(); }
        for (int i = 0; i < 12; i++) StepIt(a, i);
        var saved = a is ReduceLROnPlateau pl ? pl.StateDict() : ((LRScheduler)a).StateDict();
        var optState = optA.StateDict();
        var pb = Tensor.Zeros(2).RequiresGrad_();
        var optB = new SGD([pb], lr: 0.1, momentum: 0.9);
        var b = MakeScheduler(name, optB);
        optB.LoadStateDict(optState);
        if (b is ReduceLROnPlateau plb) plb.LoadStateDict(saved); else ((LRScheduler)b).LoadStateDict(saved);
        for (int i = 12; i < 30; i++)
        {
            StepIt(a, i);
            StepIt(b, i);
            Assert.Equal(optA.ParamGroups[0].Lr, optB.ParamGroups[0].Lr);
        }
    }

    [Theory]
    [MemberData(nameof(SchedulerCases))]
    public void LearningRatesMatchPyTorchOver30Steps(string name)
    {
        var c = Case("schedulers", name);
        var p = Tensor.Zeros(2).RequiresGrad_();
        bool adam = c.GetProperty("optimizer").GetString() == "Adam";
        Optimizer opt = adam ? new Adam([p], lr: 0.1) : new SGD([p], lr: 0.1, momentum: 0.9);
        var s = MakeScheduler(name, opt);
        var lrs = c.GetProperty("lrs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var moms = c.GetProperty("momentum").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var metrics = c.GetProperty("metrics");
        string mom = adam ? "beta1" : "momentum";
        for (int i = 0; i <= 30; i++)
        {
            if (i > 0)
            {
                if (s is ReduceLROnPlateau plateau) plateau.Step(metrics[i - 1].GetDouble());
                else ((LRScheduler)s).Step();
            }
            Assert.True(Math.Abs(opt.ParamGroups[0].Lr - lrs[i]) <= 1e-12 + 1e-10 * Math.Abs(lrs[i]), $"{name} step {i}: lr {opt.ParamGroups[0].Lr:R}, PyTorch {lrs[i]:R}");
            Assert.True(Math.Abs(opt.ParamGroups[0][mom] - moms[i]) <= 1e-12, $"{name} step {i}: {mom} {opt.ParamGroups[0][mom]:R}, PyTorch {moms[i]:R}");
            if (s is LRScheduler ls) Assert.Equal(opt.ParamGroups[0].Lr, ls.GetLastLr()[0]);
        }
    }
}
