using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

/// <summary>
/// Efficient softmax over a large vocabulary (<c>nn.AdaptiveLogSoftmaxWithLoss</c>, Grave et al. 2016): the frequent
/// classes below the first cutoff share a head with one logit per tail cluster; each cluster's classes come from a
/// smaller projection (in_features / div_value^(i+1) wide). <see cref="Forward"/> computes only the clusters a batch's
/// targets fall in. Children and state-dict keys are PyTorch's: <c>head</c>, <c>tail.i.0</c>, <c>tail.i.1</c>.
/// </summary>
public sealed class AdaptiveLogSoftmaxWithLoss : Module
{
    readonly int[] _cutoffs;   // the given cutoffs with n_classes appended

    /// <summary>
    /// Classes 0..<paramref name="nClasses"/> - 1 split at <paramref name="cutoffs"/> (increasing, each in (0, n_classes - 1));
    /// cluster i's projection is in_features / <paramref name="divValue"/>^(i+1) wide.
    /// </summary>
    public AdaptiveLogSoftmaxWithLoss(int inFeatures, int nClasses, int[] cutoffs, double divValue = 4.0, bool headBias = false)
    {
        const string op = "AdaptiveLogSoftmaxWithLoss";
        bool sorted = cutoffs.Length > 0;
        for (int i = 0; i < cutoffs.Length; i++)
            if (cutoffs[i] <= 0 || cutoffs[i] > nClasses - 1 || i > 0 && cutoffs[i] <= cutoffs[i - 1]) sorted = false;
        if (!sorted)
            throw new KilnException(op, $"{op}: cutoffs should be a sequence of unique, positive integers sorted in an increasing order, where each value is between 1 and n_classes-1 ({nClasses - 1}), got [{string.Join(", ", cutoffs)}]");
        InFeatures = inFeatures;
        NClasses = nClasses;
        DivValue = divValue;
        _cutoffs = [.. cutoffs, nClasses];
        ShortlistSize = cutoffs[0];
        NClusters = cutoffs.Length;
        Head = new Linear(inFeatures, ShortlistSize + NClusters, headBias);
        var tails = new Sequential[NClusters];
        for (int i = 0; i < NClusters; i++)
        {
            int hidden = (int)Math.Floor(inFeatures / Math.Pow(divValue, i + 1));
            int size = _cutoffs[i + 1] - _cutoffs[i];
            tails[i] = new Sequential(new Linear(inFeatures, hidden, false), new Linear(hidden, size, false));
        }
        Tail = new ModuleList<Sequential>(tails);
        RegisterModule("head", Head);
        RegisterModule("tail", Tail);
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Classes in all.</summary>
    public int NClasses { get; }

    /// <summary>The narrowing factor of the clusters' projections.</summary>
    public double DivValue { get; }

    /// <summary>Classes the head scores directly (the first cutoff).</summary>
    public int ShortlistSize { get; }

    /// <summary>Tail clusters.</summary>
    public int NClusters { get; }

    /// <summary>The shortlist's and the clusters' logits.</summary>
    public Linear Head { get; }

    /// <summary>Each cluster's two projections.</summary>
    public ModuleList<Sequential> Tail { get; }

    /// <summary>
    /// The log-probability of each row's target [N] (or [] for one row) and the mean negative log-likelihood
    /// (<c>forward(input, target)</c>, PyTorch's <c>_ASMoutput</c>). Only the clusters the targets fall in are computed.
    /// </summary>
    public (Tensor Output, Tensor Loss) Forward(Tensor input, Tensor target)
    {
        const string op = "AdaptiveLogSoftmaxWithLoss";
        bool single = input.Dim == 1;
        if (single ? target.Dim != 0 : input.Dim != 2 || target.Dim != 1 || target.Size(0) != input.Size(0))
            throw new KilnException(op, $"{op}: input and target should have the same size in the batch dimension (input [N, {InFeatures}] or [{InFeatures}], target [N] or []), got {ShapeText.Format(input.ShapeArray)} and {ShapeText.Format(target.ShapeArray)}", KilnErrorKind.Shape);
        if (input.Size(-1) != InFeatures)
            throw new KilnException(op, $"{op}: expected {InFeatures} input features, got shape {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        using var rows = single ? input.Unsqueeze(0) : null;
        using var targets = single ? target.Reshape([1]) : null;
        var x = rows ?? input;
        var y = targets ?? target;
        int n = x.Size(0);
        // Which rows fall in which cluster (on the host: a bucketing of the targets).
        using var hostTargets = y.Cpu();
        using var longs = hostTargets.To(DType.Int64);
        var t = longs.ToArray<long>();
        var headTargets = new long[n];
        var clusterRows = new System.Collections.Generic.List<long>[NClusters];
        var clusterTargets = new System.Collections.Generic.List<long>[NClusters];
        for (int r = 0; r < n; r++)
        {
            long c = t[r];
            if (c < 0 || c >= NClasses)
                throw new KilnException(op, $"{op}: target values should be in [0, {NClasses - 1}], but {c} was found at {r}", KilnErrorKind.Index);
            if (c < ShortlistSize) { headTargets[r] = c; continue; }
            int cluster = 0;
            while (c >= _cutoffs[cluster + 1]) cluster++;
            headTargets[r] = ShortlistSize + cluster;
            (clusterRows[cluster] ??= new()).Add(r);
            (clusterTargets[cluster] ??= new()).Add(c - _cutoffs[cluster]);
        }
        using var headLogits = Head.Call(x);
        using var headLog = headLogits.LogSoftmax(1);
        using var headIndex = Tensor.From(headTargets, n, 1).To(x.Device);
        using var headPicked = headLog.Gather(1, headIndex);
        var output = headPicked.Squeeze(1);
        for (int i = 0; i < NClusters; i++)
        {
            if (clusterRows[i] is null) continue;
            int m = clusterRows[i].Count;
            using var index = Tensor.From(clusterRows[i].ToArray(), m).To(x.Device);
            using var relative = Tensor.From(clusterTargets[i].ToArray(), m, 1).To(x.Device);
            using var subset = x.IndexSelect(0, index);
            using var logits = Tail[i].Call(subset);
            using var log = logits.LogSoftmax(1);
            using var picked = log.Gather(1, relative);
            using var local = picked.Squeeze(1);
            using var before = output;
            output = before.IndexAdd(0, index, local);
        }
        using var negative = output.Neg();
        var loss = negative.Mean();
        if (!single) return (output, loss);
        using (output) return (output.Reshape([]), loss);
    }

    /// <summary>The log-probabilities of every class [N, n_classes] (<c>log_prob</c>).</summary>
    public Tensor LogProb(Tensor input)
    {
        using var headLogits = Head.Call(input);
        using var headLog = headLogits.LogSoftmax(-1);
        var parts = new Tensor[NClusters + 1];
        try
        {
            parts[0] = headLog.Narrow(-1, 0, ShortlistSize);
            for (int i = 0; i < NClusters; i++)
            {
                using var logits = Tail[i].Call(input);
                using var log = logits.LogSoftmax(-1);
                using var clusterLog = headLog.Narrow(-1, ShortlistSize + i, 1);
                parts[i + 1] = log + clusterLog;
            }
            return Tensor.Cat(parts, -1);
        }
        finally
        {
            foreach (var p in parts) p?.Dispose();
        }
    }

    /// <summary>The most probable class of each row (<c>predict</c>).</summary>
    public Tensor Predict(Tensor input)
    {
        using var noGrad = Autograd.NoGrad();
        using var log = LogProb(input);
        return log.ArgMax(-1);
    }
}
