using System;
using System.Linq;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>RNNCell, LSTMCell, GRUCell and RNN with PyTorch's weights: outputs, and gradients of every parameter and the input (course.json).</summary>
public class RecurrentCellGoldenTests
{
    [Theory]
    [InlineData("rnn_cell_tanh")]
    [InlineData("rnn_cell_relu_unbatched")]
    [InlineData("lstm_cell")]
    [InlineData("gru_cell")]
    [InlineData("rnn_two_layers_bidirectional")]
    [InlineData("rnn_relu_batch_first")]
    public void MatchesPyTorch(string name)
    {
        var c = CourseData.Root.GetProperty("recurrent").GetProperty(name);
        Kiln.NN.Module module = name switch
        {
            "rnn_cell_tanh" => new Kiln.NN.RNNCell(3, 4),
            "rnn_cell_relu_unbatched" => new Kiln.NN.RNNCell(3, 4, nonlinearity: "relu"),
            "lstm_cell" => new Kiln.NN.LSTMCell(3, 4),
            "gru_cell" => new Kiln.NN.GRUCell(3, 4),
            "rnn_two_layers_bidirectional" => new Kiln.NN.RNN(3, 4, numLayers: 2, bidirectional: true),
            _ => new Kiln.NN.RNN(3, 4, nonlinearity: "relu", batchFirst: true),
        };
        module.LoadStateDict(c.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => CourseData.Build(p.Value)));
        var x = CourseData.Build(c.GetProperty("input")).RequiresGrad_();
        Tensor[] outputs = module switch
        {
            Kiln.NN.RNNCell cell => [cell.Forward(x)],
            Kiln.NN.LSTMCell cell => cell.Forward(x) is var (h, cc) ? [h, cc] : [],
            Kiln.NN.GRUCell cell => [cell.Forward(x)],
            Kiln.NN.RNN rnn => rnn.Forward(x) is var (o, hn) ? [o, hn] : [],
            _ => throw new InvalidOperationException(),
        };
        var expected = c.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(expected.Length, outputs.Length);
        for (int k = 0; k < outputs.Length; k++) CourseData.Close($"{name} output {k}", expected[k], outputs[k]);
        using var w = CourseData.Build(c.GetProperty("weights"));
        (outputs[0] * w).Sum().Backward();
        var parameters = module.NamedParameters().ToDictionary(kv => kv.Name, kv => kv.Parameter);
        foreach (var g in c.GetProperty("grads").EnumerateObject())
            CourseData.Close($"{name} gradient of {g.Name}", g.Value, g.Name == "input" ? x.Grad! : parameters[g.Name].Grad!);
        Assert.Contains(module.GetType().Name + "(3, 4", module.ToString());
    }
}

