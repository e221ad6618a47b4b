using System;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// The submodules torch.ao hangs on a prepared layer, under torch's names, and what the observed and QAT layers do with
/// them — written once for <see cref="Linear"/> and <see cref="Conv2d"/> (their own bases differ, so this is a helper,
/// not a base class): observers on input, weight and output, or fake quantizations in the same three places.
/// </summary>
internal static class QuantSlots
{
    public const string InputObserver = "input_observer", WeightObserver = "weight_observer", Output = "activation_post_process";
    public const string InputFakeQuant = "input_fake_quant", WeightFakeQuant = "weight_fake_quant";

    /// <summary>Registers the three observers of post-training quantization through the layer's <paramref name="register"/>.</summary>
    public static void AddObservers(Action<string, Module> register, QConfig config)
    {
        register(InputObserver, config.Activation());
        register(WeightObserver, config.Weight());
        register(Output, config.Activation());
    }

    /// <summary>Registers the three fake quantizations of quantization-aware training.</summary>
    public static void AddFakeQuants(Action<string, Module> register, QConfig config)
    {
        register(InputFakeQuant, new FakeQuantize(config.Activation()));
        register(WeightFakeQuant, new FakeQuantize(config.Weight()));
        register(Output, new FakeQuantize(config.Activation()));
    }

    /// <summary>The float forward with the input and output observed.</summary>
    public static Tensor Observed(Module layer, Tensor input, Func<Tensor, Tensor> forward)
    {
        ((Observer)layer.GetSubmodule(InputObserver)).Forward(input);
        var y = forward(input);
        ((Observer)layer.GetSubmodule(Output)).Forward(y);
        return y;
    }

    /// <summary>The calibrated (input, weight per output channel, output) parameters of an observed layer.</summary>
    public static (QParams Input, QParams[] Weight, QParams Output) Calibrated(Module layer, Tensor weight)
    {
        var w = (Observer)layer.GetSubmodule(WeightObserver);
        w.Forward(weight);
        return (((Observer)layer.GetSubmodule(InputObserver)).CalculateQParams(), w.CalculateQParamsPerChannel(weight.Size(0)),
            ((Observer)layer.GetSubmodule(Output)).CalculateQParams());
    }

    /// <summary>The fake quantization at <paramref name="name"/> of a QAT layer.</summary>
    public static FakeQuantize FakeQuant(Module layer, string name) => (FakeQuantize)layer.GetSubmodule(name);

    /// <summary>The trained (input, weight per output channel, output) parameters of a QAT layer.</summary>
    public static (QParams Input, QParams[] Weight, QParams Output) Trained(Module layer, int outChannels) =>
        (FakeQuant(layer, InputFakeQuant).QParams, FakeQuant(layer, WeightFakeQuant).ChannelQParams(outChannels), FakeQuant(layer, Output).QParams);

    /// <summary>Freezes every range of a QAT layer (<c>disable_observer</c>).</summary>
    public static void DisableObservers(Module layer)
    {
        FakeQuant(layer, InputFakeQuant).ObserverEnabled = false;
        FakeQuant(layer, WeightFakeQuant).ObserverEnabled = false;
        FakeQuant(layer, Output).ObserverEnabled = false;
    }
}
