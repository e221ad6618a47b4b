using System;
using System.Linq;
using System.Text.Json;
using Kiln.Optim;
using Kiln.Optim.Schedulers;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// Adamax, Adadelta, NAdam and RAdam trajectories, CosineAnnealingWarmRestarts and CyclicLR schedules, all against
/// PyTorch (course.json), in float64: rel 1e-9 for the parameters, 1e-12 for the rates.
/// </summary>
public class CourseOptimizerTests
{
    static Tensor Build(JsonElement spec)
    {
        var shape = spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var values = spec.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        return Tensor.From(values, shape);
    }

    [Theory]
    [InlineData("adamax")]
    [InlineData("adadelta")]
    [InlineData("nadam")]
    [InlineData("radam")]
    [InlineData("rprop")]
    [InlineData("asgd")]
    public void TrajectoriesMatchPyTorch(string name)
    {
        var c = CourseData.Root.GetProperty("optimizers").GetProperty(name);
        var w = Build(c.GetProperty("start")).RequiresGrad_();
        using var target = Build(c.GetProperty("target"));
        using var scale = Tensor.Arange(1.0, 13.0, 1.0, DType.Float64).Reshape(4, 3);
        Optimizer opt = name switch
        {
            "adamax" => new Adamax([w], lr: 0.05, weightDecay: 0.01),
            "adadelta" => new Adadelta([w], lr: 0.5, rho: 0.8),
            "nadam" => new NAdam([w], lr: 0.05, weightDecay: 0.01),
            "rprop" => new Rprop([w], lr: 0.05, etaMinus: 0.4, etaPlus: 1.3, stepSizeMin: 1e-3, stepSizeMax: 0.2),
            "asgd" => new ASGD([w], lr: 0.05, lambd: 1e-2, alpha: 0.6, t0: 3, weightDecay: 0.01),
            _ => new RAdam([w], lr: 0.05),
        };
        int step = 0;
        foreach (var expected in c.GetProperty("steps").EnumerateArray())
        {
            opt.ZeroGrad();
            using (var d = w - target) using (var sq = d * d) using (var weighted = sq * scale) weighted.Sum().Backward();
            opt.Step();
            step++;
            var want = expected.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
            var got = w.ToArray<double>();
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(got[i] - want[i]) <= 1e-9 * Math.Abs(want[i]) + 1e-12, $"{name} step {step} [{i}]: {got[i]}, PyTorch {want[i]}");
        }
    }

    /// <summary>Rprop's and ASGD's state (ASGD's 0-d eta and mu among it) saves and loads, and the loaded run continues alike.</summary>
    [Theory]
    [InlineData("rprop")]
    [InlineData("asgd")]
    public void StateDictResumes(string name)
    {
        Optimizer Make(Tensor w) => name == "rprop" ? new Rprop([w], lr: 0.05) : new ASGD([w], lr: 0.05, t0: 1);
        static void Step(Optimizer o, Tensor w) { o.ZeroGrad(); using (var sq = w * w) using (var s = sq.Sum()) s.Backward(); o.Step(); }
        var a = Tensor.From(new double[] { 1, -2, 3 }, 3).RequiresGrad_();
        var optA = Make(a);
        for (int i = 0; i < 3; i++) Step(optA, a);
        var b = a.Detach().Clone().RequiresGrad_();
        var optB = Make(b);
        optB.LoadStateDict(optA.StateDict());
        for (int i = 0; i < 3; i++) { Step(optA, a); Step(optB, b); }
        Assert.Equal(a.ToArray<double>(), b.ToArray<double>());
    }

    static (double[] Lr, double[] Momentum) Expected(string name)
    {
        var s = CourseData.Root.GetProperty("schedulers").GetProperty(name);
        return (s.GetProperty("lr").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
                s.GetProperty("momentum").EnumerateArray().Select(e => e.GetDouble()).ToArray());
    }

    [Theory]
    [InlineData("warm_restarts")]
    [InlineData("warm_restarts_fractional")]
    [InlineData("cyclic_triangular")]
    [InlineData("cyclic_triangular2")]
    [InlineData("cyclic_exp_range")]
    public void SchedulesMatchPyTorch(string name)
    {
        var (lr, momentum) = Expected(name);
        var opt = new SGD([Tensor.Zeros(1).RequiresGrad_()], lr: 0.1, momentum: 0.9);
        LRScheduler sched = name switch
        {
            "warm_restarts" => new CosineAnnealingWarmRestarts(opt, 3, 2, 0.01),
            "warm_restarts_fractional" => new CosineAnnealingWarmRestarts(opt, 2),
            "cyclic_triangular" => new CyclicLR(opt, 0.01, 0.1, stepSizeUp: 3, stepSizeDown: 2),
            "cyclic_triangular2" => new CyclicLR(opt, 0.01, 0.1, stepSizeUp: 2, mode: "triangular2"),
            _ => new CyclicLR(opt, 0.01, 0.1, stepSizeUp: 2, mode: "exp_range", gamma: 0.9),
        };
        double[] fractional = [0.5, 1.0, 1.75, 2.5, 4.25, 7.0];
        for (int i = 0; i < lr.Length; i++)
        {
            Assert.True(Math.Abs(opt.ParamGroups[0].Lr - lr[i]) <= 1e-12, $"{name} step {i}: lr {opt.ParamGroups[0].Lr}, PyTorch {lr[i]}");
            Assert.True(Math.Abs(opt.ParamGroups[0]["momentum"] - momentum[i]) <= 1e-12, $"{name} step {i}: momentum {opt.ParamGroups[0]["momentum"]}, PyTorch {momentum[i]}");
            if (i == lr.Length - 1) break;
            if (name == "warm_restarts_fractional") ((CosineAnnealingWarmRestarts)sched).Step(fractional[i]);
            else sched.Step();
        }
    }

    [Fact]
    public void WarmRestartsResumeFromTheirStateDict()
    {
        var a = new SGD([Tensor.Zeros(1).RequiresGrad_()], lr: 0.1);
        var s1 = new CosineAnnealingWarmRestarts(a, 3, 2);
        for (int i = 0; i < 5; i++) s1.Step();
        var b = new SGD([Tensor.Zeros(1).RequiresGrad_()], lr: 0.1);
        var s2 = new CosineAnnealingWarmRestarts(b, 3, 2);
        s2.LoadStateDict(s1.StateDict());
        s1.Step(); s2.Step();
        Assert.Equal(s1.GetLastLr()[0], s2.GetLastLr()[0], 15);
    }

    [Fact]
    public void CyclicMomentumNeedsAnOptimizerWithMomentum()
    {
        var e = Assert.Throws<KilnException>(() => new CyclicLR(new Adadelta([Tensor.Zeros(1).RequiresGrad_()]), 0.01, 0.1));
        Assert.Contains("cycle_momentum", e.Message);
        _ = new CyclicLR(new Adadelta([Tensor.Zeros(1).RequiresGrad_()]), 0.01, 0.1, cycleMomentum: false);
    }
}

