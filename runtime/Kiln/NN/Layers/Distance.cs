namespace Kiln.NN;

/// <summary>Cosine similarity of two inputs along a dim (<c>nn.CosineSimilarity</c>).</summary>
public sealed class CosineSimilarity(int dim = 1, double eps = 1e-8) : Module
{
    /// <summary>The dim the vectors lie along.</summary>
    public int Dim { get; } = dim;
    /// <summary>The smallest norm divided by.</summary>
    public double Eps { get; } = eps;
    /// <summary>The similarity of <paramref name="x1"/> and <paramref name="x2"/> (broadcast).</summary>
    public Tensor Forward(Tensor x1, Tensor x2) => F.CosineSimilarity(x1, x2, Dim, Eps);
    /// <summary>Runs the module (PyTorch's <c>module(x1, x2)</c>).</summary>
    public Tensor Call(Tensor x1, Tensor x2) => Forward(x1, x2);
}

/// <summary>The p-norm distance between rows of two inputs, along the last dim (<c>nn.PairwiseDistance</c>).</summary>
public sealed class PairwiseDistance(double p = 2, double eps = 1e-6, bool keepDim = false) : Module
{
    /// <summary>The norm's order.</summary>
    public double P { get; } = p;
    /// <summary>Added to the difference, so a zero distance has a gradient.</summary>
    public double Eps { get; } = eps;
    /// <summary>Whether the reduced dim is kept (size 1).</summary>
    public bool KeepDim { get; } = keepDim;
    /// <summary>The distances between <paramref name="x1"/> and <paramref name="x2"/> (broadcast).</summary>
    public Tensor Forward(Tensor x1, Tensor x2) => F.PairwiseDistance(x1, x2, P, Eps, KeepDim);
    /// <summary>Runs the module (PyTorch's <c>module(x1, x2)</c>).</summary>
    public Tensor Call(Tensor x1, Tensor x2) => Forward(x1, x2);
}
