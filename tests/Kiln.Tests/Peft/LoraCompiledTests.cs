using System.Linq;
using Kiln.NN;
using Kiln.Peft;
using Kiln.Quantization;
using Xunit;

namespace Kiln.Tests.Peft;

/// <summary>
/// LoRA inside a compiled [Model]: the adapters' low-rank product is computed in the layers' fused GEMMs (ReLU and GELU
/// epilogues, a plain output layer), forward and backward, and equals the eager model — output, input gradient and every
/// adapter's gradient — while the frozen base weights get none. Layers the fused GEMM cannot compute (adapter dropout
/// while training, a 4-bit base) make the compiled model run the eager Forward, with the same results.
/// </summary>
[Collection(DefaultGeneratorCollection.Name)]
public class LoraCompiledTests
{
    static Tensor Input() { Generator.ManualSeed(5); return Tensor.Randn(6, 24); }

    /// <summary>The model with LoRA on every Linear; B drawn at random (PEFT starts it at zero, which would hide errors).</summary>
    static (LoraTargetsMlp Model, PeftModel<LoraTargetsMlp> Peft) Adapted(double dropout = 0, bool secondAdapter = false)
    {
        Generator.ManualSeed(3);
        var model = new LoraTargetsMlp();
        var peft = Kiln.Peft.Peft.GetPeftModel(model, new LoraConfig { R = 4, LoraAlpha = 8, LoraDropout = dropout, TargetModules = ["fc1", "fc2", "head"] });
        if (secondAdapter) peft.AddAdapter("other", new LoraConfig { R = 2, LoraAlpha = 6, TargetModules = ["fc1", "head"] });
        using (Autograd.NoGrad())
            foreach (var (_, layer) in peft.LoraLayers)
            {
                if (secondAdapter && layer.Lora.Contains("other")) layer.Lora.SetActive("default", "other");
                foreach (var name in layer.Lora.Names)
                    foreach (var (suffix, t) in layer.AdapterTensors(name))
                        if (suffix.StartsWith("lora_B", System.StringComparison.Ordinal)) Init.Normal_(t, 0, 0.3);
            }
        return (model, peft);
    }

    static (float[] Output, float[] InputGrad, float[][] Grads) Step(System.Func<Tensor, Tensor> forward, LoraTargetsMlp model)
    {
        foreach (var p in model.Parameters()) p.Grad = null;
        var x = Input().RequiresGrad_();
        Generator.ManualSeed(11);
        var y = forward(x);
        var cot = Tensor.Linspace(-1, 1, (int)y.Numel).View(y.ShapeArray);
        (y * cot).Sum().Backward();
        var grads = model.NamedParameters().Where(p => p.Parameter.RequiresGrad).Select(p => p.Parameter.Grad?.ToArray<float>() ?? []).ToArray();
        return (y.ToArray<float>(), x.Grad!.ToArray<float>(), grads);
    }

    static void Close(float[] want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(System.Math.Abs(want[i] - got[i]) <= 1e-5 + 1e-4 * System.Math.Abs(want[i]), $"{what}[{i}]: compiled {got[i]} vs eager {want[i]}");
    }

    static void CompiledEqualsEager(LoraTargetsMlp model)
    {
        var compiled = model.Compile();
        var eager = Step(model.Forward, model);
        var fused = Step(compiled.Forward, model);
        Close(eager.Output, fused.Output, "output");
        Close(eager.InputGrad, fused.InputGrad, "input gradient");
        Assert.Equal(eager.Grads.Length, fused.Grads.Length);
        for (int k = 0; k < eager.Grads.Length; k++) Close(eager.Grads[k], fused.Grads[k], $"parameter {k}");
    }

    [Fact]
    public void FusedAdaptersEqualEagerAndTheBaseGetsNoGradient()
    {
        var (model, _) = Adapted();
        Assert.True(Kiln.Compilation.CompiledOps.Fusable((Linear)model.GetSubmodule("fc1")));
        Assert.NotNull(Kiln.Compilation.CompiledOps.LowRank((Linear)model.GetSubmodule("fc1")));
        CompiledEqualsEager(model);
        // Only the six adapter matrices train; the base weights and biases saved no gradient.
        Assert.Equal(6, model.Parameters().Count(p => p.RequiresGrad));
        Assert.All(model.NamedParameters().Where(p => !p.Name.Contains("lora_")), p => Assert.Null(p.Parameter.Grad));
        Assert.All(model.NamedParameters().Where(p => p.Name.Contains("lora_")), p => Assert.True(p.Parameter.Grad!.Abs().Max().Item<float>() > 0, p.Name));
    }

    [Fact]
    public void TwoActiveAdaptersAreTwoTermsOfTheSameGemm()
    {
        var (model, _) = Adapted(secondAdapter: true);
        Assert.Equal(2, ((ILowRankLinear)model.GetSubmodule("fc1")).FusableTerms()!.Count);
        CompiledEqualsEager(model);
    }

    [Fact]
    public void EvalModeAndMergedAdaptersStayFused()
    {
        var (model, peft) = Adapted(dropout: 0.2);
        model.Eval();
        Assert.True(Kiln.Compilation.CompiledOps.Fusable((Linear)model.GetSubmodule("fc2")));   // dropout off in eval
        CompiledEqualsEager(model);
        peft.MergeAdapter();
        Assert.Null(Kiln.Compilation.CompiledOps.LowRank((Linear)model.GetSubmodule("fc2")));  // merged: in the base weight
        var x = Input();
        using (Autograd.NoGrad()) Close(model.Forward(x).ToArray<float>(), model.Compile().Forward(x).ToArray<float>(), "merged output");
    }

    [Fact]
    public void AdapterDropoutWhileTrainingRunsTheEagerForward()
    {
        var (model, _) = Adapted(dropout: 0.3);
        Assert.False(Kiln.Compilation.CompiledOps.Fusable((Linear)model.GetSubmodule("fc1")));
        CompiledEqualsEager(model);     // the same dropout draws: the compiled model handed the call to Forward
    }

    [Fact]
    public void AQuantizedBaseRunsTheEagerForward()
    {
        // Before the guard a compiled model read a 4-bit layer's Weight as if it were a plain Linear.
        Generator.ManualSeed(3);
        var model = new LoraTargetsMlp();
        model.SetSubmodule("fc2", new Linear4bit((Linear)model.GetSubmodule("fc2")));
        model.Eval();   // no dropout draws between the two calls
        Assert.False(Kiln.Compilation.CompiledOps.Fusable((Linear)model.GetSubmodule("fc2")));
        var x = Input();
        using (Autograd.NoGrad()) Close(model.Forward(x).ToArray<float>(), model.Compile().Forward(x).ToArray<float>(), "output");
        // QLoRA over it: also eager, also equal.
        var peft = Kiln.Peft.Peft.GetPeftModel(model, new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = ["fc2"] });
        Assert.False(Kiln.Compilation.CompiledOps.Fusable((Linear)model.GetSubmodule("fc2")));
        using (Autograd.NoGrad()) Close(model.Forward(x).ToArray<float>(), model.Compile().Forward(x).ToArray<float>(), "QLoRA output");
        Assert.NotNull(peft);
    }
}

/// <summary>A [Model] MLP whose three Linear layers take LoRA: a ReLU + dropout epilogue (its backward gated by the output), a GELU epilogue, a plain output layer.</summary>
[Model]
public sealed partial class LoraTargetsMlp : Module<Tensor, Tensor>
{
    // Not readonly: GetPeftModel puts LoRA layers in their place.
    Linear fc1 = new(24, 32), fc2 = new(32, 16), head = new(16, 5);
    readonly Dropout drop = new(0.25);

    /// <inheritdoc/>
    public override Tensor Forward([Shape("N 24")] Tensor x) => head.Call(F.Gelu(fc2.Call(drop.Call(F.Relu(fc1.Call(x))))));
}
