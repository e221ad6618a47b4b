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

/// <summary>
/// Randomized leaky ReLU (<c>nn.RReLU</c>): negative inputs scaled by slopes drawn from [lower, upper] in training, by
/// their mean in evaluation.
/// </summary>
public sealed class RReLU : Module<Tensor, Tensor>
{
    /// <summary>An RReLU with slopes from [<paramref name="lower"/>, <paramref name="upper"/>].</summary>
    public RReLU(double lower = 1.0 / 8, double upper = 1.0 / 3)
    {
        if (!(lower <= upper)) throw new KilnException("RReLU", $"RReLU: lower bound should be less than or equal to the upper bound, got lower={lower}, upper={upper}");
        Lower = lower;
        Upper = upper;
    }

    /// <summary>The smallest slope.</summary>
    public double Lower { get; }

    /// <summary>The largest slope.</summary>
    public double Upper { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Rrelu(input, Lower, Upper, Training);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"lower={Py(Lower)}, upper={Py(Upper)}";
}

/// <summary>Softmax along a dim (<c>nn.Softmax</c>).</summary>
public sealed class Softmax(int dim) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Softmax(input, dim);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"dim={dim}";
}

/// <summary>Softmax over the channels of [N, C, H, W] or [C, H, W] at each position (<c>nn.Softmax2d</c>).</summary>
public sealed class Softmax2d : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Dim != 3 && input.Dim != 4)
            throw new KilnException("Softmax2d", $"Softmax2d: expected an input of 3 or 4 dimensions, got shape {Compiler.Shapes.ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        return F.Softmax(input, -3);
    }
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

/// <summary>What the channel dropouts share: the probability check, the forward and PyTorch's printing.</summary>
public abstract class ChannelDropoutBase : Module<Tensor, Tensor>
{
    readonly string _op;
    readonly int _spatial;

    private protected ChannelDropoutBase(string name, string op, double p, int spatial)
    {
        if (p < 0 || p > 1) throw new KilnException(name, $"{name}: dropout probability has to be between 0 and 1, but got {p}");
        P = p; _op = op; _spatial = spatial;
    }

    /// <summary>The drop probability.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.ChannelDropout(_op, input, P, Training, null, _spatial);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"p={Py(P)}, inplace=False";
}

/// <summary>Zeroes whole channels of [N, C, L] in training (<c>nn.Dropout1d</c>).</summary>
/// <param name="p">The drop probability.</param>
public sealed class Dropout1d(double p = 0.5) : ChannelDropoutBase("Dropout1d", "dropout1d", p, 1);

/// <summary>Zeroes whole channels of [N, C, H, W] in training (<c>nn.Dropout2d</c>).</summary>
/// <param name="p">The drop probability.</param>
public sealed class Dropout2d(double p = 0.5) : ChannelDropoutBase("Dropout2d", "dropout2d", p, 2);

/// <summary>Zeroes whole channels of [N, C, D, H, W] in training (<c>nn.Dropout3d</c>).</summary>
/// <param name="p">The drop probability.</param>
public sealed class Dropout3d(double p = 0.5) : ChannelDropoutBase("Dropout3d", "dropout3d", p, 3);


/// <summary>x, or α·(eˣ - 1) for x ≤ 0 (<c>nn.ELU</c>).</summary>
public sealed class ELU(double alpha = 1) : Module<Tensor, Tensor>
{
    /// <summary>The saturation value for negative inputs (-α).</summary>
    public double Alpha { get; } = alpha;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Elu(input, Alpha);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"alpha={Py(Alpha)}";
}

/// <summary>x, or α·(e^(x/α) - 1) for x ≤ 0 (<c>nn.CELU</c>).</summary>
public sealed class CELU(double alpha = 1) : Module<Tensor, Tensor>
{
    /// <summary>The saturation value for negative inputs (-α).</summary>
    public double Alpha { get; } = alpha;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Celu(input, Alpha);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"alpha={Py(Alpha)}";
}

/// <summary>x, or a learned slope times x for x ≤ 0 (<c>nn.PReLU</c>): one slope, or one per channel, starting at <c>init</c>.</summary>
public sealed class PReLU : Module<Tensor, Tensor>
{
    /// <summary><paramref name="numParameters"/> slopes (1, or the input's channels), each <paramref name="init"/>.</summary>
    public PReLU(int numParameters = 1, double init = 0.25, DType dtype = DType.Float32)
    {
        if (numParameters <= 0) throw new KilnException("PReLU", $"PReLU: num_parameters must be positive, got {numParameters}");
        NumParameters = numParameters;
        RegisterParameter("weight", Parameter(Tensor.Full([numParameters], init, dtype)));
    }

    /// <summary>How many slopes.</summary>
    public int NumParameters { get; }
    /// <summary>The slopes [num_parameters].</summary>
    public Tensor Weight => TensorMember("weight")!;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Prelu(input, Weight);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"num_parameters={NumParameters}";
}

/// <summary>min(max(x, 0), 6) (<c>nn.ReLU6</c>).</summary>
public sealed class ReLU6 : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Relu6(input);
}

/// <summary>x clamped into [min_val, max_val] (<c>nn.Hardtanh</c>).</summary>
public sealed class Hardtanh(double minVal = -1, double maxVal = 1) : Module<Tensor, Tensor>
{
    /// <summary>The lower bound.</summary>
    public double MinVal { get; } = minVal;
    /// <summary>The upper bound.</summary>
    public double MaxVal { get; } = maxVal;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Hardtanh(input, MinVal, MaxVal);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"min_val={Py(MinVal)}, max_val={Py(MaxVal)}";
}

/// <summary>x above the threshold, else a fixed value (<c>nn.Threshold</c>).</summary>
public sealed class Threshold(double threshold, double value) : Module<Tensor, Tensor>
{
    /// <summary>Inputs at or below it are replaced.</summary>
    public double ThresholdValue { get; } = threshold;
    /// <summary>The replacement.</summary>
    public double Value { get; } = value;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Threshold(input, ThresholdValue, Value);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"threshold={Py(ThresholdValue)}, value={Py(Value)}";
}

/// <summary>Shrinks toward 0 by λ, 0 inside [-λ, λ] (<c>nn.Softshrink</c>).</summary>
public sealed class Softshrink(double lambd = 0.5) : Module<Tensor, Tensor>
{
    /// <summary>λ.</summary>
    public double Lambd { get; } = lambd;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Softshrink(input, Lambd);
    /// <inheritdoc/>
    public override string ExtraRepr() => Py(Lambd);
}

/// <summary>x outside [-λ, λ], 0 inside (<c>nn.Hardshrink</c>).</summary>
public sealed class Hardshrink(double lambd = 0.5) : Module<Tensor, Tensor>
{
    /// <summary>λ.</summary>
    public double Lambd { get; } = lambd;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Hardshrink(input, Lambd);
    /// <inheritdoc/>
    public override string ExtraRepr() => Py(Lambd);
}

/// <summary>x - tanh(x) (<c>nn.Tanhshrink</c>).</summary>
public sealed class Tanhshrink : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Tanhshrink(input);
}

/// <summary>The gated linear unit a·sigmoid(b) over the input halved along a dim (<c>nn.GLU</c>).</summary>
public sealed class GLU(int dim = -1) : Module<Tensor, Tensor>
{
    /// <summary>The dim halved.</summary>
    public int Dim { get; } = dim;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Glu(input, Dim);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"dim={Dim}";
}

/// <summary>Softmax of -x along a dim (<c>nn.Softmin</c>).</summary>
public sealed class Softmin(int dim) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Softmin(input, dim);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"dim={dim}";
}

/// <summary>log(1 + e^(βx))/β, linear where βx is above the threshold (<c>nn.Softplus</c>).</summary>
public sealed class Softplus(double beta = 1, double threshold = 20) : Module<Tensor, Tensor>
{
    /// <summary>β.</summary>
    public double Beta { get; } = beta;
    /// <summary>Above it (in βx) the output is x.</summary>
    public double ThresholdValue { get; } = threshold;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Softplus(input, Beta, ThresholdValue);
    // PyTorch's defaults are ints and print without ".0"; whole numbers print so here.
    /// <inheritdoc/>
    public override string ExtraRepr() => $"beta={Whole(Beta)}, threshold={Whole(ThresholdValue)}";

    static string Whole(double v) => v == System.Math.Floor(v) && System.Math.Abs(v) < 1e15 ? ((long)v).ToString(System.Globalization.CultureInfo.InvariantCulture) : Py(v);
}
