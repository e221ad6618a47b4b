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
/// ONNX LSTM and GRU nodes with <c>sequence_lens</c> imported by Kiln's OnnxSession against ONNX Runtime: Y (zero past
/// each sequence's end), Y_h and Y_c (each sequence's own final state; a reverse direction starts at its own last element).
/// ONNX's backend test data has no node with sequence_lens, so the graphs are written here.
/// </summary>
public sealed class OnnxRecurrentImportTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("kiln-onnx-rnn").FullName;

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("LSTM", "bidirectional")]
    [InlineData("LSTM", "reverse")]
    [InlineData("GRU", "bidirectional")]
    [InlineData("GRU", "forward")]
    public void SequenceLensMatchOnnxRuntime(string op, string direction)
    {
        const int steps = 6, batch = 4, inputSize = 3, hidden = 5;
        int gates = op == "LSTM" ? 4 : 3, dirs = direction == "bidirectional" ? 2 : 1;
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
        string[] outputs = op == "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"];
        writer.Node(op, inputs, node =>
        {
            foreach (var o in outputs.Skip(1)) node.Output.Add(o);
            node.Attribute.Add(Int("hidden_size", hidden));
            node.Attribute.Add(String("direction", direction));
            if (op == "GRU") node.Attribute.Add(Int("linear_before_reset", 1));
        }, output: "Y");
        foreach (var o in outputs) writer.Graph.Output.Add(new ValueInfoProto { Name = o });
        var model = new ModelProto { IrVersion = 8, Graph = writer.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        string path = Path.Combine(_dir, $"{op}_{direction}.onnx");
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
                Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5 + 1e-5 * Math.Abs(want[i]), $"{op} {direction} {result.Name}[{i}]: {got[i]} vs {want[i]} (ONNX Runtime)");
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
