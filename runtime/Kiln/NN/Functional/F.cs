namespace Kiln.NN;

/// <summary>
/// The functional forms of Kiln's layers (<c>torch.nn.functional</c>, imported by PyTorch users as <c>F</c>):
/// stateless functions of tensors that record autograd like every tensor op.
/// </summary>
public static partial class F
{
}

/// <summary>How a loss reduces its per-element values (<c>reduction=</c>).</summary>
public enum Reduction
{
    /// <summary>Per-element losses, unreduced.</summary>
    None,
    /// <summary>The (weighted) mean.</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>Sum divided by the batch size (KL divergence only: the mathematically correct mean).</summary>
    BatchMean,
}
