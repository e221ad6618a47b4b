using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Kiln.Onnx.Export;
using Kiln.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using Xunit;
using static Kiln.Onnx.Export.OnnxGraphWriter;

namespace Kiln.Tests.Onnx;

/// <summary>
/// ONNX LSTM, GRU and RNN nodes with <c>sequence_lens</c> imported by Kiln's OnnxSession against ONNX Runtime: Y (zero past
/// each sequence's end), Y_h and Y_c (each sequence's own final state; a reverse direction starts at its own last element).
/// ONNX's backend test data has no node with sequence_lens, so the graphs are written here.
/// </summary>
public sealed class OnnxRecurrentImportTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("kiln-onnx-rnn").FullName;

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>
    /// <paramref name="variant"/>: "" runs Kiln's fused layers; the others ONNX's equations step by step — "lbr0" (GRU's
    /// reset gate before the recurrent product), "peepholes" (LSTM's P, with clip), "coupled" (LSTM's input_forget),
    /// "activations" (non-default activations with alpha/beta), and every plain RNN.
    /// </summary>
    [Theory]
    [InlineData("LSTM", "bidirectional", "")]
    [InlineData("LSTM", "reverse", "")]
    [InlineData("GRU", "bidirectional", "")]
    [InlineData("GRU", "forward", "")]
    [InlineData("GRU", "bidirectional", "lbr0")]
    [InlineData("GRU", "forward", "activations")]
    [InlineData("LSTM", "bidirectional", "peepholes")]
    [InlineData("LSTM", "forward", "coupled")]
    [InlineData("LSTM", "reverse", "activations")]
    [InlineData("RNN", "bidirectional", "")]
    [InlineData("RNN", "forward", "activations")]
    public void SequenceLensMatchOnnxRuntime(string op, string direction, string variant)
    {
        const int steps = 6, batch = 4, inputSize = 3, hidden = 5;
        int gates = op switch { "LSTM" => 4, "GRU" => 3, _ => 1 }, dirs = direction == "bidirectional" ? 2 : 1;
        var g = new Generator(21);
        var writer = new OnnxGraphWriter();
        // Time-major (layout 0): ONNX Runtime's CPU kernels refuse layout 1.
        int[] xShape = [steps, batch, inputSize];
        int[] stateShape = [dirs, batch, hidden];
        writer.Graph.Input.Add(ValueInfo("X", DType.Float32, xShape, null));
        writer.Graph.Input.Add(ValueInfo("lens", DType.Int32, [batch], null));
        writer.Graph.Input.Add(ValueInfo("h0", DType.Float32, stateShape, null));
        string w = writer.Constant(Tensor.Randn([dirs, gates * hidden, inputSize], generator: g) * 0.5, "W");
        string r = writer.Constant(Tensor.Randn([dirs, gates * hidden, hidden], generator: g) * 0.5, "R");
        string b = writer.Constant(Tensor.Randn([dirs, 2 * gates * hidden], generator: g) * 0.5, "B");
        var inputs = new List<string> { "X", w, r, b, "lens", "h0" };
        if (op == "LSTM") inputs.Add(writer.Constant(Tensor.Randn(stateShape, generator: g), "c0"));
        if (variant == "peepholes") inputs.Add(writer.Constant(Tensor.Randn([dirs, 3 * hidden], generator: g), "P"));
        string[] outputs = op == "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"];
        writer.Node(op, inputs, node =>
        {
            foreach (var o in outputs.Skip(1)) node.Output.Add(o);
            node.Attribute.Add(Int("hidden_size", hidden));
            node.Attribute.Add(String("direction", direction));
            if (op == "GRU") node.Attribute.Add(Int("linear_before_reset", variant == "lbr0" ? 0 : 1));
            if (variant == "peepholes") node.Attribute.Add(Float("clip", 0.8f));
            if (variant == "coupled") node.Attribute.Add(Int("input_forget", 1));
            if (variant == "activations")
            {
                string[] acts = op switch { "LSTM" => ["HardSigmoid", "LeakyRelu", "Softsign"], "GRU" => ["HardSigmoid", "Elu"], _ => ["Relu"] };
                var attr = new AttributeProto { Name = "activations", Type = AttributeProto.Types.AttributeType.Strings };
                foreach (var a in acts) attr.Strings.Add(ByteString.CopyFromUtf8(a));
                node.Attribute.Add(attr);
                if (op != "RNN")
                {
                    var alpha = new AttributeProto { Name = "activation_alpha", Type = AttributeProto.Types.AttributeType.Floats };
                    alpha.Floats.Add([0.3f, 0.2f]);
                    node.Attribute.Add(alpha);
                    var beta = new AttributeProto { Name = "activation_beta", Type = AttributeProto.Types.AttributeType.Floats };
                    beta.Floats.Add(0.4f);
                    node.Attribute.Add(beta);
                }
            }
        }, output: "Y");
        foreach (var o in outputs) writer.Graph.Output.Add(new ValueInfoProto { Name = o });
        var model = new ModelProto { IrVersion = 8, Graph = writer.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        string path = Path.Combine(_dir, $"{op}_{direction}_{variant}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());

        var x = Tensor.Randn(xShape, generator: g);
        var lens = new[] { 4, 6, 1, 3 };   // unsorted, one full, one a single step
        var h0 = Tensor.Randn(stateShape, generator: g);
        using var ort = new InferenceSession(path);
        using var results = ort.Run([
            NamedOnnxValue.CreateFromTensor("X", new DenseTensor<float>(x.ToArray<float>(), xShape)),
            NamedOnnxValue.CreateFromTensor("lens", new DenseTensor<int>(lens, [batch])),
            NamedOnnxValue.CreateFromTensor("h0", new DenseTensor<float>(h0.ToArray<float>(), stateShape)),
        ]);
        var own = OnnxSession.Load(path).Run(new Dictionary<string, Tensor> { ["X"] = x, ["lens"] = Tensor.From(lens, batch), ["h0"] = h0 });
        foreach (var result in results)
        {
            var want = result.AsEnumerable<float>().ToArray();
            var got = own[result.Name].Contiguous().ToArray<float>();
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5 + 1e-5 * Math.Abs(want[i]), $"{op} {direction} {variant} {result.Name}[{i}]: {got[i]} vs {want[i]} (ONNX Runtime)");
        }
    }

    [Fact]
    public void SequenceLensOfTheWrongBatchIsAClearError()
    {
        var writer = new OnnxGraphWriter();
        writer.Graph.Input.Add(ValueInfo("X", DType.Float32, [2, 3, 1], null));
        writer.Graph.Input.Add(ValueInfo("lens", DType.Int32, [2], null));
        string w = writer.Constant(Tensor.Ones([1, 6, 1]), "W"), r = writer.Constant(Tensor.Ones([1, 6, 2]), "R");
        writer.Node("GRU", ["X", w, r, "", "lens"], node => { node.Attribute.Add(Int("hidden_size", 2)); node.Attribute.Add(Int("linear_before_reset", 1)); }, output: "Y");
        writer.Graph.Output.Add(new ValueInfoProto { Name = "Y" });
        var model = new ModelProto { IrVersion = 8, Graph = writer.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        string path = Path.Combine(_dir, "bad.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        var e = Assert.ThrowsAny<Exception>(() => OnnxSession.Load(path).Run(new Dictionary<string, Tensor> { ["X"] = Tensor.Ones(2, 3, 1), ["lens"] = Tensor.From(new[] { 2, 2 }, 2) }));
        Assert.Contains("sequence_lens [2] should be [3]", e.Message);
        Assert.Contains("GRU", e.Message);
    }
}
