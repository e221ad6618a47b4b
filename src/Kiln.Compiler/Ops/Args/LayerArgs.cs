namespace Kiln.Compiler.Ops
{
    /// <summary>
    /// Scaled dot-product attention: the score scale, whether the causal mask applies, and whether key/value heads may be
    /// fewer than query heads (grouped-query attention; each key/value head serves a group of query heads).
    /// </summary>
    public sealed record AttentionArgs(double Scale, bool Causal, bool Grouped = false) : OpArgs;

    /// <summary>One LSTM layer over a sequence: the direction and the hidden size (the width of c).</summary>
    public sealed record LstmArgs(bool Reverse, int HiddenSize) : OpArgs;

    /// <summary>One GRU layer over a sequence: the direction and whether the hidden-to-hidden bias exists.</summary>
    public sealed record GruArgs(bool Reverse, bool HasBias) : OpArgs;

    /// <summary>layer_norm / rms_norm over the last <paramref name="Size"/> values of each row, with which affine tensors exist and the epsilon (rms_norm's gradient of the gradient forms 1/rms again from it).</summary>
    public sealed record NormalizationArgs(int Size, bool HasWeight, bool HasBias, double Eps = 0) : OpArgs;

    /// <summary>
    /// batch_norm over [N, C, *] with which affine tensors exist, whether the statistics were the batch's own (their
    /// derivative flows into dx) and the eps they were formed with (a second-order backward recomputes them).
    /// </summary>
    public sealed record BatchNormArgs(bool HasWeight, bool HasBias, bool BatchStatistics, double Eps) : OpArgs;
}
