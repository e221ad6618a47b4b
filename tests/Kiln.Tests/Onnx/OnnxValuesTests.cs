using System.Collections.Generic;
using System.IO;
using Google.Protobuf;
using Kiln.Onnx;
using Kiln.Onnx.Export;
using Kiln.Onnx.Runtime;
using Onnx;
using Xunit;
using static Kiln.Onnx.Export.OnnxGraphWriter;

namespace Kiln.Tests.Onnx;

/// <summary>
/// Sequences and optionals through <see cref="OnnxSession.RunValues"/>: a graph that builds a sequence, appends to it and
/// concatenates it gives the tensors in order; <see cref="OnnxSession.Run"/> refuses a sequence output by name.
/// </summary>
public sealed class OnnxValuesTests
{
    static OnnxSession SequenceGraph()
    {
        var writer = new OnnxGraphWriter();
        writer.Graph.Input.Add(ValueInfo("a", DType.Float32, [2], null));
        writer.Graph.Input.Add(ValueInfo("b", DType.Float32, [2], null));
        writer.Node("SequenceConstruct", ["a", "b"], output: "s");
        writer.Node("SequenceInsert", ["s", "a"], output: "t");
        writer.Node("ConcatFromSequence", ["t"], node => node.Attribute.Add(Int("axis", 0)), output: "joined");
        writer.Node("SequenceLength", ["t"], output: "n");
        writer.Graph.Output.Add(new ValueInfoProto { Name = "t" });
        writer.Graph.Output.Add(new ValueInfoProto { Name = "joined" });
        writer.Graph.Output.Add(new ValueInfoProto { Name = "n" });
        var model = new ModelProto { IrVersion = 8, Graph = writer.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return OnnxSession.Load(new MemoryStream(model.ToByteArray()), "sequence graph");
    }

    [Fact]
    public void SequencesComeBackFromRunValues()
    {
        var a = Tensor.From(new float[] { 1, 2 }, 2);
        var b = Tensor.From(new float[] { 3, 4 }, 2);
        var outputs = SequenceGraph().RunValues(new Dictionary<string, object?> { ["a"] = a, ["b"] = b });
        var t = Assert.IsType<OnnxSequence>(outputs["t"]);
        Assert.Equal(3, t.Count);
        Assert.Equal(new float[] { 3, 4 }, t[1].ToArray<float>());
        Assert.Equal(new float[] { 1, 2, 3, 4, 1, 2 }, Assert.IsType<Tensor>(outputs["joined"]).ToArray<float>());
        Assert.Equal(3L, Assert.IsType<Tensor>(outputs["n"]).Item<long>());
    }

    [Fact]
    public void RunRefusesASequenceOutput()
    {
        var e = Assert.Throws<KilnException>(() => SequenceGraph().Run(new Dictionary<string, Tensor> { ["a"] = Tensor.Ones(2), ["b"] = Tensor.Ones(2) }));
        Assert.Contains("output 't' is a sequence of 3, not a tensor: use RunValues", e.Message);
    }
}
