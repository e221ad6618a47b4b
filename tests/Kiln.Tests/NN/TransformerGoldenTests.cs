using System.Linq;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>nn.Transformer with PyTorch's weights: the output and the gradient of every parameter and input (course.json).</summary>
public class TransformerGoldenTests
{
    [Fact]
    public void MatchesPyTorch()
    {
        var c = CourseData.Root.GetProperty("transformer");
        var model = new Kiln.NN.Transformer(dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16, dropout: 0);
        Assert.Equal(c.GetProperty("state").EnumerateObject().Select(p => p.Name), model.StateDict().Keys);
        model.LoadStateDict(c.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => CourseData.Build(p.Value)));
        var src = CourseData.Build(c.GetProperty("src")).RequiresGrad_();
        var tgt = CourseData.Build(c.GetProperty("tgt")).RequiresGrad_();
        using var mask = Kiln.NN.Transformer.GenerateSquareSubsequentMask(4);
        CourseData.Close("mask", c.GetProperty("mask"), mask, 0);
        var output = model.Forward(src, tgt, tgtMask: mask);
        CourseData.Close("output", c.GetProperty("output"), output, 1e-4);
        using var w = CourseData.Build(c.GetProperty("weights"));
        (output * w).Sum().Backward();
        var parameters = model.NamedParameters().ToDictionary(kv => kv.Name, kv => kv.Parameter);
        foreach (var g in c.GetProperty("grads").EnumerateObject())
            CourseData.Close($"gradient of {g.Name}", g.Value, g.Name == "src" ? src.Grad! : g.Name == "tgt" ? tgt.Grad! : parameters[g.Name].Grad!, 1e-3);
    }
}

