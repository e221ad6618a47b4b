namespace Kiln.NN;

/// <summary>GELU (<c>nn.GELU</c>); approximate "none" (erf) or "tanh".</summary>
public sealed class GELU(string approximate = "none") : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Gelu(input, approximate);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"approximate='{approximate}'";
}

/// <summary>x, or slope·x for negative x (<c>nn.LeakyReLU</c>).</summary>
public sealed class LeakyReLU(double negativeSlope = 0.01) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.LeakyRelu(input, negativeSlope);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"negative_slope={Py(negativeSlope)}";
}

/// <summary>Softmax along a dim (<c>nn.Softmax</c>).</summary>
public sealed class Softmax(int dim) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Softmax(input, dim);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"dim={dim}";
}

/// <summary>Log-softmax along a dim (<c>nn.LogSoftmax</c>).</summary>
public sealed class LogSoftmax(int dim) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.LogSoftmax(input, dim);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"dim={dim}";
}

/// <summary>Randomly zeroes elements with probability p in training and rescales the rest (<c>nn.Dropout</c>); identity in eval mode.</summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    /// <summary>A dropout layer with drop probability <paramref name="p"/>.</summary>
    public Dropout(double p = 0.5)
    {
        if (p < 0 || p > 1) throw new KilnException("Dropout", $"Dropout: dropout probability has to be between 0 and 1, but got {p}");
        P = p;
    }

    /// <summary>The drop probability.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Dropout(input, P, Training);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"p={Py(P)}, inplace=False";
}

/// <summary>Zeroes whole channels while training (<c>nn.Dropout2d</c>).</summary>
public sealed class Dropout2d : Module<Tensor, Tensor>
{
    /// <summary>A channel dropout layer with drop probability <paramref name="p"/>.</summary>
    public Dropout2d(double p = 0.5)
    {
        if (p < 0 || p > 1) throw new KilnException("Dropout2d", $"Dropout2d: dropout probability has to be between 0 and 1, but got {p}");
        P = p;
    }

    /// <summary>The drop probability.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Dropout2d(input, P, Training);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"p={Py(P)}, inplace=False";
}

