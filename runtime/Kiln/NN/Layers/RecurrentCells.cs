using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

/// <summary>
/// What the single-step cells share (<c>nn.RNNCellBase</c>): <c>weight_ih</c> [gates·hidden, in], <c>weight_hh</c>
/// [gates·hidden, hidden] and their biases, U(±1/√hidden) init; inputs [N, in] or unbatched [in].
/// </summary>
public abstract class RecurrentCellBase : Module
{
    private protected RecurrentCellBase(string name, int gates, int inputSize, int hiddenSize, bool bias, DType dtype)
    {
        if (inputSize <= 0 || hiddenSize <= 0) throw new KilnException(name, $"{name}: input_size and hidden_size must be positive, got input_size={inputSize}, hidden_size={hiddenSize}", KilnErrorKind.Shape);
        InputSize = inputSize; HiddenSize = hiddenSize; HasBias = bias;
        double bound = 1 / Math.Sqrt(hiddenSize);
        Init.Uniform_(RegisterParameter("weight_ih", Parameter(Tensor.Empty([gates * hiddenSize, inputSize], dtype)))!, -bound, bound);
        Init.Uniform_(RegisterParameter("weight_hh", Parameter(Tensor.Empty([gates * hiddenSize, hiddenSize], dtype)))!, -bound, bound);
        RegisterParameter("bias_ih", bias ? Init.Uniform_(Parameter(Tensor.Empty([gates * hiddenSize], dtype)), -bound, bound) : null);
        RegisterParameter("bias_hh", bias ? Init.Uniform_(Parameter(Tensor.Empty([gates * hiddenSize], dtype)), -bound, bound) : null);
    }

    /// <summary>Features per input.</summary>
    public int InputSize { get; }
    /// <summary>Hidden state size.</summary>
    public int HiddenSize { get; }
    /// <summary>Whether biases exist.</summary>
    public bool HasBias { get; }

    /// <summary>The input as [N, in] (an unbatched [in] gains a batch of one) and the state, zeros when absent.</summary>
    private protected (Tensor X, Tensor H, bool Unbatched) Batch(Tensor input, Tensor? h)
    {
        if (input.Dim != 1 && input.Dim != 2)
            throw new KilnException(TypeName, $"{TypeName}: Expected input to be 1D or 2D, got {input.Dim}D instead (shape {ShapeText.Format(input.ShapeArray)})", KilnErrorKind.Shape);
        if (input.Size(-1) != InputSize)
            throw new KilnException(TypeName, $"{TypeName}: input has inconsistent input_size: got {input.Size(-1)} expected {InputSize}", KilnErrorKind.Shape);
        bool unbatched = input.Dim == 1;
        var x = unbatched ? input.Unsqueeze(0) : input;
        var state = h is null ? Tensor.Zeros([x.Size(0), HiddenSize], input.DType, input.Device) : unbatched ? h.Unsqueeze(0) : h;
        if (state.Dim != 2 || state.Size(0) != x.Size(0) || state.Size(1) != HiddenSize)
            throw new KilnException(TypeName, $"{TypeName}: hidden state of shape {ShapeText.Format(h!.ShapeArray)} does not fit input {ShapeText.Format(input.ShapeArray)} and hidden_size {HiddenSize}", KilnErrorKind.Shape);
        return (x, state, unbatched);
    }

    /// <summary>x·W_ihᵀ + b_ih and h·W_hhᵀ + b_hh.</summary>
    private protected (Tensor Input, Tensor Hidden) Projections(Tensor x, Tensor h) =>
        (F.Linear(x, TensorMember("weight_ih")!, TensorMember("bias_ih")), F.Linear(h, TensorMember("weight_hh")!, TensorMember("bias_hh")));

    private protected static Tensor Unbatch(Tensor t, bool unbatched) => unbatched ? t.Squeeze(0) : t;

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{InputSize}, {HiddenSize}" + (HasBias ? "" : ", bias=False");
}

/// <summary>One Elman step (<c>nn.RNNCell</c>): h' = tanh (or ReLU) of x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh.</summary>
public sealed class RNNCell : RecurrentCellBase
{
    /// <summary>A cell with <paramref name="nonlinearity"/> "tanh" or "relu".</summary>
    public RNNCell(int inputSize, int hiddenSize, bool bias = true, string nonlinearity = "tanh", DType dtype = DType.Float32)
        : base("RNNCell", 1, inputSize, hiddenSize, bias, dtype)
    {
        if (nonlinearity is not ("tanh" or "relu")) throw new KilnException("RNNCell", $"RNNCell: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.");
        Nonlinearity = nonlinearity;
    }

    /// <summary>"tanh" or "relu".</summary>
    public string Nonlinearity { get; }

    /// <summary>The next hidden state.</summary>
    public Tensor Forward(Tensor input, Tensor? h = null)
    {
        var (x, state, unbatched) = Batch(input, h);
        var (a, b) = Projections(x, state);
        using (a) using (b) using (var sum = a + b)
            return Unbatch(Activate(sum, Nonlinearity), unbatched);
    }

    internal static Tensor Activate(Tensor t, string nonlinearity) => nonlinearity == "relu" ? t.Relu() : t.Tanh();

    /// <inheritdoc/>
    public override string ExtraRepr() => base.ExtraRepr() + (Nonlinearity == "tanh" ? "" : ", nonlinearity=relu");
}

/// <summary>One LSTM step (<c>nn.LSTMCell</c>): gates i, f, g, o; c' = f·c + i·g, h' = o·tanh(c').</summary>
public sealed class LSTMCell(int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32)
    : RecurrentCellBase("LSTMCell", 4, inputSize, hiddenSize, bias, dtype)
{
    /// <summary>The next (h, c); both zeros when <paramref name="state"/> is null.</summary>
    public (Tensor H, Tensor C) Forward(Tensor input, (Tensor H, Tensor C)? state = null)
    {
        var (x, h, unbatched) = Batch(input, state?.H);
        var c = state is { } s ? (unbatched ? s.C.Unsqueeze(0) : s.C) : Tensor.Zeros([x.Size(0), HiddenSize], input.DType, input.Device);
        var (a, b) = Projections(x, h);
        var gates = a + b;
        int n = HiddenSize;
        var i = gates.Narrow(1, 0, n).Sigmoid();
        var f = gates.Narrow(1, n, n).Sigmoid();
        var g = gates.Narrow(1, 2 * n, n).Tanh();
        var o = gates.Narrow(1, 3 * n, n).Sigmoid();
        var c2 = f * c + i * g;
        var h2 = o * c2.Tanh();
        return (Unbatch(h2, unbatched), Unbatch(c2, unbatched));
    }
}

/// <summary>One GRU step (<c>nn.GRUCell</c>): gates r, z, n; n = tanh(W_in·x + b_in + r·(W_hn·h + b_hn)), h' = (1 - z)·n + z·h.</summary>
public sealed class GRUCell(int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32)
    : RecurrentCellBase("GRUCell", 3, inputSize, hiddenSize, bias, dtype)
{
    /// <summary>The next hidden state.</summary>
    public Tensor Forward(Tensor input, Tensor? h = null)
    {
        var (x, state, unbatched) = Batch(input, h);
        var (a, b) = Projections(x, state);
        int n = HiddenSize;
        var r = (a.Narrow(1, 0, n) + b.Narrow(1, 0, n)).Sigmoid();
        var z = (a.Narrow(1, n, n) + b.Narrow(1, n, n)).Sigmoid();
        var candidate = (a.Narrow(1, 2 * n, n) + r * b.Narrow(1, 2 * n, n)).Tanh();
        var next = (1.0 - z) * candidate + z * state;
        return Unbatch(next, unbatched);
    }
}

/// <summary>
/// Elman RNN (<c>nn.RNN</c>): h_t = tanh (or ReLU) of x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh, with PyTorch's layers,
/// directions, batch-first, dropout and parameter names. <c>Forward</c> returns the output and the final h.
/// </summary>
public sealed class RNN : RecurrentBase
{
    /// <summary>An RNN with <paramref name="nonlinearity"/> "tanh" or "relu".</summary>
    public RNN(int inputSize, int hiddenSize, int numLayers = 1, string nonlinearity = "tanh", bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, DType dtype = DType.Float32)
        : base("RNN", 1, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype)
    {
        if (nonlinearity is not ("tanh" or "relu")) throw new KilnException("RNN", $"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.");
        Nonlinearity = nonlinearity;
    }

    /// <summary>"tanh" or "relu".</summary>
    public string Nonlinearity { get; }

    /// <summary>
    /// Runs the sequence from the initial hidden state (zeros when null); <paramref name="lengths"/> (int64 [N]) as in
    /// <see cref="LSTM.Forward(Tensor, ValueTuple{Tensor, Tensor}?, Tensor?)"/>.
    /// </summary>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0 = null, Tensor? lengths = null)
    {
        using var scope = Tensor.Scope();   // the steps' projections and states go when it returns
        var (seq, unbatched) = Prepare(input);
        var mask = StepMask(lengths, seq, unbatched);
        var h = StateOrZeros(h0, seq.Size(1), unbatched, seq, "hidden", HiddenSize);
        int steps = seq.Size(0);
        var finalH = new Tensor[NumLayers * Directions];
        var output = StackLayers(seq, (l, d, idx, layerInput) =>
        {
            // All steps' input projections in one GEMM; then one recorded step per time step.
            var proj = F.Linear(layerInput, W("weight_ih", l, d), B("bias_ih", l, d));
            var whh = W("weight_hh", l, d);
            var bhh = B("bias_hh", l, d);
            var state = h.Select(0, idx);
            var outputs = new Tensor[steps];
            for (int k = 0; k < steps; k++)
            {
                int t = d == 1 ? steps - 1 - k : k;
                var next = RNNCell.Activate(proj.Select(0, t) + F.Linear(state, whh, bhh), Nonlinearity);
                // Past a sequence's end its state is held, as in the fused LSTM and GRU layers.
                using var runs = Tensor.RunsAt(lengths, t, next.Device);
                state = runs is null ? next : Tensor.Where(runs, next, state);
                outputs[t] = state;
            }
            finalH[idx] = state;
            return Tensor.Stack(outputs, 0);
        });
        if (mask is not null) output = output * mask;
        var result = (Finish(output, unbatched), FinishState(finalH, unbatched));
        scope.KeepAll(result.Item1, result.Item2);
        return result;
    }

    /// <summary>Runs packed variable-length sequences; the final h is each sequence's own last step, in batch order.</summary>
    public (PackedSequence Output, Tensor H) Forward(PackedSequence input, Tensor? h0 = null) =>
        RunPacked(input, (padded, lengths) => Forward(padded, h0, lengths));

    /// <inheritdoc/>
    public override string ExtraRepr() => base.ExtraRepr() + (Nonlinearity == "tanh" ? "" : ", nonlinearity=relu");
}
