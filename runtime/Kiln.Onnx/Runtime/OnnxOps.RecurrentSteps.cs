using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    internal enum RecurrentKind { Rnn, Gru, Lstm }

    /// <summary>
    /// ONNX's RNN, GRU and LSTM equations step by step with Kiln's tensor ops: what the fused layers do not cover (plain
    /// RNN, GRU with linear_before_reset = 0, LSTM peepholes and input_forget, other activations, clip). X·Wᵀ + Wb is one
    /// product for all steps; each step adds H·Rᵀ + Rb. Past a sequence's end (sequence_lens) the state holds and Y is zero.
    /// </summary>
    static Tensor?[] Stepwise(NodeContext ctx, RecurrentKind kind, Tensor x, List<bool> directions, int h, bool batchFirst, Tensor? lengths)
    {
        int gates = kind switch { RecurrentKind.Rnn => 1, RecurrentKind.Gru => 3, _ => 4 };
        int perDirection = kind switch { RecurrentKind.Rnn => 1, RecurrentKind.Gru => 2, _ => 3 };
        var activations = Activations(ctx, kind, perDirection, directions.Count);
        double clip = ctx.Has("clip") ? ctx.Float("clip", 0f) : double.PositiveInfinity;
        bool linearBeforeReset = ctx.Int("linear_before_reset", 0) != 0, coupled = ctx.Int("input_forget", 0) != 0;
        int steps = x.Size(0), batch = x.Size(1);
        var ys = new Tensor[directions.Count];
        var hs = new Tensor[directions.Count];
        var cs = new Tensor[directions.Count];
        for (int d = 0; d < directions.Count; d++)
        {
            var act = activations.AsSpan(d * perDirection, perDirection).ToArray();
            var w = ctx.In(1).Select(0, d);
            var r = ctx.In(2).Select(0, d);
            var bias = ctx.Optional(3)?.Select(0, d);
            var wb = bias?.Narrow(0, 0, gates * h);
            var rb = bias?.Narrow(0, gates * h, gates * h);
            var proj = x.Matmul(w.T);
            if (wb is not null) proj = proj + wb;
            var state = State(ctx, 5, d, x, h, batchFirst);
            var cell = kind == RecurrentKind.Lstm ? State(ctx, 6, d, x, h, batchFirst) : null;
            var peep = kind == RecurrentKind.Lstm ? ctx.Optional(7)?.Select(0, d) : null;
            var outputs = new Tensor[steps];
            bool reverse = directions[d];
            Tensor Clip(Tensor v) => double.IsPositiveInfinity(clip) ? v : v.Clamp(-clip, clip);
            Tensor Block(Tensor v, int b) => v.Narrow(v.Dim - 1, b * h, h);
            Tensor Rows(Tensor m, int b) => m.Narrow(0, b * h, h);
            for (int k = 0; k < steps; k++)
            {
                int t = reverse ? steps - 1 - k : k;
                var xt = proj.Select(0, t);
                Tensor next, nextCell = cell!;
                switch (kind)
                {
                    case RecurrentKind.Rnn:
                    {
                        var rec = state.Matmul(r.T);
                        if (rb is not null) rec = rec + rb;
                        next = act[0](Clip(xt + rec));
                        break;
                    }
                    case RecurrentKind.Gru:
                    {
                        // Blocks z, r, h.
                        var rz = state.Matmul(Rows(r, 0).T);
                        var rr = state.Matmul(Rows(r, 1).T);
                        if (rb is not null) { rz = rz + Block(rb, 0); rr = rr + Block(rb, 1); }
                        var z = act[0](Clip(Block(xt, 0) + rz));
                        var reset = act[0](Clip(Block(xt, 1) + rr));
                        Tensor candidate;
                        if (linearBeforeReset)
                        {
                            var rh = state.Matmul(Rows(r, 2).T);
                            if (rb is not null) rh = rh + Block(rb, 2);
                            candidate = act[1](Clip(Block(xt, 2) + reset * rh));
                        }
                        else
                        {
                            var rh = (reset * state).Matmul(Rows(r, 2).T);
                            if (rb is not null) rh = rh + Block(rb, 2);
                            candidate = act[1](Clip(Block(xt, 2) + rh));
                        }
                        next = (1 - z) * candidate + z * state;
                        break;
                    }
                    default:
                    {
                        // Blocks i, o, f, c; peepholes i, o, f.
                        var rec = state.Matmul(r.T);
                        if (rb is not null) rec = rec + rb;
                        var pre = xt + rec;
                        var iPre = Block(pre, 0);
                        if (peep is not null) iPre = iPre + Block(peep, 0) * cell!;
                        var i = act[0](Clip(iPre));
                        Tensor f;
                        if (coupled) f = 1 - i;
                        else
                        {
                            var fPre = Block(pre, 2);
                            if (peep is not null) fPre = fPre + Block(peep, 2) * cell!;
                            f = act[0](Clip(fPre));
                        }
                        var g = act[1](Clip(Block(pre, 3)));
                        nextCell = f * cell! + i * g;
                        var oPre = Block(pre, 1);
                        if (peep is not null) oPre = oPre + Block(peep, 1) * nextCell;
                        var o = act[0](Clip(oPre));
                        next = o * act[2](nextCell);
                        break;
                    }
                }
                var runs = Tensor.RunsAt(lengths, t, next.Device);
                if (runs is null) { state = next; if (cell is not null) cell = nextCell; outputs[t] = next; }
                else
                {
                    state = Tensor.Where(runs, next, state);
                    if (cell is not null) cell = Tensor.Where(runs, nextCell, cell);
                    outputs[t] = Tensor.Where(runs, next, Tensor.ZerosLike(next));
                }
            }
            ys[d] = steps > 0 ? Tensor.Stack(outputs, 0) : Tensor.Zeros([0, batch, h], x.DType);
            hs[d] = state;
            if (cell is not null) cs[d] = cell;
        }
        var y = Sequence(ys, batchFirst);
        var yh = Tensor.Stack(hs, batchFirst ? 1 : 0);
        return kind == RecurrentKind.Lstm ? [y, yh, Tensor.Stack(cs, batchFirst ? 1 : 0)] : [y, yh];
    }

    /// <summary>The node's activations, <paramref name="perDirection"/> for each direction (ONNX's defaults when absent),
    /// with their alpha/beta taken in order from activation_alpha/activation_beta.</summary>
    static Func<Tensor, Tensor>[] Activations(NodeContext ctx, RecurrentKind kind, int perDirection, int directions)
    {
        string[] defaults = kind switch { RecurrentKind.Rnn => ["Tanh"], RecurrentKind.Gru => ["Sigmoid", "Tanh"], _ => ["Sigmoid", "Tanh", "Tanh"] };
        var names = ctx.Node.StringLists.TryGetValue("activations", out var given) ? given : null;
        if (names is not null && names.Length != perDirection * directions && !(names.Length == perDirection && directions == 2))
            throw ctx.Error($"{names.Length} activations for {directions} direction(s) of {perDirection}");
        var alphas = ctx.Node.FloatLists.TryGetValue("activation_alpha", out var a) ? a : [];
        var betas = ctx.Node.FloatLists.TryGetValue("activation_beta", out var b) ? b : [];
        int ai = 0, bi = 0;
        var result = new Func<Tensor, Tensor>[perDirection * directions];
        for (int i = 0; i < result.Length; i++)
        {
            string name = names is null ? defaults[i % perDirection] : names[i % names.Length];
            float Alpha(float fallback) => ai < alphas.Length ? alphas[ai++] : fallback;
            float Beta(float fallback) => bi < betas.Length ? betas[bi++] : fallback;
            result[i] = name.ToLowerInvariant() switch
            {
                "tanh" => v => v.Tanh(),
                "sigmoid" => v => v.Sigmoid(),
                "relu" => v => v.Relu(),
                "softsign" => v => v.Softsign(),
                "softplus" => v => v.Softplus(),
                "affine" => Affine(Alpha(1f), Beta(0f)),
                "leakyrelu" => LeakyRelu(Alpha(0.01f)),
                "thresholdedrelu" => ThresholdedRelu(Alpha(1f)),
                "scaledtanh" => ScaledTanh(Alpha(1f), Beta(1f)),
                "hardsigmoid" => HardSigmoid(Alpha(0.2f), Beta(0.5f)),
                "elu" => Elu(Alpha(1f)),
                _ => throw ctx.Unsupported($"activation '{name}'"),
            };
        }
        return result;

        static Func<Tensor, Tensor> Affine(double alpha, double beta) => v => v * alpha + beta;
        static Func<Tensor, Tensor> LeakyRelu(double alpha) => v => NN.F.LeakyRelu(v, alpha);
        static Func<Tensor, Tensor> ThresholdedRelu(double alpha) => v => Tensor.Where(v.Gt(alpha), v, Tensor.ZerosLike(v));
        static Func<Tensor, Tensor> ScaledTanh(double alpha, double beta) => v => (v * beta).Tanh() * alpha;
        static Func<Tensor, Tensor> HardSigmoid(double alpha, double beta) => v => (v * alpha + beta).Clamp(0, 1);
        static Func<Tensor, Tensor> Elu(double alpha) => v => NN.F.Elu(v, alpha);
    }
}
