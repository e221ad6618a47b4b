using System;
using System.Linq;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>pack_padded_sequence / pad_packed_sequence and packed input to LSTM, GRU and RNN against PyTorch (course.json).</summary>
public class PackedSequenceGoldenTests
{
    public static TheoryData<string, bool> Cases()
    {
        var d = new TheoryData<string, bool>();
        foreach (var name in new[] { "lstm_bidirectional_unsorted", "gru_two_layers_sorted", "rnn_unsorted", "lstm_projected_two_layers_batch_first_state", "gru_bidirectional_state" })
            foreach (bool packed in new[] { true, false }) d.Add(name, packed);
        return d;
    }

    /// <summary>
    /// Packed input (<paramref name="packed"/>), or the padded batch with its lengths tensor (the fused lengths-aware form,
    /// which must equal packing): outputs, final states and the gradients of parameters, input and initial state.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name, bool packed)
    {
        var c = CourseData.Root.GetProperty("packed").GetProperty(name);
        Kiln.NN.RecurrentBase module = name switch
        {
            "lstm_bidirectional_unsorted" => new Kiln.NN.LSTM(3, 4, bidirectional: true),
            "gru_two_layers_sorted" => new Kiln.NN.GRU(3, 4, numLayers: 2),
            "lstm_projected_two_layers_batch_first_state" => new Kiln.NN.LSTM(3, 5, numLayers: 2, batchFirst: true, bidirectional: true, projSize: 2),
            "gru_bidirectional_state" => new Kiln.NN.GRU(3, 4, bidirectional: true),
            _ => new Kiln.NN.RNN(3, 4),
        };
        module.LoadStateDict(c.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => CourseData.Build(p.Value)));
        var x = CourseData.Build(c.GetProperty("input")).RequiresGrad_();
        var lengths = c.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var initial = c.TryGetProperty("initial", out var init) ? init.EnumerateArray().Select(e => CourseData.Build(e).RequiresGrad_()).ToArray() : [];
        Tensor? h0 = initial.Length > 0 ? initial[0] : null;
        (Tensor, Tensor)? hc0 = initial.Length > 1 ? (initial[0], initial[1]) : null;
        Tensor padded;
        Tensor[] states;
        if (packed)
        {
            bool sorted = name == "gru_two_layers_sorted";
            var input = Kiln.NN.RnnUtils.PackPaddedSequence(x, lengths, module.BatchFirst, enforceSorted: sorted);
            CourseData.Close("packed data", c.GetProperty("packed_data"), input.Data);
            Assert.Equal(c.GetProperty("batch_sizes").EnumerateArray().Select(e => e.GetInt64()), input.BatchSizes.ToArray<long>());
            (Kiln.NN.PackedSequence output, states) = module switch
            {
                Kiln.NN.LSTM lstm => lstm.Forward(input, hc0) is var (o, (h, cc)) ? (o, new[] { h, cc }) : default,
                Kiln.NN.GRU gru => gru.Forward(input, h0) is var (o2, h2) ? (o2, new[] { h2 }) : default,
                Kiln.NN.RNN rnn => rnn.Forward(input, h0) is var (o3, h3) ? (o3, new[] { h3 }) : default,
                _ => throw new InvalidOperationException(),
            };
            (padded, var lens) = Kiln.NN.RnnUtils.PadPackedSequence(output, module.BatchFirst);
            Assert.Equal(lengths, lens);
        }
        else
        {
            var lens = Tensor.From(lengths, lengths.Length);
            (padded, states) = module switch
            {
                Kiln.NN.LSTM lstm => lstm.Forward(x, hc0, lens) is var (o, (h, cc)) ? (o, new[] { h, cc }) : default,
                Kiln.NN.GRU gru => gru.Forward(x, h0, lens) is var (o2, h2) ? (o2, new[] { h2 }) : default,
                Kiln.NN.RNN rnn => rnn.Forward(x, h0, lens) is var (o3, h3) ? (o3, new[] { h3 }) : default,
                _ => throw new InvalidOperationException(),
            };
        }
        CourseData.Close("padded output", c.GetProperty("padded"), padded);
        var expectedStates = c.GetProperty("states").EnumerateArray().ToArray();
        Assert.Equal(expectedStates.Length, states.Length);
        for (int k = 0; k < states.Length; k++) CourseData.Close($"state {k}", expectedStates[k], states[k]);
        using var w = CourseData.Build(c.GetProperty("weights"));
        var loss = (padded * w).Sum();
        foreach (var s in states) loss = loss + s.Sum();
        loss.Backward();
        var parameters = module.NamedParameters().ToDictionary(kv => kv.Name, kv => kv.Parameter);
        foreach (var g in c.GetProperty("grads").EnumerateObject())
            CourseData.Close($"gradient of {g.Name}", g.Value, g.Name == "input" ? x.Grad! : parameters[g.Name].Grad!);
        if (c.TryGetProperty("initial_grads", out var initialGrads))
        {
            var expected = initialGrads.EnumerateArray().ToArray();
            for (int k = 0; k < initial.Length; k++) CourseData.Close($"gradient of initial state {k}", expected[k], initial[k].Grad!);
        }
    }

    [Fact]
    public void LengthsAreCheckedAgainstTheBatch()
    {
        var lstm = new Kiln.NN.LSTM(3, 4, batchFirst: true);
        using var x = Tensor.Randn(2, 5, 3);
        var e = Assert.Throws<KilnException>(() => lstm.Forward(x, lengths: Tensor.From(new long[] { 5, 2, 1 }, 3)));
        Assert.Contains("expected lengths as int64 [2]", e.Message);
        Assert.Contains("Int32", Assert.Throws<KilnException>(() => new Kiln.NN.GRU(3, 4).Forward(Tensor.Randn(5, 2, 3), lengths: Tensor.From(new[] { 5, 2 }, 2))).Message);
        e = Assert.Throws<KilnException>(() => lstm.Forward(x, lengths: Tensor.From(new long[] { 6, 2 }, 2)));
        Assert.Contains("lengths[0] = 6 lies outside [0, 5]", e.Message);
        Assert.Contains("lstm_layer", e.Message);
        e = Assert.Throws<KilnException>(() => new Kiln.NN.RNN(3, 4).Forward(Tensor.Randn(5, 3), lengths: Tensor.From(new long[] { 5 }, 1)));
        Assert.Contains("need a batched input", e.Message);
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
