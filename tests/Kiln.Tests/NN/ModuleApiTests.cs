using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.NN;
using Kiln.Optim;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>A user model as the issue writes it: fields only, no registration calls.</summary>
public class SimpleClassifier : Module<Tensor, Tensor>
{
    readonly Linear layer1, layer2;
    readonly Dropout dropout = new(0.2);

    public SimpleClassifier(int inputSize, int numClasses)
    {
        layer1 = new Linear(inputSize, 128);
        layer2 = new Linear(128, numClasses);
    }

    public override Tensor Forward(Tensor x) => layer2.Call(dropout.Call(F.Relu(layer1.Call(x))));
}

/// <summary>Parameters and buffers as fields, an auto-property submodule, and a list of blocks.</summary>
public class Custom : Module<Tensor, Tensor>
{
    readonly Tensor scale = Parameter(Tensor.Ones(3));
    [Buffer] readonly Tensor offsets = Tensor.Zeros(3);
    readonly Tensor notAMember = Tensor.Ones(1); // a plain constant: not registered
    public ModuleList<Linear> Blocks { get; } = new(new Linear(3, 3), new Linear(3, 3));

    public override Tensor Forward(Tensor x)
    {
        foreach (var b in Blocks) x = b.Call(x);
        return x * scale + offsets + notAMember * 0;
    }
}

public class ModuleApiTests
{
    [Fact]
    public void FieldsAreRegisteredWithTheirNamesInDeclarationOrder()
    {
        var m = new SimpleClassifier(784, 10);
        Assert.Equal(["layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias"], m.NamedParameters().Select(p => p.Name));
        Assert.Equal(["layer1", "layer2", "dropout"], m.NamedChildren().Select(c => c.Name));
        Assert.Equal(784 * 128 + 128 + 128 * 10 + 10, m.Parameters().Sum(p => p.Numel));
        Assert.Equal(4, m.Modules().Count());
    }

    [Fact]
    public void PrintsLikePyTorch()
    {
        var expected = "SimpleClassifier(\n  (layer1): Linear(in_features=784, out_features=128, bias=True)\n" +
                       "  (layer2): Linear(in_features=128, out_features=10, bias=True)\n  (dropout): Dropout(p=0.2, inplace=False)\n)";
        Assert.Equal(expected, new SimpleClassifier(784, 10).ToString());
        Assert.Equal("RMSNorm((8,), eps=None, elementwise_affine=True)", new RMSNorm(8).ToString());
        Assert.Equal("RMSNorm((8,), eps=1e-06, elementwise_affine=True)", new RMSNorm(8, 1e-6).ToString());
        Assert.Equal("Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=same)", new Conv2d(3, 8, 3, "same").ToString());
    }

    [Fact]
    public void ParametersBuffersAndPropertyModulesFromFields()
    {
        var m = new Custom();
        Assert.Equal(["scale", "Blocks.0.weight", "Blocks.0.bias", "Blocks.1.weight", "Blocks.1.bias"], m.NamedParameters().Select(p => p.Name));
        Assert.Equal(["offsets"], m.NamedBuffers().Select(b => b.Name));
        Assert.Equal(["scale", "offsets", "Blocks.0.weight", "Blocks.0.bias", "Blocks.1.weight", "Blocks.1.bias"], m.StateDict().Keys);
    }

    [Fact]
    public void StateDictRoundTripReproducesOutputs()
    {
        var a = new TransformerEncoderLayer(16, 4, 32, dropout: 0, batchFirst: true);
        var b = new TransformerEncoderLayer(16, 4, 32, dropout: 0, batchFirst: true);
        var x = Tensor.Randn([2, 5, 16], DType.Float32, new Generator(3));
        Assert.NotEqual(a.Forward(x).ToArray<float>(), b.Forward(x).ToArray<float>());
        var result = b.LoadStateDict(a.StateDict());
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.Equal(a.Forward(x).ToArray<float>(), b.Forward(x).ToArray<float>());
        // The state dict is a snapshot of names, but its tensors share storage with the module (as in PyTorch).
        var sd = a.StateDict();
        using (Autograd.NoGrad()) sd["linear1.bias"].Fill_(7);
        Assert.All(((Linear)a.NamedModules().First(n => n.Name == "linear1").Module).Bias!.ToArray<float>(), v => Assert.Equal(7f, v));
    }

    [Fact]
    public void StrictLoadingReportsMissingAndUnexpectedKeysAndWritesNothing()
    {
        var m = new SimpleClassifier(4, 2);
        var before = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var sd = new SimpleClassifier(4, 2).StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        sd.Remove("layer2.bias");
        sd["layer3.weight"] = Tensor.Zeros(2, 2);
        var e = Assert.Throws<KilnException>(() => m.LoadStateDict(sd));
        Assert.Contains("Error(s) in loading state_dict for SimpleClassifier", e.Message);
        Assert.Contains("Missing key(s) in state_dict: \"layer2.bias\"", e.Message);
        Assert.Contains("Unexpected key(s) in state_dict: \"layer3.weight\"", e.Message);
        foreach (var (k, v) in m.StateDict()) Assert.Equal(before[k].ToArray<float>(), v.ToArray<float>());

        var lenient = m.LoadStateDict(sd, strict: false);
        Assert.Equal(["layer2.bias"], lenient.MissingKeys);
        Assert.Equal(["layer3.weight"], lenient.UnexpectedKeys);
        Assert.Equal(sd["layer1.weight"].ToArray<float>(), m.StateDict()["layer1.weight"].ToArray<float>());
    }

    [Fact]
    public void ShapeMismatchNamesTheKeyAndBothShapes()
    {
        var m = new SimpleClassifier(4, 2);
        var before = m.StateDict()["layer1.weight"].Clone().ToArray<float>();
        var sd = new SimpleClassifier(4, 3).StateDict();
        var e = Assert.Throws<KilnException>(() => m.LoadStateDict(sd));
        Assert.Contains("size mismatch for layer2.weight: copying a param with shape [3, 128] from checkpoint, the shape in current model is [2, 128].", e.Message);
        Assert.Equal(before, m.StateDict()["layer1.weight"].ToArray<float>());
    }

    [Fact]
    public void TrainEvalPropagatesAndChangesBehaviour()
    {
        var m = new Sequential(new Linear(4, 4), new Dropout(0.5), new BatchNorm1d(4));
        Assert.True(m.Modules().All(x => x.Training));
        m.Eval();
        Assert.True(m.Modules().All(x => !x.Training));
        var x = Tensor.Randn(8, 4);
        Assert.Equal(m.Forward(x).ToArray<float>(), m.Forward(x).ToArray<float>()); // eval: deterministic
        m.Train();
        Assert.True(m.Modules().All(x => x.Training));
    }

    [Fact]
    public void ToDtypeKeepsParameterObjectsSoOptimizersStillWork()
    {
        var m = new Linear(3, 2);
        var w = m.Weight;
        var opt = new SGD(m.Parameters(), lr: 0.1);
        m.To(DType.Float64);
        Assert.Same(w, m.Weight);
        Assert.Equal(DType.Float64, m.Weight.DType);
        Assert.True(m.Weight.RequiresGrad);
        var x = Tensor.Ones([1, 3], DType.Float64);
        var before = m.Weight.ToArray<double>();
        m.Forward(x).Sum().Backward();
        opt.Step();
        var after = m.Weight.ToArray<double>();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i] - 0.1, after[i], 12);
        Assert.Throws<KilnException>(() => m.To(DType.Int32));
    }

    [Fact]
    public void ZeroGradAndFreezing()
    {
        var m = new SimpleClassifier(4, 2);
        m.Forward(Tensor.Randn(3, 4)).Sum().Backward();
        Assert.All(m.Parameters(), p => Assert.NotNull(p.Grad));
        m.ZeroGrad(setToNone: false);
        Assert.All(m.Parameters(), p => Assert.All(p.Grad!.ToArray<float>(), v => Assert.Equal(0f, v)));
        m.ZeroGrad();
        Assert.All(m.Parameters(), p => Assert.Null(p.Grad));
        m.RequiresGrad_(false);
        var y = m.Forward(Tensor.Randn(3, 4));
        Assert.False(y.RequiresGrad);
    }

    [Fact]
    public void ApplyVisitsChildrenFirst()
    {
        var m = new SimpleClassifier(4, 2);
        var order = new List<string>();
        m.Apply(x => order.Add(x.GetType().Name));
        Assert.Equal(["Linear", "Linear", "Dropout", "SimpleClassifier"], order);
        m.Apply(x => { if (x is Linear l) Init.Zeros_(l.Weight); });
        Assert.All(m.Parameters().Where(p => p.Dim == 2), p => Assert.All(p.ToArray<float>(), v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void ForwardHooksSeeAndReplaceValuesAndCanBeRemoved()
    {
        var lin = new Linear(2, 2);
        var seq = new Sequential(lin, new ReLU());
        Tensor? seen = null;
        using (lin.RegisterForwardHook((mod, input, output) => { seen = output; }))
        {
            var y = seq.Forward(Tensor.Ones(1, 2));
            Assert.NotNull(seen);
            Assert.Equal(lin.Forward(Tensor.Ones(1, 2)).ToArray<float>(), seen!.ToArray<float>());
        }
        seen = null;
        seq.Forward(Tensor.Ones(1, 2));
        Assert.Null(seen); // removed
        using var pre = lin.RegisterForwardPreHook((mod, input) => input * 0);
        using var post = lin.RegisterForwardHook((mod, input, output) => output + 1);
        var z = lin.Call(Tensor.Ones(1, 2));
        var expected = lin.Bias!.ToArray<float>().Select(b => b + 1).ToArray();
        Assert.Equal(expected, z.ToArray<float>());
    }

    [Fact]
    public void ModuleListAndDictNames()
    {
        var d = new ModuleDict<Module>(("enc", new Linear(2, 3)), ("act", new ReLU()));
        Assert.Equal(["enc.weight", "enc.bias"], d.NamedParameters().Select(p => p.Name));
        Assert.Equal("ModuleDict(\n  (enc): Linear(in_features=2, out_features=3, bias=True)\n  (act): ReLU()\n)", d.ToString());
        var enc = new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16), 2);
        Assert.Contains("layers.1.self_attn.in_proj_weight", enc.StateDict().Keys);
        Assert.Contains("layers.1.linear2.bias", enc.StateDict().Keys);
        // Stacked layers start from the same weights (PyTorch deep-copies the layer) but are separate tensors.
        var sd = enc.StateDict();
        Assert.Equal(sd["layers.0.linear1.weight"].ToArray<float>(), sd["layers.1.linear1.weight"].ToArray<float>());
        Assert.NotSame(enc.Layers[0].SelfAttn, enc.Layers[1].SelfAttn);
    }
}
