using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.NN;
using Kiln.Optim;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// torch.nn.utils.parametrize beyond the golden cases (which check weight and spectral norm's values, gradients, state
/// keys and printing against PyTorch): float64 finite differences, training through the originals, removal, moves, and
/// the errors of a tensor that cannot be parametrized.
/// </summary>
public class ParametrizationTests
{
    [Fact]
    public void GradientsPassFiniteDifferences()
    {
        var g = (Tensor.Rand([4, 1], DType.Float64, new Generator(91)) + 0.5).Detach().RequiresGrad_();
        var v = Tensor.Randn([4, 3], DType.Float64, new Generator(92)).RequiresGrad_();
        Assert.True(Autograd.GradCheck(x => new WeightNormParametrization(0).Forward([x[0], x[1]]), [g, v]));
        var whole = (Tensor.Rand([], DType.Float64, new Generator(93)) + 0.5).Detach().RequiresGrad_();
        Assert.True(Autograd.GradCheck(x => new WeightNormParametrization(null).Forward([x[0], x[1]]), [whole, v]));

        var w = Tensor.Randn([3, 2, 2], DType.Float64, new Generator(94)).RequiresGrad_();
        var spectral = new SpectralNormParametrization(w.Detach(), dim: 1);
        spectral.Eval();   // eval keeps u and v: the function of w is fixed
        Assert.True(Autograd.GradCheck(x => spectral.Forward([x[0]]), [w]));
    }

    [Fact]
    public void TrainingStepsInsideScopesKeepTheModulesState()
    {
        // Each step in its own Tensor.Scope(): spectral norm replaces its u and v buffers every training forward, and a
        // layer built inside a scope is used after it. Module state is exempt from scopes, so both keep working and
        // give what the same steps give without scopes.
        Linear scoped;
        using (Tensor.Scope()) scoped = Parametrizations.SpectralNorm(new Linear(5, 4));
        var plain = Parametrizations.SpectralNorm(new Linear(5, 4));
        plain.LoadStateDict(scoped.StateDict());
        var x = Tensor.Randn([3, 5], generator: new Generator(97));
        for (int step = 0; step < 3; step++)
        {
            float[] got;
            using (Tensor.Scope()) got = scoped.Call(x).ToArray<float>();
            var want = plain.Call(x).ToArray<float>();
            Assert.Equal(want, got);
        }
        Assert.All(scoped.Buffers(), b => Assert.False(b.IsDisposed));
    }

    [Fact]
    public void TheLayerTrainsThroughItsOriginalsAndKeepsItsNorm()
    {
        Generator.ManualSeed(95);
        var layer = Parametrizations.WeightNorm(new Linear(6, 3));
        var g = layer.NamedParameters().Single(p => p.Name == "parametrizations.weight.original0").Parameter;
        Assert.Equal(new[] { 3, 1 }, g.ShapeArray);
        Assert.Equal(new[] { "bias", "parametrizations.weight.original0", "parametrizations.weight.original1" }, layer.NamedParameters().Select(p => p.Name).ToArray());
        // Right after registration the weight is unchanged: g holds its row norms, v the weight itself.
        var before = layer.Weight.Detach().ToArray<float>();
        Assert.Equal(layer.Weight.Norm(2, [1], keepDim: true).ToArray<float>(), g.ToArray<float>());

        var opt = new SGD(layer.Parameters(), lr: 0.1);
        var x = Tensor.Randn(8, 6);
        for (int i = 0; i < 3; i++)
        {
            opt.ZeroGrad();
            layer.Forward(x).Square().Mean().Backward();
            opt.Step();
        }
        Assert.NotEqual(before, layer.Weight.Detach().ToArray<float>());
        // Whatever v became, each row of the weight has norm g.
        var rows = layer.Weight.Detach().Norm(2, [1], keepDim: true).ToArray<float>();
        var norms = g.ToArray<float>();
        for (int i = 0; i < rows.Length; i++) Assert.True(Math.Abs(rows[i] - norms[i]) <= 1e-5 * Math.Abs(norms[i]));
    }

    [Fact]
    public void SpectralNormBoundsTheLargestSingularValue()
    {
        Generator.ManualSeed(96);
        var layer = Parametrizations.SpectralNorm(new Linear(8, 5), powerIterations: 3);
        for (int i = 0; i < 10; i++) layer.Forward(Tensor.Randn(2, 8));   // training forwards refine u and v
        layer.Eval();
        var sigma = Linalg.Svd(layer.Weight.Detach().To(DType.Float64)).S.ToArray<double>()[0];
        Assert.True(Math.Abs(sigma - 1) < 1e-4, $"largest singular value {sigma}");
        // Eval reads u and v as they are: two forwards give the same weight.
        Assert.Equal(layer.Weight.ToArray<float>(), layer.Weight.ToArray<float>());
        Assert.Equal(new[] { "bias", "parametrizations.weight.original", "parametrizations.weight.0._u", "parametrizations.weight.0._v" }, layer.StateDict().Keys.ToArray());
    }

    [Fact]
    public void RemovingLeavesAPlainParameter()
    {
        Generator.ManualSeed(97);
        var layer = Parametrizations.WeightNorm(new Linear(4, 2));
        using (Autograd.NoGrad()) layer.NamedParameters().Single(p => p.Name.EndsWith("original0")).Parameter.Mul_(2);
        var computed = layer.Weight.Detach().ToArray<float>();
        Parametrize.RemoveParametrizations(layer, "weight");
        Assert.False(Parametrize.IsParametrized(layer));
        Assert.Equal(new[] { "weight", "bias" }.Order(), layer.StateDict().Keys.Order());
        Assert.Equal(computed, layer.Weight.ToArray<float>());
        Assert.True(layer.Weight.RequiresGrad && layer.Weight.IsLeaf);
        Assert.StartsWith("Linear(", layer.ToString());
        var e = Assert.Throws<KilnException>(() => Parametrize.RemoveParametrizations(layer, "weight"));
        Assert.Contains("does not have a parametrization on weight", e.Message);
    }

    [Fact]
    public void CheckpointsOfTheOldWeightNormLoadIntoTheParametrization()
    {
        // torch.nn.utils.weight_norm (before parametrizations) saved g and v as weight_g and weight_v; PyTorch 2 renames
        // them on load, and so does Kiln, inside a model too.
        Generator.ManualSeed(98);
        var source = new Sequential(new Linear(4, 3), new ReLU(), Parametrizations.WeightNorm(new Linear(3, 2)));
        var old = new Dictionary<string, Tensor>();
        foreach (var (key, value) in source.StateDict())
            old[key.Replace("parametrizations.weight.original0", "weight_g").Replace("parametrizations.weight.original1", "weight_v")] = value;
        Assert.Contains("2.weight_g", old.Keys);

        Generator.ManualSeed(99);
        var target = new Sequential(new Linear(4, 3), new ReLU(), Parametrizations.WeightNorm(new Linear(3, 2)));
        Assert.Equal("<All keys matched successfully>", target.LoadStateDict(old).ToString());
        var x = Tensor.Randn(5, 4);
        Assert.Equal(source.Forward(x).ToArray<float>(), target.Forward(x).ToArray<float>());
        // A model without the parametrization keeps them as unexpected keys.
        var plain = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
        Assert.Contains("2.weight_g", plain.LoadStateDict(old, strict: false).UnexpectedKeys);
    }

    [Fact]
    public void MovesCarryTheOriginalsAndTheBuffers()
    {
        var layer = Parametrizations.SpectralNorm(new Linear(3, 2)).To(DType.Float64);
        Assert.Equal(DType.Float64, layer.Forward(Tensor.Randn([1, 3], DType.Float64)).DType);
        Assert.All(layer.StateDict().Values, t => Assert.Equal(DType.Float64, t.DType));
    }

    [Fact]
    public void BadRegistrationsNameTheProblemAndChangeNothing()
    {
        var layer = new Linear(3, 2);
        Assert.Contains("Linear has no parameter or buffer named 'kernel'",
            Assert.Throws<KilnException>(() => Parametrize.RegisterParametrization(layer, "kernel", new WeightNormParametrization())).Message);
        var e = Assert.Throws<KilnException>(() => Parametrize.RegisterParametrization(layer, "weight", new Flattening()));
        Assert.Contains("Flattening computes Float32 [6] for Linear.weight, which is Float32 [2, 3]", e.Message);
        Assert.False(Parametrize.IsParametrized(layer));
        Assert.Equal(new[] { "weight", "bias" }, layer.StateDict().Keys.ToArray());

        Parametrizations.WeightNorm(layer);
        Assert.Contains("Linear.weight is parametrized already", Assert.Throws<KilnException>(() => Parametrizations.WeightNorm(layer)).Message);

        var own = new OwnField();
        Assert.Contains("OwnField.scale is read through a field of its class",
            Assert.Throws<KilnException>(() => Parametrize.RegisterParametrization(own, "scale", new WeightNormParametrization())).Message);
        Assert.Contains("spectral_norm: Expected n_power_iterations to be positive",
            Assert.Throws<KilnException>(() => Parametrizations.SpectralNorm(new Linear(2, 2), powerIterations: 0)).Message);
    }

    sealed class Flattening : Parametrization
    {
        public override Tensor Forward(IReadOnlyList<Tensor> originals) => originals[0].Flatten();
    }

    sealed class OwnField : Module
    {
        readonly Tensor scale = Parameter(Tensor.Ones(3));
        public Tensor Forward(Tensor x) => x * scale;
    }
}
