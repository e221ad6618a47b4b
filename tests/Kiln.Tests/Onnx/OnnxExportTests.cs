using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln.NN;
using Kiln.Onnx.Export;
using Kiln.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace Kiln.Tests.Onnx;

/// <summary>
/// Models exported by tracing (<see cref="OnnxExport"/>) run in ONNX Runtime and give Kiln's outputs within 1e-4, at the
/// traced batch size and at another (the batch axis is free), and run back in Kiln's own <see cref="OnnxSession"/>: the
/// samples' classifiers (QuickStart's DigitClassifier, FashionMnist's MLP and LeNet, as [Model] classes), a CNN with
/// BatchNorm, GELU and average pooling by mean, and a LayerNorm/softmax block.
/// </summary>
public class OnnxExportTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-onnx-" + Guid.NewGuid().ToString("N"));

    public OnnxExportTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    public static IEnumerable<object[]> Models() => [["digits"], ["mlp"], ["lenet"], ["bn-cnn"], ["norm-block"], ["activations"]];

    static (Module<Tensor, Tensor> Model, int[] Input) Build(string name)
    {
        Generator.ManualSeed(7);
        return name switch
        {
            "digits" => (new ExportDigitClassifier(), [4, 64]),
            "mlp" => (new ExportMlp(), [4, 784]),
            "lenet" => (new ExportLeNet(), [4, 1, 28, 28]),
            "bn-cnn" => (new BnCnn(), [4, 3, 16, 16]),
            "activations" => (new ActivationBlock(), [4, 16]),
            _ => (new NormBlock(), [4, 6, 16]),
        };
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ExportedModelsRunInOnnxRuntimeAsInKiln(string name)
    {
        var (model, shape) = Build(name);
        // Train a step first where BatchNorm is: its running statistics then differ from their initial values.
        if (name == "bn-cnn")
        {
            model.Train();
            using (Autograd.NoGrad()) model.Forward(Tensor.Randn(shape) * 2 + 1);
        }
        string path = Path.Combine(_dir, name + ".onnx");
        OnnxExport.Export(model, Tensor.Randn(shape), path);
        model.Eval();
        using var ort = new InferenceSession(path);
        var kilnSession = OnnxSession.Load(path);
        foreach (int batch in new[] { shape[0], 7 })
        {
            var dims = (int[])shape.Clone();
            dims[0] = batch;
            var x = Tensor.Randn(dims);
            Tensor want;
            using (Autograd.NoGrad()) want = model.Forward(x);
            var input = new DenseTensor<float>(x.ToArray<float>(), dims);
            using var results = ort.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
            var got = results.First().AsEnumerable<float>().ToArray();
            Close(want.ToArray<float>(), got, $"{name} batch {batch} (ONNX Runtime)");
            var own = kilnSession.Run(new Dictionary<string, Tensor> { ["input"] = x })["output"];
            Close(want.ToArray<float>(), own.Contiguous().ToArray<float>(), $"{name} batch {batch} (Kiln's OnnxSession)");
        }
    }

    /// <summary>
    /// samples/TinyStoriesStyle's kind of model (Llama: token embedding, RMSNorm, rotary positions, grouped-query causal
    /// attention, SwiGLU) and a Transformer encoder layer export with their attention as ONNX nodes; the sequence length
    /// is the example's, the batch is free.
    /// </summary>
    [Theory]
    [InlineData("llama")]
    [InlineData("encoder")]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void SequenceModelsExportWithAttentionAndRecurrentLayers(string name)
    {
        Generator.ManualSeed(11);
        string path = Path.Combine(_dir, name + ".onnx");
        Module model;
        Func<Tensor, Tensor> forward;
        Func<int, Tensor> input;
        if (name == "llama")
        {
            var llama = new Kiln.Transformers.LlamaForCausalLM(new Kiln.Transformers.LlamaConfig
            {
                VocabSize = 41,
                HiddenSize = 16,
                IntermediateSize = 24,
                NumHiddenLayers = 2,
                NumAttentionHeads = 4,
                NumKeyValueHeads = 2,
                HeadDim = 4,
                MaxPositionEmbeddings = 32,
            });
            model = llama;
            forward = ids => llama.Forward(ids);
            var g = new Generator(3);
            input = b => Tensor.RandInt(0, 41, [b, 6], generator: g);
        }
        else if (name == "lstm")
        {
            // Two layers, bidirectional: the output sequence and the final cell state (the last step's c) both exported.
            var lstm = new LstmHead();
            model = lstm;
            forward = lstm.Forward;
            input = b => Tensor.Randn(b, 4, 6);
        }
        else if (name == "gru")
        {
            var gru = new GRU(6, 5, numLayers: 2, batchFirst: true, bidirectional: true);
            model = gru;
            forward = x => gru.Forward(x).Output;
            input = b => Tensor.Randn(b, 4, 6);
        }
        else
        {
            var encoder = new TransformerEncoderLayer(16, 4, dimFeedforward: 32, dropout: 0.1, batchFirst: true);
            model = encoder;
            forward = x => encoder.Forward(x);
            input = b => Tensor.Randn(b, 5, 16);
        }
        OnnxExport.Export(model, xs => forward(xs[0]), [input(2)], path);
        model.Eval();
        using var ort = new InferenceSession(path);
        var kilnSession = OnnxSession.Load(path);
        foreach (int batch in new[] { 2, 3 })
        {
            var x = input(batch);
            Tensor want;
            using (Autograd.NoGrad()) want = forward(x);
            var value = x.DType == DType.Int64
                ? NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(x.ToArray<long>(), x.ShapeArray))
                : NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray<float>(), x.ShapeArray));
            using var results = ort.Run([value]);
            Close(want.ToArray<float>(), results.First().AsEnumerable<float>().ToArray(), $"{name} batch {batch} (ONNX Runtime)");
            var own = kilnSession.Run(new Dictionary<string, Tensor> { ["input"] = x })["output"];
            Close(want.ToArray<float>(), own.Contiguous().ToArray<float>(), $"{name} batch {batch} (Kiln's OnnxSession)");
        }
    }

    /// <summary>
    /// A padding mask computed from the integer ids (ids == 0, as samples/SpamClassifier's Transformer does) is traced into
    /// the graph, not frozen at the example: other batches with other padding give Kiln's outputs in ONNX Runtime.
    /// </summary>
    [Fact]
    public void MasksComputedFromIntegerInputsAreExported()
    {
        Generator.ManualSeed(13);
        var model = new Kiln.Samples.Spam.TransformerClassifier(vocabulary: 30, maxLength: 7, classes: 3, width: 16);
        Func<Tensor, Tensor> forward = ids => model.Logits(ids, Tensor.Zeros([ids.Size(0)], DType.Int64));   // the Transformer reads the padding from the ids
        string path = Path.Combine(_dir, "masked.onnx");
        var g = new Generator(5);
        Tensor Ids(int batch, int seed)
        {
            var ids = Tensor.RandInt(1, 30, [batch, 7], generator: g);
            // Row r keeps its first 7 - (r + seed) % 5 tokens; the rest is padding (id 0).
            var data = ids.ToArray<long>();
            for (int r = 0; r < batch; r++)
                for (int t = 7 - (r + seed) % 5; t < 7; t++) data[r * 7 + t] = 0;
            return Tensor.From(data, batch, 7);
        }
        OnnxExport.Export(model, xs => forward(xs[0]), [Ids(2, 0)], path);
        model.Eval();
        using var ort = new InferenceSession(path);
        var kilnSession = OnnxSession.Load(path);
        foreach (var (batch, seed) in new[] { (2, 0), (2, 3), (3, 1) })
        {
            var x = Ids(batch, seed);
            Tensor want;
            using (Autograd.NoGrad()) want = forward(x);
            using var results = ort.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(x.ToArray<long>(), x.ShapeArray))]);
            Close(want.ToArray<float>(), results.First().AsEnumerable<float>().ToArray(), $"batch {batch}, padding {seed} (ONNX Runtime)");
            var own = kilnSession.Run(new Dictionary<string, Tensor> { ["input"] = x })["output"];
            Close(want.ToArray<float>(), own.Contiguous().ToArray<float>(), $"batch {batch}, padding {seed} (Kiln's OnnxSession)");
        }
    }

    /// <summary>
    /// Recurrent layers run with a lengths tensor (padding never enters the recurrence) export as ONNX LSTM/GRU nodes with
    /// <c>sequence_lens</c>: samples/SpamClassifier's LSTM (ids and lengths in, logits out), a 2-layer bidirectional LSTM's
    /// masked output and final (h, c), and a bidirectional GRU from a given h0 (reverse steps past an end hold h0) give
    /// Kiln's outputs in ONNX Runtime and in Kiln's own OnnxSession (which imports sequence_lens) for other batches and lengths.
    /// </summary>
    [Theory]
    [InlineData("spam_lstm")]
    [InlineData("lstm")]
    [InlineData("gru_h0")]
    public void LengthsBecomeSequenceLens(string name)
    {
        Generator.ManualSeed(17);
        var g = new Generator(6);
        const int steps = 7;
        Module model;
        Func<Tensor[], Tensor> forward;
        Func<int, Tensor> first;
        if (name == "spam_lstm")
        {
            var spam = new Kiln.Samples.Spam.LstmClassifier(vocabulary: 30, classes: 3, width: 16);
            model = spam;
            forward = xs => spam.Logits(xs[0], xs[1]);
            first = b => Tensor.RandInt(1, 30, [b, steps], generator: g);
        }
        else if (name == "lstm")
        {
            var lstm = new LSTM(6, 5, numLayers: 2, batchFirst: true, bidirectional: true);
            model = lstm;
            forward = xs =>
            {
                var (output, (h, c)) = lstm.Forward(xs[0], lengths: xs[1]);
                return Tensor.Cat([output.Flatten(1), h.Transpose(0, 1).Flatten(1), c.Transpose(0, 1).Flatten(1)], 1);
            };
            first = b => Tensor.Randn([b, steps, 6], generator: g);
        }
        else
        {
            var gru = new GRU(6, 5, batchFirst: true, bidirectional: true);
            model = gru;
            forward = xs =>
            {
                // h0 comes in batch-first ([N, 2, 5]): the export frees dim 0 of each input.
                var (output, h) = gru.Forward(xs[0], xs[2].Transpose(0, 1).Contiguous(), xs[1]);
                return Tensor.Cat([output.Flatten(1), h.Transpose(0, 1).Flatten(1)], 1);
            };
            first = b => Tensor.Randn([b, steps, 6], generator: g);
        }
        Tensor[] Inputs(int batch, int seed)
        {
            // Unsorted lengths from 1 to 7; the ids past each end are padding (0).
            var lengths = new long[batch];
            for (int r = 0; r < batch; r++) lengths[r] = 1 + (r * 3 + seed) % steps;
            var x = first(batch);
            if (x.DType == DType.Int64)
            {
                var ids = x.ToArray<long>();
                for (int r = 0; r < batch; r++)
                    for (long t = lengths[r]; t < steps; t++) ids[r * steps + t] = 0;
                x = Tensor.From(ids, batch, steps);
            }
            var inputs = new List<Tensor> { x, Tensor.From(lengths, batch) };
            if (name == "gru_h0") inputs.Add(Tensor.Randn([batch, 2, 5], generator: g));
            return [.. inputs];
        }
        string path = Path.Combine(_dir, name + ".onnx");
        OnnxExport.Export(model, forward, Inputs(2, 0), path);
        model.Eval();
        using var ort = new InferenceSession(path);
        var kilnSession = OnnxSession.Load(path);
        foreach (var (batch, seed) in new[] { (2, 0), (3, 4), (5, 2) })
        {
            var xs = Inputs(batch, seed);
            Tensor want;
            using (Autograd.NoGrad()) want = forward(xs);
            var feeds = xs.Select((x, i) => x.DType == DType.Int64
                ? NamedOnnxValue.CreateFromTensor($"input_{i}", new DenseTensor<long>(x.ToArray<long>(), x.ShapeArray))
                : NamedOnnxValue.CreateFromTensor($"input_{i}", new DenseTensor<float>(x.ToArray<float>(), x.ShapeArray))).ToList();
            using var results = ort.Run(feeds);
            Close(want.ToArray<float>(), results.First().AsEnumerable<float>().ToArray(), $"{name} batch {batch}, lengths {seed} (ONNX Runtime)");
            var own = kilnSession.Run(xs.Select((x, i) => (Name: $"input_{i}", x)).ToDictionary(p => p.Name, p => p.x))["output"];
            Close(want.ToArray<float>(), own.Contiguous().ToArray<float>(), $"{name} batch {batch}, lengths {seed} (Kiln's OnnxSession)");
        }
    }

    [Fact]
    public void UnsupportedOpsAndTrainingBatchNormAreClearErrors()
    {
        var lstm = new LSTM(4, 3, batchFirst: true, projSize: 2);
        string path = Path.Combine(_dir, "lstm.onnx");
        var e = Assert.Throws<KilnException>(() => OnnxExport.Export(lstm, xs => lstm.Forward(xs[0]).Output, [Tensor.Randn(2, 5, 4)], path));
        Assert.Contains("onnx export: lstm_layer: a projected LSTM", e.Message);
        Assert.False(File.Exists(path));   // nothing written half
        Assert.Empty(Directory.GetFiles(_dir));
        Assert.Contains("at least one example input", Assert.Throws<KilnException>(() => OnnxExport.Export(lstm, xs => xs[0], [], path)).Message);
        Assert.Contains("opset 13 is too old", Assert.Throws<KilnException>(() => OnnxExport.Export(new ExportMlp(), Tensor.Randn(1, 784), path, new OnnxExportOptions { Opset = 13 })).Message);
    }

    static void Close(float[] want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-4 + 1e-4 * Math.Abs(want[i]), $"{what}[{i}]: {got[i]} vs {want[i]}");
    }
}

/// <summary>A 2-layer bidirectional LSTM whose last output step and final cell state feed a Linear head.</summary>
sealed class LstmHead : Module<Tensor, Tensor>
{
    readonly LSTM lstm = new(6, 5, numLayers: 2, batchFirst: true, bidirectional: true);
    readonly Linear head = new(10 + 5, 3);
    public override Tensor Forward(Tensor x)
    {
        var (output, (_, c)) = lstm.Forward(x);
        return head.Forward(Tensor.Cat([output.Select(1, 3), c.Select(0, 3)], 1));
    }
}

/// <summary>samples/QuickStart's DigitClassifier.</summary>
[Model]
sealed partial class ExportDigitClassifier : Module<Tensor, Tensor>
{
    readonly Linear hidden = new(64, 128), output = new(128, 10);
    readonly Dropout dropout = new(0.2);
    public override Tensor Forward([Shape("N 64")] Tensor x) => output.Call(dropout.Call(F.Relu(hidden.Call(x))));
}

/// <summary>samples/FashionMnist's MLP.</summary>
[Model]
sealed partial class ExportMlp : Module<Tensor, Tensor>
{
    readonly Linear layer1 = new(784, 128), layer2 = new(128, 10);
    readonly Dropout dropout = new(0.2);
    public override Tensor Forward([Shape("N 784")] Tensor x) => layer2.Call(dropout.Call(F.Relu(layer1.Call(x))));
}

/// <summary>samples/FashionMnist's LeNet.</summary>
[Model]
sealed partial class ExportLeNet : Module<Tensor, Tensor>
{
    readonly Conv2d conv1 = new(1, 6, 5, padding: 2), conv2 = new(6, 16, 5);
    readonly MaxPool2d pool = new(2);
    readonly Linear fc1 = new(16 * 5 * 5, 120), fc2 = new(120, 84), fc3 = new(84, 10);
    public override Tensor Forward([Shape("N 1 28 28")] Tensor x)
    {
        x = pool.Call(F.Relu(conv1.Call(x)));
        x = pool.Call(F.Relu(conv2.Call(x)));
        x = x.Flatten(1);
        return fc3.Call(F.Relu(fc2.Call(F.Relu(fc1.Call(x)))));
    }
}

/// <summary>Conv → BatchNorm → GELU → strided conv → BatchNorm → SiLU → global mean → Linear → log-softmax.</summary>
sealed class BnCnn : Module<Tensor, Tensor>
{
    readonly Conv2d conv1 = new(3, 8, 3, padding: 1), conv2 = new(8, 16, 3, stride: 2, padding: 1);
    readonly BatchNorm2d bn1 = new(8), bn2 = new(16);
    readonly Linear head = new(16, 5);
    public override Tensor Forward(Tensor x)
    {
        x = F.Gelu(bn1.Forward(conv1.Forward(x)));
        x = F.Silu(bn2.Forward(conv2.Forward(x)));
        return F.LogSoftmax(head.Forward(x.Mean([2, 3])), 1);
    }
}

/// <summary>LayerNorm, a projection, tanh-GELU, a residual and a softmax over the last dim of [N, T, C].</summary>
sealed class NormBlock : Module<Tensor, Tensor>
{
    readonly LayerNorm norm = new(16);
    readonly Linear up = new(16, 32), down = new(32, 16);
    public override Tensor Forward(Tensor x)
    {
        var h = down.Forward(F.Gelu(up.Forward(norm.Forward(x)), "tanh"));
        return F.Softmax(x + h * 0.5, -1);
    }
}

/// <summary>The activations and elementwise functions added with expm1, each exported as ONNX nodes.</summary>
sealed class ActivationBlock : Module<Tensor, Tensor>
{
    readonly Linear up = new(16, 32), down = new(16, 16);
    readonly PReLU prelu = new(16);
    public override Tensor Forward(Tensor x)
    {
        var h = F.Glu(F.Elu(up.Forward(x), 0.7));                        // 32 → 16
        h = F.Hardtanh(prelu.Forward(down.Forward(h)), -0.8, 0.9) + F.Celu(h, 1.5) + F.Softshrink(h, 0.1) + F.Relu6(h * 4);
        var bounded = h.Tanh();                                            // (-1, 1): in atanh's and asinh's domains
        var unit = h.Sigmoid();                                            // (0, 1): in logit's
        return bounded.Sinh() + bounded.Cosh() + bounded.Asinh() + (bounded * 0.9).Atanh() + (unit * 0.98 + 0.01).Logit()
            + bounded.Expm1() + bounded.Exp2() + bounded.Erfc() + (bounded + 2).Acosh() + F.Tanhshrink(h) + F.Hardshrink(h, 0.2);
    }
}
