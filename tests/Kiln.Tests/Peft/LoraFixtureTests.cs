using System;
using System.IO;
using System.Linq;
using Kiln.IO;
using Kiln.NN;
using Kiln.Peft;
using Kiln.Tests.Transformers;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Peft;

/// <summary>
/// LoRA adapters written by PEFT 0.21 itself (tests/golden/data/hf/lora_*, from tests/golden/hf_fixtures.py): Kiln loads
/// each folder over its base model and matches PEFT's logits with the adapter on, off, and merged into the weights
/// (fp32 1e-4), counts trainable parameters in PEFT's words, and writes the same key set and tensors back.
/// </summary>
public class LoraFixtureTests
{
    public static TheoryData<string> Adapters => new() { "lora_llama_qv", "lora_llama_all_rslora", "lora_llama_embed_save", "lora_gpt2_conv1d" };

    internal static Module Base(string adapter) =>
        (Module)AutoModelForCausalLM.FromPretrained(HuggingFaceFixtureTests.Dir(File.ReadAllText(Path.Combine(HuggingFaceFixtureTests.Dir(adapter), "base.txt")).Trim()));

    static Tensor Logits(Module m, Tensor ids, Tensor mask)
    {
        using var _ = Autograd.NoGrad();
        return ((ICausalLM)m).Forward(ids, mask);
    }

    [Theory, MemberData(nameof(Adapters))]
    public void LogitsMatchPeftOnOffAndMerged(string name)
    {
        var expected = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir(name), "expected.safetensors"));
        var ids = expected["input_ids"]; var mask = expected["attention_mask"]; var real = mask.ToArray<long>();
        // PEFT's own spelling, PeftModel.from_pretrained(base, dir) (the other tests load through Peft.FromPretrained).
        var peft = Kiln.Peft.PeftModel.FromPretrained(Base(name), HuggingFaceFixtureTests.Dir(name));
        LlamaGoldenTests.Close(expected["logits"], Logits(peft.Model, ids, mask), real, "adapter on");
        using (peft.DisableAdapter())
            LlamaGoldenTests.Close(expected["base_logits"], Logits(peft.Model, ids, mask), real, "adapter off");
        LlamaGoldenTests.Close(expected["logits"], Logits(peft.Model, ids, mask), real, "adapter back on");
        var merged = peft.MergeAndUnload();
        Assert.DoesNotContain(merged.Modules(), m => m is ILoraLayer);
        LlamaGoldenTests.Close(expected["merged_logits"], Logits(merged, ids, mask), real, "merged");
    }

    [Theory, MemberData(nameof(Adapters))]
    public void TrainableParametersAreCountedInPeftsWords(string name)
    {
        var peft = Kiln.Peft.Peft.FromPretrained(Base(name), HuggingFaceFixtureTests.Dir(name), isTrainable: true);
        string want = File.ReadAllText(Path.Combine(HuggingFaceFixtureTests.Dir(name), "print_trainable_parameters.txt")).Trim();
        Assert.Equal(want, peft.PrintTrainableParameters());
        var frozen = Kiln.Peft.Peft.FromPretrained(Base(name), HuggingFaceFixtureTests.Dir(name));
        Assert.Equal(0, frozen.GetNbTrainableParameters().Trainable);
    }

    [Theory, MemberData(nameof(Adapters))]
    public void SavedAdapterHasPeftsKeysAndTensors(string name)
    {
        var peft = Kiln.Peft.Peft.FromPretrained(Base(name), HuggingFaceFixtureTests.Dir(name));
        string dir = Path.Combine(Path.GetTempPath(), "kiln-peft-" + Guid.NewGuid().ToString("N"));
        try
        {
            peft.SavePretrained(dir);
            var theirs = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir(name), "adapter_model.safetensors"));
            var ours = SafeTensors.Load(Path.Combine(dir, "adapter_model.safetensors"));
            Assert.Equal(theirs.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
            foreach (var (k, t) in theirs) Assert.Equal(t.ToArray<float>(), ours[k].ToArray<float>());
            var a = LoraConfig.FromFile(Path.Combine(HuggingFaceFixtureTests.Dir(name), "adapter_config.json"));
            var b = LoraConfig.FromFile(Path.Combine(dir, "adapter_config.json"));
            Assert.Equal((a.R, a.LoraAlpha, a.UseRslora, a.FanInFanOut, a.Bias), (b.R, b.LoraAlpha, b.UseRslora, b.FanInFanOut, b.Bias));
            Assert.Equal(a.TargetModules, b.TargetModules);
            Assert.Equal(a.RankPattern, b.RankPattern);
            Assert.Equal(a.AlphaPattern, b.AlphaPattern);
            Assert.Equal(a.LayersToTransform, b.LayersToTransform);
            Assert.Equal(a.ModulesToSave, b.ModulesToSave);
            // And Kiln reads back what it wrote: the same logits.
            var expected = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir(name), "expected.safetensors"));
            var again = Kiln.Peft.Peft.FromPretrained(Base(name), dir);
            LlamaGoldenTests.Close(expected["logits"], Logits(again.Model, expected["input_ids"], expected["attention_mask"]), expected["attention_mask"].ToArray<long>(), "reloaded");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void NamedAdaptersSwitch()
    {
        var qv = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir("lora_llama_qv"), "expected.safetensors"));
        var all = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir("lora_llama_all_rslora"), "expected.safetensors"));
        var peft = Kiln.Peft.Peft.FromPretrained(Base("lora_llama_qv"), HuggingFaceFixtureTests.Dir("lora_llama_qv"), "qv");
        peft.LoadAdapter(HuggingFaceFixtureTests.Dir("lora_llama_all_rslora"), "all");
        Assert.Equal("qv", peft.ActiveAdapter);
        var ids = qv["input_ids"]; var mask = qv["attention_mask"]; var real = mask.ToArray<long>();
        LlamaGoldenTests.Close(qv["logits"], Logits(peft.Model, ids, mask), real, "qv");
        peft.SetAdapter("all");
        LlamaGoldenTests.Close(all["logits"], Logits(peft.Model, all["input_ids"], all["attention_mask"]), all["attention_mask"].ToArray<long>(), "all");
        // Merging the active adapter and unmerging it gives the base weights back.
        var q = ((LlamaForCausalLM)peft.Model).Model.Layers[1].SelfAttn.QProj.Weight;
        var before = q.ToArray<float>();
        peft.MergeAdapter();
        Assert.NotEqual(before, q.ToArray<float>());
        LlamaGoldenTests.Close(all["logits"], Logits(peft.Model, all["input_ids"], all["attention_mask"]), all["attention_mask"].ToArray<long>(), "merged all");
        peft.UnmergeAdapter();
        var after = q.ToArray<float>();
        for (int i = 0; i < before.Length; i++) Assert.True(Math.Abs(before[i] - after[i]) < 1e-6, $"weight {i}");
        peft.DeleteAdapter("all");
        Assert.Equal("qv", peft.ActiveAdapter);
        LlamaGoldenTests.Close(qv["logits"], Logits(peft.Model, ids, mask), real, "qv after delete");
    }

    [Fact]
    public void BadAdaptersFailClearlyAndLeaveTheModelAsItWas()
    {
        var model = Base("lora_gpt2_conv1d");
        var ex = Assert.Throws<KilnException>(() => Kiln.Peft.Peft.FromPretrained(model, HuggingFaceFixtureTests.Dir("lora_llama_qv")));
        Assert.Contains("q_proj", ex.Message);
        Assert.DoesNotContain(model.Modules(), m => m is ILoraLayer);

        string dir = Path.Combine(Path.GetTempPath(), "kiln-peft-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // A rank that disagrees with the saved matrices: the key and both shapes are named.
            var cfg = File.ReadAllText(Path.Combine(HuggingFaceFixtureTests.Dir("lora_llama_qv"), "adapter_config.json")).Replace("\"r\": 4", "\"r\": 8");
            File.WriteAllText(Path.Combine(dir, "adapter_config.json"), cfg);
            File.Copy(Path.Combine(HuggingFaceFixtureTests.Dir("lora_llama_qv"), "adapter_model.safetensors"), Path.Combine(dir, "adapter_model.safetensors"));
            var llama = Base("lora_llama_qv");
            var shape = Assert.Throws<KilnException>(() => Kiln.Peft.Peft.FromPretrained(llama, dir));
            Assert.Contains("lora_A.weight", shape.Message);
            Assert.Contains("[4, 32]", shape.Message);
            Assert.Contains("[8, 32]", shape.Message);
            Assert.DoesNotContain(llama.Modules(), m => m is LoraLinear { Lora.Names.Count: > 0 });
            // A missing tensor is listed.
            var tensors = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir("lora_llama_qv"), "adapter_model.safetensors"));
            tensors.Remove("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight");
            File.WriteAllText(Path.Combine(dir, "adapter_config.json"), File.ReadAllText(Path.Combine(HuggingFaceFixtureTests.Dir("lora_llama_qv"), "adapter_config.json")));
            SafeTensors.Save(Path.Combine(dir, "adapter_model.safetensors"), tensors);
            var missing = Assert.Throws<KilnException>(() => Kiln.Peft.Peft.FromPretrained(Base("lora_llama_qv"), dir));
            Assert.Contains("missing keys: base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", missing.Message);
        }
        finally { Directory.Delete(dir, true); }
        Assert.Throws<FileNotFoundException>(() => Kiln.Peft.Peft.FromPretrained(Base("lora_llama_qv"), Path.Combine(dir, "nowhere")));
    }
}
