namespace Kiln.NN;

public static partial class F
{
    /// <summary>GELU; <paramref name="approximate"/> is "none" (erf) or "tanh".</summary>
    public static Tensor Gelu(Tensor x, string approximate = "none") => x.Gelu(approximate);

    /// <summary>x where x &gt; 0, else <paramref name="negativeSlope"/>·x.</summary>
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01)
    {
        using var positive = x.Gt(0);
        using var scaled = x * negativeSlope;
        return Tensor.Where(positive, x, scaled);
    }

    /// <summary>log(1 + e^(βx))/β, linear above the threshold.</summary>
    public static Tensor Softplus(Tensor x, double beta = 1, double threshold = 20) => x.Softplus(beta, threshold);

    /// <summary>Softmax along <paramref name="dim"/>.</summary>
    public static Tensor Softmax(Tensor x, int dim) => x.Softmax(dim);

    /// <summary>Log-softmax along <paramref name="dim"/>.</summary>
    public static Tensor LogSoftmax(Tensor x, int dim) => x.LogSoftmax(dim);
}
