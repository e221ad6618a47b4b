namespace Kiln.NN;

/// <summary>
/// Folding an evaluation-mode batch norm into the convolution or linear layer before it (<c>torch.nn.utils.fusion</c>):
/// y = γ·(W·x + b - μ)/√(σ² + ε) + β is one layer with weight W·γ/√(σ² + ε) and bias (b - μ)·γ/√(σ² + ε) + β, so
/// inference runs one op instead of two.
/// </summary>
public static class Fusion
{
    /// <summary>
    /// A new convolution of <paramref name="conv"/>'s type and geometry computing <paramref name="bn"/>(conv(x))
    /// (<c>fuse_conv_bn_eval</c>); both must be in eval mode. The layers passed are left as they are.
    /// </summary>
    public static ConvBase FuseConvBnEval(ConvBase conv, BatchNormBase bn)
    {
        const string op = "fuse_conv_bn_eval";
        CheckEval(op, conv, bn);
        if (bn.NumFeatures != conv.OutChannels)
            throw new KilnException(op, $"{op}: the batch norm has {bn.NumFeatures} features but the convolution {conv.OutChannels} output channels", KilnErrorKind.Shape);
        var (weight, bias) = FuseConvBnWeights(conv.Weight, conv.Bias, bn.RunningMean!, bn.RunningVar!, bn.Eps, bn.Weight, bn.Bias, conv.Transposed);
        ConvBase fused = Like(op, conv).To(conv.Weight.Device);
        Assign(fused, weight, bias, conv.Weight.RequiresGrad);
        fused.Eval();
        return fused;
    }

    /// <summary>
    /// A new linear layer computing <paramref name="bn"/>(<paramref name="linear"/>(x)) (<c>fuse_linear_bn_eval</c>);
    /// both must be in eval mode, the batch norm over the layer's output features.
    /// </summary>
    public static Linear FuseLinearBnEval(Linear linear, BatchNormBase bn)
    {
        const string op = "fuse_linear_bn_eval";
        CheckEval(op, linear, bn);
        if (bn.NumFeatures != linear.OutFeatures)
            throw new KilnException(op, $"{op}: the batch norm has {bn.NumFeatures} features but the linear layer {linear.OutFeatures} outputs", KilnErrorKind.Shape);
        var (weight, bias) = FuseLinearBnWeights(linear.Weight, linear.Bias, bn.RunningMean!, bn.RunningVar!, bn.Eps, bn.Weight, bn.Bias);
        var fused = new Linear(linear.InFeatures, linear.OutFeatures, bias: true, dtype: linear.Weight.DType).To(linear.Weight.Device);
        Assign(fused, weight, bias, linear.Weight.RequiresGrad);
        fused.Eval();
        return fused;
    }

    /// <summary>
    /// The fused convolution weight and bias (<c>fuse_conv_bn_weights</c>): each output channel's filter scaled by
    /// γ/√(σ² + ε) (dim 1 of a transposed convolution's weight), the bias (b - μ)·γ/√(σ² + ε) + β; a missing conv bias
    /// reads 0, a missing γ 1 and β 0.
    /// </summary>
    public static (Tensor Weight, Tensor Bias) FuseConvBnWeights(Tensor convWeight, Tensor? convBias, Tensor runningMean, Tensor runningVar, double eps,
        Tensor? bnWeight, Tensor? bnBias, bool transpose = false)
    {
        using var noGrad = Autograd.NoGrad();
        using var scale = Scale(runningVar, eps, bnWeight);
        var shape = new int[convWeight.Dim];
        System.Array.Fill(shape, 1);
        shape[transpose ? 1 : 0] = -1;
        using var perChannel = scale.Reshape(shape);
        using var weight = convWeight * perChannel;
        var bias = FusedBias(convBias, runningMean, scale, bnBias);
        return (weight.To(convWeight.DType), bias);
    }

    /// <summary>The fused linear weight and bias (<c>fuse_linear_bn_weights</c>): each output row scaled by γ/√(σ² + ε).</summary>
    public static (Tensor Weight, Tensor Bias) FuseLinearBnWeights(Tensor linearWeight, Tensor? linearBias, Tensor runningMean, Tensor runningVar, double eps,
        Tensor? bnWeight, Tensor? bnBias)
    {
        using var noGrad = Autograd.NoGrad();
        using var scale = Scale(runningVar, eps, bnWeight);
        using var column = scale.Unsqueeze(-1);
        using var weight = linearWeight * column;
        var bias = FusedBias(linearBias, runningMean, scale, bnBias);
        return (weight.To(linearWeight.DType), bias);
    }

    /// <summary>γ/√(σ² + ε).</summary>
    static Tensor Scale(Tensor runningVar, double eps, Tensor? bnWeight)
    {
        using var shifted = runningVar + eps;
        using var inverse = shifted.Rsqrt();
        return bnWeight is null ? inverse.To(inverse.DType) : inverse * bnWeight;
    }

    /// <summary>(b - μ)·scale + β.</summary>
    static Tensor FusedBias(Tensor? bias, Tensor runningMean, Tensor scale, Tensor? bnBias)
    {
        using var b = bias is null ? Tensor.ZerosLike(runningMean) : bias.To(bias.DType);
        using var centred = b - runningMean;
        using var scaled = centred * scale;
        return bnBias is null ? scaled.To(scaled.DType) : scaled + bnBias;
    }

    static void CheckEval(string op, Module layer, BatchNormBase bn)
    {
        if (layer.Training || bn.Training)
            throw new KilnException(op, $"{op}: Fusion only for eval! Call Eval() on both layers first ({layer.GetType().Name} training: {layer.Training}, {bn.GetType().Name} training: {bn.Training})", KilnErrorKind.State);
        if (bn.RunningMean is null || bn.RunningVar is null)
            throw new KilnException(op, $"{op}: the batch norm tracks no running statistics (track_running_stats=False), so there is nothing to fold", KilnErrorKind.State);
    }

    /// <summary>A fresh layer of <paramref name="conv"/>'s type and geometry, with a bias.</summary>
    static ConvBase Like(string op, ConvBase conv)
    {
        int[] k = conv.KernelSize, s = conv.Stride, p = conv.Padding, d = conv.Dilation, o = conv.OutputPadding;
        var dtype = conv.Weight.DType;
        return conv switch
        {
            Conv1d when conv.PaddingText is { } text => new Conv1d(conv.InChannels, conv.OutChannels, k[0], text, s[0], d[0], conv.Groups, true, dtype),
            Conv1d => new Conv1d(conv.InChannels, conv.OutChannels, k[0], s[0], p[0], d[0], conv.Groups, true, dtype),
            Conv2d when conv.PaddingText is { } text && k[0] == k[1] && s[0] == s[1] && d[0] == d[1] => new Conv2d(conv.InChannels, conv.OutChannels, k[0], text, s[0], d[0], conv.Groups, true, dtype),
            Conv2d when conv.PaddingText is null => new Conv2d(conv.InChannels, conv.OutChannels, k, s, p, d, conv.Groups, true, dtype),
            Conv3d when conv.PaddingText is null => new Conv3d(conv.InChannels, conv.OutChannels, k, s, p, d, conv.Groups, true, dtype),
            ConvTranspose1d => new ConvTranspose1d(conv.InChannels, conv.OutChannels, k[0], s[0], p[0], o[0], conv.Groups, true, d[0], dtype),
            ConvTranspose2d => new ConvTranspose2d(conv.InChannels, conv.OutChannels, k, s, p, o, conv.Groups, true, d, dtype),
            ConvTranspose3d => new ConvTranspose3d(conv.InChannels, conv.OutChannels, k, s, p, o, conv.Groups, true, d, dtype),
            _ => throw new KilnException(op, $"{op}: cannot rebuild a {conv.GetType().Name} ({conv.ExtraRepr()}); fold the weights with FuseConvBnWeights instead", KilnErrorKind.Unsupported),
        };
    }

    static void Assign(Module layer, Tensor weight, Tensor bias, bool requiresGrad)
    {
        using (Autograd.NoGrad())
        {
            var named = new System.Collections.Generic.Dictionary<string, Tensor>();
            foreach (var (name, parameter) in layer.NamedParameters()) named[name] = parameter;
            named["weight"].Copy_(weight);
            named["bias"].Copy_(bias);
            named["weight"].RequiresGrad_(requiresGrad);
            named["bias"].RequiresGrad_(requiresGrad);
        }
        weight.Dispose();
        bias.Dispose();
    }
}
