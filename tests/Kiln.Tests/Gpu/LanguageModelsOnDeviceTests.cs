using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
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
        // Transformers' six new tokens, prompt included, on the prompt's device.
        var output = model.Generate(ids.Cuda(), new GenerationConfig { MaxNewTokens = 6 }, mask.Cuda());
        Assert.True(output.IsCuda);
        Assert.Equal(expected["greedy"].ToArray<long>(), output.Cpu().ToArray<long>());
    }

    /// <summary>
    /// Compiled blocks on the device: each block runs as its generated node (GPT-2's Conv1D weights, stored [in, out],
    /// read through their transposed view), and a padded training step gives the CPU eager model's loss and gradients.
    /// </summary>
    [Theory]
    [InlineData("llama", "LlamaDecoderLayerBackward")]
    [InlineData("gpt2", "GPT2BlockBackward")]
    public void CompiledBlocksTrainOnTheDeviceAsOnTheCpu(string family, string blockNode)
    {
        using var cuda = new EmulatedCuda();
        var ids = Tensor.From(new long[] { 3, 17, 9, 30, 4, 11, 25, 8, 1, 19, 6, 14 }, 2, 6);
        var mask = Tensor.From(new long[] { 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 2, 6);
        CausalLanguageModel Tiny()
        {
            Generator.ManualSeed(9);
            return family == "gpt2"
                ? new GPT2LMHeadModel(new GPT2Config { VocabSize = 32, NEmbd = 16, NLayer = 2, NHead = 2, NPositions = 16, NInner = 32 })
                : new LlamaForCausalLM(new LlamaConfig { VocabSize = 32, HiddenSize = 16, IntermediateSize = 24, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 16 });
        }
        (Tensor Loss, Tensor[] Grads, string? Node) Step(CausalLanguageModel model, Tensor i, Tensor m)
        {
            var hidden = new System.Collections.Generic.List<Tensor>();
            var logits = model.Forward(i, m, hidden);
            var loss = Kiln.NN.F.CrossEntropy(logits.Narrow(1, 0, 5).Reshape(-1, 32), i.Narrow(1, 1, 5).Reshape(-1));
            loss.Backward();
            return (loss.Detach(), model.Parameters().Select(p => p.Grad!).ToArray(), hidden[1].GradFn?.Name);
        }
        var cpu = Step(Tiny(), ids, mask);
        var eagerModel = Tiny();
        eagerModel.To(Device.Cuda());
        var eagerDevice = Step(eagerModel, ids.Cuda(), mask.Cuda());
        for (int k = 0; k < cpu.Grads.Length; k++) Same(cpu.Grads[k], eagerDevice.Grads[k], 1e-4, $"eager gradient {k}", 1e-6);
        var model = Tiny();
        model.To(Device.Cuda());
        ((IBlockCompilation)model).Compile();
        var device = Step(model, ids.Cuda(), mask.Cuda());
        Assert.Equal(blockNode, device.Node);
        Same(cpu.Loss, device.Loss, 1e-5, "loss");
        for (int k = 0; k < cpu.Grads.Length; k++) Same(cpu.Grads[k], device.Grads[k], 1e-4, $"gradient {k}", 1e-6);
    }

    /// <summary>BERT's compiled layers on the device: a padded training step gives the CPU eager model's gradients.</summary>
    [Fact]
    public void CompiledBertLayersTrainOnTheDeviceAsOnTheCpu()
    {
        using var cuda = new EmulatedCuda();
        var ids = Tensor.From(new long[] { 2, 17, 9, 25, 4, 11, 1, 8, 0, 0 }, 2, 5);
        var mask = Tensor.From(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, 2, 5);
        BertModel Tiny()
        {
            Generator.ManualSeed(4);
            return new BertModel(new BertConfig { VocabSize = 30, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 32, MaxPositionEmbeddings = 16 });
        }
        (Tensor[] Grads, string? Node) Step(BertModel model, Tensor i, Tensor m)
        {
            var hidden = new System.Collections.Generic.List<Tensor>();
            var (last, pooled) = model.Forward(i, m, null, hidden);
            ((last * last).Mean() + pooled!.Sum()).Backward();
            return (model.Parameters().Select(p => p.Grad!).ToArray(), hidden[1].GradFn?.Name);
        }
        var cpu = Step(Tiny(), ids, mask);
        var model = Tiny();
        model.To(Device.Cuda());
        model.Compile();
        var device = Step(model, ids.Cuda(), mask.Cuda());
        Assert.Equal("BertLayerBackward", device.Node);
        for (int k = 0; k < cpu.Grads.Length; k++) Same(cpu.Grads[k], device.Grads[k], 1e-4, $"gradient {k}", 1e-6);
    }

    /// <summary>
    /// The Trainer with a model on the device moves each batch there (as Hugging Face's does): two steps of a padded batch
    /// end with the CPU run's parameters, and compute_metrics receives host tensors.
    /// </summary>
    [Fact]
    public void TheTrainerTrainsAModelOnTheDevice()
    {
        using var cuda = new EmulatedCuda();
        var dir = Path.Combine(Path.GetTempPath(), "kiln-device-trainer-" + Guid.NewGuid().ToString("N"));
        try
        {
            (LlamaForCausalLM Model, IReadOnlyDictionary<string, double> Eval) Run(Device device)
            {
                var model = Kiln.Tests.Transformers.TrainerTests.TinyLlama(6);
                model.To(device);
                var args = new Kiln.Transformers.Training.TrainingArguments { OutputDir = dir, MaxSteps = 2, PerDeviceTrainBatchSize = 4, LearningRate = 1e-2, SaveStrategy = "no", DisableTqdm = true };
                var trainer = new Kiln.Transformers.Training.Trainer(model, args, Kiln.Tests.Transformers.TrainerTests.Counting(4, 7, 3), new Kiln.Transformers.Training.DataCollatorForLanguageModeling(0),
                    Kiln.Tests.Transformers.TrainerTests.Counting(2, 7, 4), computeMetrics: p =>
                    {
                        Assert.False(p.Predictions.IsCuda);
                        return new Dictionary<string, double> { ["first_logit"] = p.Predictions.Flatten().Narrow(0, 0, 1).Item<float>() };
                    });
                trainer.Train();
                return (model, trainer.Evaluate());
            }
            var cpu = Run(Device.Cpu);
            var device = Run(Device.Cuda());
            var onDevice = device.Model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
            // Adam divides by each gradient's running size: last-bit differences of tiny gradients move a weight by up to
            // ~1e-5 (the learning rate is 1e-2).
            foreach (var (name, p) in cpu.Model.NamedParameters()) Same(p, onDevice[name], 1e-4, name, 1e-4);
            Assert.Equal(cpu.Eval["eval_loss"], device.Eval["eval_loss"], 1e-4);
            Assert.Equal(cpu.Eval["eval_first_logit"], device.Eval["eval_first_logit"], 1e-4);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
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
