using System;
using System.Collections.Generic;
using System.Globalization;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

/// <summary>
/// What LSTM and GRU share (<c>nn.RNNBase</c>): PyTorch's parameter names and layout (<c>weight_ih_l0</c>,
/// <c>weight_hh_l0_reverse</c>, ...; gates stacked along dim 0), U(±1/√hidden) init, layers, directions,
/// batch-first and inter-layer dropout.
/// </summary>
public abstract class RecurrentBase : Module
{
    private protected RecurrentBase(string name, int gates, int inputSize, int hiddenSize, int numLayers, bool bias, bool batchFirst, double dropout, bool bidirectional, DType dtype,
        int projSize = 0)
    {
        if (projSize < 0) throw new KilnException(name, $"{name}: proj_size should be a positive integer or zero to disable projections, got {projSize}", KilnErrorKind.Shape);
        if (projSize >= hiddenSize) throw new KilnException(name, $"{name}: proj_size has to be smaller than hidden_size (proj_size={projSize}, hidden_size={hiddenSize})", KilnErrorKind.Shape);
        if (inputSize <= 0 || hiddenSize <= 0) throw new KilnException(name, $"{name}: input_size and hidden_size must be positive, got input_size={inputSize}, hidden_size={hiddenSize}", KilnErrorKind.Shape);
        if (numLayers <= 0) throw new KilnException(name, $"{name}: num_layers must be positive, got {numLayers}");
        if (dropout < 0 || dropout > 1) throw new KilnException(name, $"{name}: dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got {dropout}", KilnErrorKind.Shape);
        InputSize = inputSize; HiddenSize = hiddenSize; NumLayers = numLayers; HasBias = bias; BatchFirst = batchFirst; DropoutP = dropout; Bidirectional = bidirectional;
        Gates = gates;
        ProjSize = projSize;
        int real = projSize > 0 ? projSize : hiddenSize;   // the width of h
        double bound = 1 / Math.Sqrt(hiddenSize);
        for (int l = 0; l < numLayers; l++)
            for (int d = 0; d < Directions; d++)
            {
                int inSize = l == 0 ? inputSize : real * Directions;
                string sfx = Suffix(l, d);
                Init.Uniform_(RegisterParameter("weight_ih" + sfx, Parameter(Tensor.Empty(new[] { gates * hiddenSize, inSize }, dtype)))!, -bound, bound);
                Init.Uniform_(RegisterParameter("weight_hh" + sfx, Parameter(Tensor.Empty(new[] { gates * hiddenSize, real }, dtype)))!, -bound, bound);
                if (bias)
                {
                    Init.Uniform_(RegisterParameter("bias_ih" + sfx, Parameter(Tensor.Empty(new[] { gates * hiddenSize }, dtype)))!, -bound, bound);
                    Init.Uniform_(RegisterParameter("bias_hh" + sfx, Parameter(Tensor.Empty(new[] { gates * hiddenSize }, dtype)))!, -bound, bound);
                }
                if (projSize > 0)
                    Init.Uniform_(RegisterParameter("weight_hr" + sfx, Parameter(Tensor.Empty(new[] { projSize, hiddenSize }, dtype)))!, -bound, bound);
            }
    }

    /// <summary>Features per input step.</summary>
    public int InputSize { get; }
    /// <summary>Width of the projected hidden state (LSTM <c>proj_size</c>); 0 without a projection.</summary>
    public int ProjSize { get; }
    /// <summary>Hidden state size.</summary>
    public int HiddenSize { get; }
    /// <summary>Stacked layers.</summary>
    public int NumLayers { get; }
    /// <summary>Whether biases exist.</summary>
    public bool HasBias { get; }
    /// <summary>True for [N, L, H] inputs and outputs.</summary>
    public bool BatchFirst { get; }
    /// <summary>Dropout on each layer's output except the last, in training.</summary>
    public double DropoutP { get; }
    /// <summary>Whether a reverse-direction pass runs too.</summary>
    public bool Bidirectional { get; }
    /// <summary>1 or 2.</summary>
    public int Directions => Bidirectional ? 2 : 1;
    private protected int Gates { get; }

    static string Suffix(int layer, int direction) => "_l" + layer.ToString(CultureInfo.InvariantCulture) + (direction == 1 ? "_reverse" : "");

    private protected Tensor W(string kind, int layer, int direction) => TensorMember(kind + Suffix(layer, direction))!;
    private protected Tensor? B(string kind, int layer, int direction) => HasBias ? TensorMember(kind + Suffix(layer, direction)) : null;

    /// <summary>Brings the input to [L, N, in] and checks the initial state's shape; returns whether the input was unbatched.</summary>
    private protected (Tensor Seq, bool Unbatched) Prepare(Tensor input)
    {
        LayerRules.Recurrent(TypeName, input.ShapeArray, InputSize, Directions * (ProjSize > 0 ? ProjSize : HiddenSize));
        bool unbatched = input.Dim == 2;
        var seq = unbatched ? input.Unsqueeze(1) : BatchFirst ? input.Transpose(0, 1) : input;
        return (seq, unbatched);
    }

    private protected Tensor StateOrZeros(Tensor? state, int batch, bool unbatched, Tensor like, string what, int width)
    {
        int[] expected = [NumLayers * Directions, batch, width];
        if (state is null) return Tensor.Zeros(expected, like.DType, like.Device);
        var s = unbatched ? state.Unsqueeze(1) : state;
        if (!ShapeRules.SameShape(s.ShapeArray, expected))
            throw new KilnException(TypeName, $"{TypeName}: Expected {what} size {ShapeText.Format(unbatched ? [expected[0], expected[2]] : expected)}, got {ShapeText.Format(state.ShapeArray)}", KilnErrorKind.Shape);
        return s;
    }

    /// <summary>
    /// Runs every layer and direction: <paramref name="direction"/>(layer, direction, state index, layer input) returns that
    /// direction's outputs [T, N, H]; directions are concatenated and dropout applied between layers in training.
    /// </summary>
    private protected Tensor StackLayers(Tensor seq, Func<int, int, int, Tensor, Tensor> direction)
    {
        var layerInput = seq;
        for (int l = 0; l < NumLayers; l++)
        {
            var outputs = new Tensor[Directions];
            for (int d = 0; d < Directions; d++) outputs[d] = direction(l, d, l * Directions + d, layerInput);
            layerInput = Directions == 1 ? outputs[0] : Tensor.Cat(outputs, 2);
            if (DropoutP > 0 && Training && l < NumLayers - 1) layerInput = F.Dropout(layerInput, DropoutP, true);
        }
        return layerInput;
    }

    /// <summary>
    /// A packed batch through the lengths-aware padded forward: padded in the original batch order (so an initial state and
    /// the final one are in batch order too) and this layer's layout, run with its lengths (<paramref name="run"/>(padded,
    /// lengths)), and the output packed like the input.
    /// </summary>
    private protected (PackedSequence Output, TState State) RunPacked<TState>(PackedSequence input, Func<Tensor, Tensor, (Tensor Output, TState State)> run)
    {
        var (padded, lengths) = RnnUtils.PadPackedSequence(input, BatchFirst);
        using (padded)
        {
            var (output, state) = run(padded, Tensor.From(lengths, lengths.Length));
            using (output)
                return (RnnUtils.PackPaddedSequence(output, lengths, BatchFirst, enforceSorted: input.SortedIndices is null), state);
        }
    }

    /// <summary>
    /// Checks <paramref name="lengths"/> against the batch (int64 [N], a batched input) and, for the output, the mask
    /// [T, N, 1] of the steps each sequence runs (zeros past its end, as <c>pad_packed_sequence</c> gives).
    /// </summary>
    private protected Tensor? StepMask(Tensor? lengths, Tensor seq, bool unbatched)
    {
        if (lengths is null) return null;
        if (unbatched)
            throw new KilnException(TypeName, $"{TypeName}: lengths need a batched input [L, N, {InputSize}] (or [N, L, {InputSize}] batch-first), got {ShapeText.Format(seq.Squeeze(1).ShapeArray)}", KilnErrorKind.Shape);
        if (lengths.DType != DType.Int64 || !ShapeRules.SameShape(lengths.ShapeArray, [seq.Size(1)]))
            throw new KilnException(TypeName, $"{TypeName}: expected lengths as int64 [{seq.Size(1)}] (one per sequence of the batch), got {lengths.DType} {ShapeText.Format(lengths.ShapeArray)}", KilnErrorKind.Shape);
        return Tensor.StepMask(lengths, seq.Size(0), seq.DType, seq.Device);
    }

    private protected Tensor Finish(Tensor output, bool unbatched) => unbatched ? output.Squeeze(1) : BatchFirst ? output.Transpose(0, 1) : output;

    private protected static Tensor FinishState(Tensor[] states, bool unbatched)
    {
        var s = Tensor.Stack(states, 0);
        return unbatched ? s.Squeeze(1) : s;
    }

    /// <inheritdoc/>
    public override string ExtraRepr()
    {
        var s = $"{InputSize}, {HiddenSize}";
        if (ProjSize != 0) s += $", proj_size={ProjSize}";
        if (NumLayers != 1) s += $", num_layers={NumLayers}";
        if (!HasBias) s += ", bias=False";
        if (BatchFirst) s += ", batch_first=True";
        if (DropoutP != 0) s += $", dropout={Py(DropoutP)}";
        if (Bidirectional) s += ", bidirectional=True";
        return s;
    }
}

/// <summary>
/// Long short-term memory (<c>nn.LSTM</c>): gates i, f, g, o stacked in that order in <c>weight_ih_l{k}</c> [4·hidden, in].
/// <c>Forward</c> returns the output [L, N, D·hidden] (or [N, L, ...] batch-first) and the final (h, c), each [D·layers, N, hidden].
/// With <c>projSize</c> &gt; 0, h = W_hr·(o ⊙ tanh c) is projSize wide (in the output and h, not c), as in PyTorch.
/// </summary>
public sealed class LSTM(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
    bool bidirectional = false, DType dtype = DType.Float32, int projSize = 0)
    : RecurrentBase("LSTM", 4, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype, projSize)
{
    /// <summary>
    /// Runs the sequence from the initial state (zeros when null). With <paramref name="lengths"/> (int64 [N]) the input
    /// is a padded batch: sequence n runs its first lengths[n] steps only (a reverse direction starts at its own last
    /// element), the output is zero past each end and the final (h, c) are each sequence's own — what packing the batch
    /// gives, in one fused pass and exportable to ONNX (<c>sequence_lens</c>).
    /// </summary>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor input, (Tensor H, Tensor C)? state = null, Tensor? lengths = null)
    {
        using var scope = Tensor.Scope();   // the layers' projections, states and views go when it returns
        var (seq, unbatched) = Prepare(input);
        var mask = StepMask(lengths, seq, unbatched);
        int batch = seq.Size(1);
        int hs = HiddenSize, ps = ProjSize > 0 ? ProjSize : HiddenSize, steps = seq.Size(0);
        var h0 = StateOrZeros(state?.H, batch, unbatched, seq, "hidden", ps);
        var c0 = StateOrZeros(state?.C, batch, unbatched, seq, "cell", hs);
        var finalH = new Tensor[NumLayers * Directions];
        var finalC = new Tensor[NumLayers * Directions];
        var layerInput = StackLayers(seq, (l, d, idx, input) =>
        {
            // All steps' input projections in one GEMM, then the fused recurrence (one node per layer direction).
            var proj = F.Linear(input, W("weight_ih", l, d), B("bias_ih", l, d));
            if (B("bias_hh", l, d) is { } bhh) proj = proj + bhh;
            var whr = ProjSize > 0 ? W("weight_hr", l, d) : null;
            var hc = Tensor.LstmLayerOp(proj, h0.Select(0, idx), c0.Select(0, idx), W("weight_hh", l, d), whr, reverse: d == 1, lengths);
            // Past a sequence's end its state is held, so these steps hold every final state.
            var lastStep = hc.Select(0, d == 1 ? 0 : steps - 1);
            finalH[idx] = lastStep.Narrow(1, 0, ps);
            finalC[idx] = lastStep.Narrow(1, ps, hs);
            return hc.Narrow(2, 0, ps);
        });
        if (mask is not null) layerInput = layerInput * mask;
        var result = (Finish(layerInput, unbatched), (FinishState(finalH, unbatched), FinishState(finalC, unbatched)));
        scope.KeepAll(result.Item1, result.Item2.Item1, result.Item2.Item2);
        return result;
    }

    /// <summary>Runs packed variable-length sequences; the final (h, c) are each sequence's own last step, in batch order.</summary>
    public (PackedSequence Output, (Tensor H, Tensor C) State) Forward(PackedSequence input, (Tensor H, Tensor C)? state = null)
        => RunPacked(input, (padded, lengths) => Forward(padded, state, lengths));
}

/// <summary>
/// Gated recurrent unit (<c>nn.GRU</c>): gates r, z, n stacked in that order; n = tanh(W_in·x + b_in + r·(W_hn·h + b_hn)),
/// h' = (1 - z)·n + z·h. <c>Forward</c> returns the output and the final h [D·layers, N, hidden].
/// </summary>
public sealed class GRU(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
    bool bidirectional = false, DType dtype = DType.Float32)
    : RecurrentBase("GRU", 3, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype)
{
    /// <summary>
    /// Runs the sequence from the initial hidden state (zeros when null); <paramref name="lengths"/> (int64 [N]) as in
    /// <see cref="LSTM.Forward(Tensor, ValueTuple{Tensor, Tensor}?, Tensor?)"/>.
    /// </summary>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0 = null, Tensor? lengths = null)
    {
        using var scope = Tensor.Scope();   // the layers' projections, states and views go when it returns
        var (seq, unbatched) = Prepare(input);
        var mask = StepMask(lengths, seq, unbatched);
        var h = StateOrZeros(h0, seq.Size(1), unbatched, seq, "hidden", HiddenSize);
        int steps = seq.Size(0);
        var finalH = new Tensor[NumLayers * Directions];
        var output = StackLayers(seq, (l, d, idx, input) =>
        {
            var proj = F.Linear(input, W("weight_ih", l, d), B("bias_ih", l, d));
            var hs = Tensor.GruLayerOp(proj, h.Select(0, idx), W("weight_hh", l, d), B("bias_hh", l, d), reverse: d == 1, lengths);
            finalH[idx] = hs.Select(0, d == 1 ? 0 : steps - 1);
            return hs;
        });
        if (mask is not null) output = output * mask;
        var result = (Finish(output, unbatched), FinishState(finalH, unbatched));
        scope.KeepAll(result.Item1, result.Item2);
        return result;
    }

    /// <summary>Runs packed variable-length sequences; the final h is each sequence's own last step, in batch order.</summary>
    public (PackedSequence Output, Tensor H) Forward(PackedSequence input, Tensor? h0 = null) =>
        RunPacked(input, (padded, lengths) => Forward(padded, h0, lengths));
}
