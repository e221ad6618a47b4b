using System;
using System.IO;
using Kiln.IO;
using Kiln.Transformers;
using Xunit;
using static Kiln.Tests.Gpu.EmulatedCuda;

namespace Kiln.Tests.Gpu;

/// <summary>
/// Kiln.Transformers' models loaded onto the (emulated) CUDA device: a padded batch's outputs equal the same model's on the
/// CPU (rotary tables, masks and positions made where the model lives), and generation gives the greedy tokens
/// transformers itself recorded.
/// </summary>
[Collection(EmulatedCuda.Collection)]
public class LanguageModelsOnDeviceTests
{
    static string Dir(string name) => Path.Combine(AppContext.BaseDirectory, "golden", "hf", name);

    [Theory]
    [InlineData("llama_gqa")]
    [InlineData("gpt2")]
    public void LogitsAndGreedyTokensMatchTheCpu(string name)
    {
        using var cuda = new EmulatedCuda();
        var expected = SafeTensors.Load(Path.Combine(Dir(name), "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(Dir(name), DType.Float32, Device.Cuda());
        var cpu = AutoModelForCausalLM.FromPretrained(Dir(name));
        var ids = expected["input_ids"];
        var mask = expected["attention_mask"];
        using (Autograd.NoGrad())
            Same(cpu.Forward(ids, mask), model.Forward(ids.Cuda(), mask.Cuda()), 1e-4, name + " logits", 1e-5);
        // Three new tokens (the emulator is slow): the first three of transformers' six, prompt included, on the prompt's device.
        var output = model.Generate(ids.Cuda(), new GenerationConfig { MaxNewTokens = 3 }, mask.Cuda());
        Assert.True(output.IsCuda);
        Assert.Equal(expected["greedy"].Narrow(1, 0, ids.Size(1) + 3).ToArray<long>(), output.Cpu().ToArray<long>());
    }

    [Fact]
    public void BertMatchesTheCpu()
    {
        using var cuda = new EmulatedCuda();
        var expected = SafeTensors.Load(Path.Combine(Dir("bert"), "expected.safetensors"));
        var model = (BertModel)AutoModel.FromPretrained(Dir("bert"), DType.Float32, Device.Cuda());
        var cpu = (BertModel)AutoModel.FromPretrained(Dir("bert"));
        using var _ = Autograd.NoGrad();
        var (last, pooled) = cpu.Forward(expected["input_ids"], expected["attention_mask"]);
        var (lastDevice, pooledDevice) = model.Forward(expected["input_ids"].Cuda(), expected["attention_mask"].Cuda());
        Same(last, lastDevice, 1e-4, "last_hidden_state", 1e-5);
        Same(pooled!, pooledDevice!, 1e-4, "pooler_output", 1e-5);
    }
}
