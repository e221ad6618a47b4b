using System;
using System.Linq;
using Kiln.NN;
using Kiln.NN.Pruning;
using Kiln.Optim;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// torch.nn.utils.prune beyond the golden scenarios (masks, keys, outputs and gradients against PyTorch): the random
/// methods' laws (PyTorch's draws are not replayed), float64 finite differences, training through the original, and the
/// refusals — each naming the op, leaving the module as it was.
/// </summary>
public class PruneTests
{
    static float[] MaskOf(Module m, string name) => m.NamedBuffers(false).Single(b => b.Name == name + "_mask").Buffer.ToArray<float>();

    [Fact]
    public void RandomUnstructuredPrunesTheCountAndAgainOnlyWhatIsLeft()
    {
        var layer = new Linear(10, 8);
        Prune.RandomUnstructured(layer, "weight", 0.25, new Generator(3));      // 20 of 80
        var first = MaskOf(layer, "weight");
        Assert.Equal(20, first.Count(v => v == 0));
        Assert.All(first, v => Assert.True(v is 0f or 1f));
        Prune.RandomUnstructured(layer, "weight", 30, new Generator(4));        // 30 of the 60 left
        var second = MaskOf(layer, "weight");
        Assert.Equal(50, second.Count(v => v == 0));
        for (int i = 0; i < first.Length; i++) if (first[i] == 0) Assert.Equal(0f, second[i]);
        // Seeded draws repeat; another seed chooses other entries.
        var again = new Linear(10, 8);
        Prune.RandomUnstructured(again, "weight", 0.25, new Generator(3));
        Assert.Equal(first, MaskOf(again, "weight"));
        var other = new Linear(10, 8);
        Prune.RandomUnstructured(other, "weight", 0.25, new Generator(5));
        Assert.NotEqual(first, MaskOf(other, "weight"));
    }

    [Fact]
    public void RandomStructuredPrunesWholeChannels()
    {
        var conv = new Conv2d(3, 6, 2);
        Prune.RandomStructured(conv, "weight", 0.5, dim: 0, new Generator(6));   // 3 of 6 output channels
        var mask = conv.NamedBuffers(false).Single(b => b.Name == "weight_mask").Buffer;
        var perChannel = mask.Sum([1, 2, 3]).ToArray<float>();
        Assert.Equal(3, perChannel.Count(v => v == 0));
        Assert.Equal(3, perChannel.Count(v => v == 12));
        Prune.RandomStructured(conv, "weight", 1, dim: 0, new Generator(7));     // one more of the three left
        perChannel = conv.NamedBuffers(false).Single(b => b.Name == "weight_mask").Buffer.Sum([1, 2, 3]).ToArray<float>();
        Assert.Equal(4, perChannel.Count(v => v == 0));
    }

    [Fact]
    public void GradientsReachTheOriginalOnlyWhereKept_FiniteDifferences()
    {
        var layer = new Linear(4, 3, dtype: DType.Float64);
        Prune.L1Unstructured(layer, "weight", 5);
        var x = Tensor.Randn([2, 4], DType.Float64, new Generator(8));
        var orig = layer.NamedParameters().Single(p => p.Name == "weight_orig").Parameter;
        var mask = MaskOf64(layer);
        Assert.True(Autograd.GradCheck(w => F.Linear(x, w[0] * mask, layer.Bias), [orig]));
        var y = layer.Forward(x);
        (y * y).Sum().Backward();
        var grad = orig.Grad!.ToArray<double>();
        var m = mask.ToArray<double>();
        for (int i = 0; i < grad.Length; i++) if (m[i] == 0) Assert.Equal(0.0, grad[i]);
        Assert.Contains(grad, g => g != 0);

        static Tensor MaskOf64(Module m) => m.NamedBuffers(false).Single(b => b.Name == "weight_mask").Buffer;
    }

    [Fact]
    public void TrainingMovesTheOriginalAndThePrunedWeightsStayZeroUntilRemoved()
    {
        var layer = new Linear(5, 4);
        Prune.L1Unstructured(layer, "weight", 0.5);
        var opt = new SGD(layer.Parameters(), lr: 0.1);
        var x = Tensor.Randn([8, 5], generator: new Generator(9));
        var before = layer.NamedParameters().Single(p => p.Name == "weight_orig").Parameter.ToArray<float>();
        for (int i = 0; i < 3; i++)
        {
            opt.ZeroGrad();
            var y = layer.Forward(x);
            (y * y).Mean().Backward();
            opt.Step();
        }
        var mask = MaskOf(layer, "weight");
        var weight = layer.Weight.ToArray<float>();
        for (int i = 0; i < weight.Length; i++) if (mask[i] == 0) Assert.Equal(0f, weight[i]);
        var orig = layer.NamedParameters().Single(p => p.Name == "weight_orig").Parameter;
        Assert.NotEqual(before, orig.ToArray<float>());

        Prune.Remove(layer, "weight");
        Assert.False(Prune.IsPruned(layer));
        Assert.Same(orig, layer.Weight);   // the same tensor, as PyTorch keeps the Parameter object
        Assert.Equal(weight, layer.Weight.ToArray<float>());
        Assert.Equal(new[] { "bias", "weight" }, layer.StateDict().Keys.ToArray());
    }

    [Fact]
    public void ThePrunedFormSavesAndLoadsWithPyTorchsKeys()
    {
        var a = new Linear(3, 2);
        Prune.L1Unstructured(a, "weight", 2);
        var b = new Linear(3, 2);
        Prune.Identity(b, "weight");
        b.LoadStateDict(a.StateDict());
        Assert.Equal(a.Weight.ToArray<float>(), b.Weight.ToArray<float>());
        Assert.Equal(2, b.Weight.ToArray<float>().Count(v => v == 0));
    }

    [Fact]
    public void PruneOfATensorThroughThePruningMethodIsTheMaskedTensor()
    {
        var t = Tensor.From(new[] { 0.5f, -3f, 0.1f, 2f, -0.2f, 1f }, [2, 3]);
        var pruned = new L1Unstructured(3).Prune(t).ToArray<float>();
        Assert.Equal(new[] { 0f, -3f, 0f, 2f, 0f, 1f }, pruned);
        var rows = new LnStructured(1, 1, dim: 0).Prune(t).ToArray<float>();   // row sums of |t|: 3.6, 3.2
        Assert.Equal(new[] { 0.5f, -3f, 0.1f, 0f, 0f, 0f }, rows);
    }

    [Fact]
    public void RefusalsNameTheOpAndLeaveTheModuleAsItWas()
    {
        var layer = new Linear(3, 2);
        Prune.L1Unstructured(layer, "weight", 2);
        var keys = layer.StateDict().Keys.ToArray();
        var mask = MaskOf(layer, "weight");

        var tooMany = Assert.Throws<KilnException>(() => Prune.L1Unstructured(layer, "weight", 5));   // 4 are left
        Assert.Contains("l1_unstructured", tooMany.Message);
        Assert.Contains("amount=5", tooMany.Message);
        Assert.Contains("=4", tooMany.Message);
        Assert.Equal(keys, layer.StateDict().Keys.ToArray());
        Assert.Equal(mask, MaskOf(layer, "weight"));
        Assert.IsType<L1Unstructured>(Prune.MethodOf(layer, "weight"));   // no container holds the refused method

        var fraction = Assert.Throws<KilnException>(() => Prune.L1Unstructured(layer, "bias", 1.5));
        Assert.Contains("amount=1.5", fraction.Message);
        Assert.Throws<KilnException>(() => Prune.L1Unstructured(layer, "bias", -1));
        var missing = Assert.Throws<KilnException>(() => Prune.L1Unstructured(layer, "gamma", 1));
        Assert.Contains("no parameter named 'gamma'", missing.Message);
        var oneDim = Assert.Throws<KilnException>(() => Prune.LnStructured(layer, "bias", 1, 2, dim: 0));
        Assert.Contains("ln_structured", oneDim.Message);
        Assert.Contains("[2]", oneDim.Message);
        var scores = Assert.Throws<KilnException>(() => Prune.L1Unstructured(layer, "bias", 1, Tensor.Ones(3)));
        Assert.Contains("importance_scores", scores.Message);
        var global = Assert.Throws<KilnException>(() => Prune.GlobalUnstructured([(layer, "bias")], new LnStructured(1, 2, 0)));
        Assert.Contains("global_unstructured", global.Message);
        var notPruned = Assert.Throws<KilnException>(() => Prune.Remove(layer, "bias"));
        Assert.Contains("prune.remove", notPruned.Message);
        var badMask = Assert.Throws<KilnException>(() => Prune.CustomFromMask(layer, "bias", Tensor.Ones(3)));
        Assert.Contains("custom_from_mask", badMask.Message);
        Assert.Equal(keys, layer.StateDict().Keys.ToArray());
        Assert.Equal(new[] { "bias", "weight_orig" }, layer.NamedParameters().Select(p => p.Name).ToArray());
    }

    [Fact]
    public void AGlobalPruningThatCannotApplyEverywhereChangesNothing()
    {
        var a = new Linear(3, 2);
        var field = new FieldHolder();
        var refused = Assert.Throws<KilnException>(() => Prune.GlobalUnstructured([(a, "weight"), (field, "w")], new L1Unstructured(0.5)));
        Assert.Contains("global_unstructured", refused.Message);
        Assert.False(Prune.IsPruned(a));
        Assert.Equal(new[] { "weight", "bias" }, a.StateDict().Keys.ToArray());
    }

    [Fact]
    public void ACompiledModelReadsThePrunedWeight()
    {
        var model = new PrunableMlp();
        var x = Tensor.Randn([5, 6], generator: new Generator(10));
        var compiledBefore = model.Compile();   // compiled first, pruned after: the kernels must still read orig·mask
        Prune.L1Unstructured(model.Fc1, "weight", 0.5);
        Prune.LnStructured(model.Fc2, "weight", 1, 2, dim: 0);
        var compiledAfter = model.Compile();
        var eager = model.Forward(x).ToArray<float>();
        Assert.Equal(5 * 3, eager.Length);
        foreach (var compiled in new[] { compiledBefore, compiledAfter })
        {
            var fused = compiled.Forward(x).ToArray<float>();
            for (int i = 0; i < eager.Length; i++) Assert.Equal(eager[i], fused[i], 1e-5);
        }
        // The pruned output channel of fc2 is its bias alone.
        var mask = MaskOf(model.Fc2, "weight");
        int pruned = Enumerable.Range(0, 3).Single(r => mask[r * 8] == 0);
        using (Autograd.NoGrad())
        {
            var y = compiledAfter.Forward(x).ToArray2D<float>();
            var bias = model.Fc2.Bias!.ToArray<float>()[pruned];
            for (int r = 0; r < 5; r++) Assert.Equal(bias, y[r, pruned], 1e-6);
        }
    }

    sealed class FieldHolder : Module
    {
        readonly Tensor _w = Tensor.Ones(2).RequiresGrad_();
        public Tensor W => _w;
    }
}

/// <summary>A [Model] MLP whose built-in layers can be pruned (PruneTests).</summary>
[Model]
public sealed partial class PrunableMlp : Module<Tensor, Tensor>
{
    readonly Linear fc1 = new(6, 8), fc2 = new(8, 3);

    /// <summary>The first layer.</summary>
    public Linear Fc1 => fc1;

    /// <summary>The output layer.</summary>
    public Linear Fc2 => fc2;

    /// <inheritdoc/>
    public override Tensor Forward([Shape("N 6")] Tensor x) => fc2.Call(F.Relu(fc1.Call(x)));
}
