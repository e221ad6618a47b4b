using System;
using System.Linq;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Peft;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Peft;

/// <summary>LoRA on plain modules: a fresh adapter is a no-op, only adapter tensors train, gradients agree with finite differences, merges are exact.</summary>
public class LoraLayerTests
{
    sealed class Net : Module<Tensor, Tensor>
    {
        public Conv2d Conv = new(3, 4, 3, padding: 1);
        public Linear Fc1 = new(4 * 5 * 5, 16);
        public Linear Fc2 = new(16, 3);
        public Embedding Emb = new(10, 4);
        public override Tensor Forward(Tensor x) => Fc2.Forward(F.Relu(Fc1.Forward(F.Relu(Conv.Forward(x)).Flatten(1))));
    }

    static Tensor Input(int seed) { Generator.ManualSeed((ulong)seed); return Tensor.Randn(2, 3, 5, 5); }

    [Fact]
    public void FreshAdapterIsANoOpAndOnlyAdapterTensorsTrain()
    {
        Generator.ManualSeed(1);
        var net = new Net();
        var x = Input(2);
        Tensor before;
        using (Autograd.NoGrad()) before = net.Forward(x);
        var fc1 = net.Fc1.Weight.ToArray<float>();
        var peft = Kiln.Peft.Peft.GetPeftModel(net, new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = ["Conv", "Fc1"], ModulesToSave = ["Fc2"] });
        Assert.IsType<LoraConv2d>(net.Conv);
        Assert.IsType<LoraLinear>(net.Fc1);
        Assert.IsNotType<LoraLinear>(net.Fc2);
        using (Autograd.NoGrad()) Assert.Equal(before.ToArray<float>(), net.Forward(x).ToArray<float>());
        // Trainable: conv A [2,3,3,3] + B [4,2,1,1], fc1 A [2,100] + B [16,2], the Fc2 copy 16*3+3.
        Assert.Equal(54 + 8 + 200 + 32 + 51, peft.GetNbTrainableParameters().Trainable);
        var opt = new SGD(net.Parameters().Where(p => p.RequiresGrad), lr: 0.5);
        var target = Tensor.From(new long[] { 0, 2 }, 2);
        double first = 0, last = 0;
        for (int step = 0; step < 20; step++)
        {
            opt.ZeroGrad();
            var loss = F.CrossEntropy(net.Forward(x), target);
            loss.Backward();
            opt.Step();
            if (step == 0) first = loss.Item<float>(); last = loss.Item<float>();
        }
        Assert.True(last < first * 0.5, $"loss {first} -> {last}");
        Assert.Equal(fc1, net.Fc1.Weight.ToArray<float>());           // the base weight never moved
        Assert.Null(net.Fc1.Weight.Grad);
        using (peft.DisableAdapter())
        using (Autograd.NoGrad()) Assert.Equal(before.ToArray<float>(), net.Forward(x).ToArray<float>());
        Tensor adapted;
        using (Autograd.NoGrad()) adapted = net.Forward(x);
        var merged = peft.MergeAndUnload();
        Assert.IsNotType<LoraConv2d>(merged.Conv);
        using (Autograd.NoGrad())
        {
            var m = merged.Forward(x).ToArray<float>(); var a = adapted.ToArray<float>();
            for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - m[i]) <= 1e-5 + 1e-5 * Math.Abs(a[i]), $"{i}: {m[i]} vs {a[i]}");
        }
    }

    [Fact]
    public void GradientsMatchFiniteDifferencesInFloat64()
    {
        Generator.ManualSeed(3);
        var lin = new LoraLinear(new Linear(5, 4));
        lin.AddAdapter("default", 3, 0.7, 0, LoraInit.Random);
        lin.Lora.Active = ["default"];
        lin.To(DType.Float64);
        var x = Tensor.Randn(2, 5).RequiresGrad_();
        var a = ((Linear)lin.GetSubmodule("lora_A.default")).Weight;
        var b = ((Linear)lin.GetSubmodule("lora_B.default")).Weight;
        Assert.True(Autograd.GradCheck(t =>
        {
            lin.SetParameter("lora_A.default.weight", t[1]);
            lin.SetParameter("lora_B.default.weight", t[2]);
            return lin.Forward(t[0]).Tanh();
        }, [x, a, b]));

        var emb = new LoraEmbedding(new Embedding(7, 3));
        emb.AddAdapter("default", 2, 1.5, 0, LoraInit.Random);
        emb.Lora.Active = ["default"];
        emb.To(DType.Float64);
        var ids = Tensor.From(new long[] { 1, 6, 1, 0 }, 4);
        Assert.True(Autograd.GradCheck(t =>
        {
            emb.SetParameter("lora_embedding_A.default", t[0]);
            emb.SetParameter("lora_embedding_B.default", t[1]);
            return emb.Forward(ids).Sin();
        }, [emb.GetSubmodule("lora_embedding_A").Parameters().First(), emb.GetSubmodule("lora_embedding_B").Parameters().First()]));
    }

    [Fact]
    public void MergedDeltaEqualsTheAdapterPath()
    {
        Generator.ManualSeed(4);
        var conv = new LoraConv2d(new Conv2d(3, 5, 3, stride: 2, padding: 1));
        conv.AddAdapter("default", 2, 0.5, 0, LoraInit.Random);
        conv.Lora.Active = ["default"];
        var x = Tensor.Randn(2, 3, 7, 7);
        using var _ = Autograd.NoGrad();
        var unmerged = conv.Forward(x).ToArray<float>();
        LoraMath.Merge(conv);
        var merged = conv.Forward(x).ToArray<float>();
        for (int i = 0; i < merged.Length; i++) Assert.True(Math.Abs(merged[i] - unmerged[i]) <= 1e-5 + 1e-5 * Math.Abs(unmerged[i]), $"{i}: {merged[i]} vs {unmerged[i]}");
    }

    [Fact]
    public void TargetsFollowPeftsMatchingRules()
    {
        var cfg = new LoraConfig { TargetModules = ["q_proj", "v_proj"], LayersToTransform = [1] };
        Assert.True(cfg.IsTarget("model.layers.1.self_attn.q_proj"));
        Assert.False(cfg.IsTarget("model.layers.0.self_attn.q_proj"));
        Assert.False(cfg.IsTarget("model.layers.1.self_attn.qq_proj"));
        Assert.True(new LoraConfig { TargetModules = ["c_attn"], LayersToTransform = [0], LayersPattern = ["h"] }.IsTarget("transformer.h.0.attn.c_attn"));
        Assert.True(new LoraConfig { TargetModulesRegex = @".*\.(q|v)_proj" }.IsTarget("model.layers.3.self_attn.v_proj"));
        Assert.False(new LoraConfig { TargetModulesRegex = @".*\.(q|v)_proj" }.IsTarget("model.layers.3.self_attn.v_proj.x"));
        var patterns = new LoraConfig { R = 8, RankPattern = new System.Collections.Generic.Dictionary<string, int> { ["o_proj"] = 2, [@"layers\.0\.mlp\.down_proj"] = 3 } };
        Assert.Equal(2, patterns.RankFor("model.layers.5.self_attn.o_proj"));
        Assert.Equal(3, patterns.RankFor("model.layers.0.mlp.down_proj"));
        Assert.Equal(8, patterns.RankFor("model.layers.1.mlp.down_proj"));
    }

    [Fact]
    public void BadTargetsAreNamed()
    {
        var net = new Net();
        var none = Assert.Throws<KilnException>(() => Kiln.Peft.Peft.GetPeftModel(net, new LoraConfig { TargetModules = ["nothing"] }));
        Assert.Contains("[nothing] not found", none.Message);
        var seq = new Sequential(new Linear(2, 2), new ReLU());
        var unsupported = Assert.Throws<KilnException>(() => Kiln.Peft.Peft.GetPeftModel(seq, new LoraConfig { TargetModulesRegex = "1" }));
        Assert.Contains("'1' is a ReLU", unsupported.Message);
        Assert.Throws<KilnException>(() => Kiln.Peft.Peft.GetPeftModel(seq, new LoraConfig { R = 0, TargetModulesRegex = "0" }));
        // A Sequential's layer list follows the replacement.
        var lora = Kiln.Peft.Peft.GetPeftModel(seq, new LoraConfig { TargetModulesRegex = "0" });
        Assert.IsType<LoraLinear>(seq[0]);
    }
}
