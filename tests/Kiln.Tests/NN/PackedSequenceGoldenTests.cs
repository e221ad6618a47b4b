using System;
using System.Linq;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>pack_padded_sequence / pad_packed_sequence and packed input to LSTM, GRU and RNN against PyTorch (course.json).</summary>
public class PackedSequenceGoldenTests
{
    [Theory]
    [InlineData("lstm_bidirectional_unsorted")]
    [InlineData("gru_two_layers_sorted")]
    [InlineData("rnn_unsorted")]
    public void MatchesPyTorch(string name)
    {
        var c = CourseData.Root.GetProperty("packed").GetProperty(name);
        Kiln.NN.Module module = name switch
        {
            "lstm_bidirectional_unsorted" => new Kiln.NN.LSTM(3, 4, bidirectional: true),
            "gru_two_layers_sorted" => new Kiln.NN.GRU(3, 4, numLayers: 2),
            _ => new Kiln.NN.RNN(3, 4),
        };
        module.LoadStateDict(c.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => CourseData.Build(p.Value)));
        var x = CourseData.Build(c.GetProperty("input")).RequiresGrad_();
        var lengths = c.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        bool sorted = name == "gru_two_layers_sorted";
        var packed = Kiln.NN.RnnUtils.PackPaddedSequence(x, lengths, enforceSorted: sorted);
        CourseData.Close("packed data", c.GetProperty("packed_data"), packed.Data);
        Assert.Equal(c.GetProperty("batch_sizes").EnumerateArray().Select(e => e.GetInt64()), packed.BatchSizes.ToArray<long>());
        (Kiln.NN.PackedSequence output, Tensor[] states) = module switch
        {
            Kiln.NN.LSTM lstm => lstm.Forward(packed) is var (o, (h, cc)) ? (o, new[] { h, cc }) : default,
            Kiln.NN.GRU gru => gru.Forward(packed) is var (o2, h2) ? (o2, new[] { h2 }) : default,
            Kiln.NN.RNN rnn => rnn.Forward(packed) is var (o3, h3) ? (o3, new[] { h3 }) : default,
            _ => throw new InvalidOperationException(),
        };
        var (padded, lens) = Kiln.NN.RnnUtils.PadPackedSequence(output);
        Assert.Equal(lengths, lens);
        CourseData.Close("padded output", c.GetProperty("padded"), padded);
        var expectedStates = c.GetProperty("states").EnumerateArray().ToArray();
        for (int k = 0; k < states.Length; k++) CourseData.Close($"state {k}", expectedStates[k], states[k]);
        using var w = CourseData.Build(c.GetProperty("weights"));
        var loss = (padded * w).Sum();
        foreach (var s in states) loss = loss + s.Sum();
        loss.Backward();
        var parameters = module.NamedParameters().ToDictionary(kv => kv.Name, kv => kv.Parameter);
        foreach (var g in c.GetProperty("grads").EnumerateObject())
            CourseData.Close($"gradient of {g.Name}", g.Value, g.Name == "input" ? x.Grad! : parameters[g.Name].Grad!);
    }

    [Fact]
    public void PackingRefusesBadLengths()
    {
        using var x = Tensor.Zeros(3, 2, 1);
        Assert.Contains("decreasing", Assert.Throws<KilnException>(() => Kiln.NN.RnnUtils.PackPaddedSequence(x, [1, 3])).Message);
        Assert.Throws<KilnException>(() => Kiln.NN.RnnUtils.PackPaddedSequence(x, [4, 1]));
        Assert.Throws<KilnException>(() => Kiln.NN.RnnUtils.PackPaddedSequence(x, [2, 0]));
        var p = Kiln.NN.RnnUtils.PackSequence([Tensor.Ones(3, 1), Tensor.Ones(1, 1)]);
        Assert.Equal(new long[] { 2, 1, 1 }, p.BatchSizes.ToArray<long>());
    }
}
