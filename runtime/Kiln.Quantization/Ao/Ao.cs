using System.Collections.Generic;
using System.Linq;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// torch.ao.quantization's eager workflow for linear and 2-D convolution layers: <see cref="QuantizeDynamic"/>; post-training static
/// quantization with <see cref="Prepare"/> → calibrate → <see cref="Convert"/>; quantization-aware training with
/// <see cref="PrepareQat"/> → train → <see cref="Convert"/>. Layers are swapped in place (<see cref="Module.SetSubmodule"/>);
/// each method returns the paths it changed.
/// </summary>
public static class Ao
{
    /// <summary>Every plain <see cref="Linear"/> becomes a <see cref="DynamicQuantizedLinear"/> (<c>quantize_dynamic</c>).</summary>
    public static IReadOnlyList<string> QuantizeDynamic(Module model) =>
        Swap(model, m => m.GetType() == typeof(Linear), m => new DynamicQuantizedLinear((Linear)m));

    /// <summary>Every plain <see cref="Linear"/> and <see cref="Conv2d"/> gets observers (<c>prepare</c>); run calibration data through the model next.</summary>
    public static IReadOnlyList<string> Prepare(Module model, QConfig? config = null) =>
        Swap(model, m => m.GetType() == typeof(Linear) || m.GetType() == typeof(Conv2d),
            m => m is Conv2d c ? new ObservedConv2d(c, config ?? QConfig.MinMax) : new ObservedLinear((Linear)m, config ?? QConfig.MinMax));

    /// <summary>Every plain <see cref="Linear"/> and <see cref="Conv2d"/> fake-quantizes its input, weight and output (<c>prepare_qat</c>); train the model next.</summary>
    public static IReadOnlyList<string> PrepareQat(Module model, QConfig? config = null) =>
        Swap(model, m => m.GetType() == typeof(Linear) || m.GetType() == typeof(Conv2d),
            m => m is Conv2d c ? new QatConv2d(c, config ?? QConfig.Qat).TrainAs(m) : new QatLinear((Linear)m, config ?? QConfig.Qat).TrainAs(m));

    /// <summary>Observed and QAT layers become <see cref="QuantizedLinear"/>s and <see cref="QuantizedConv2d"/>s with the ranges they recorded (<c>convert</c>).</summary>
    public static IReadOnlyList<string> Convert(Module model) =>
        Swap(model, m => m is ObservedLinear or QatLinear or ObservedConv2d or QatConv2d, m => m switch
        {
            ObservedLinear o => o.Convert(),
            QatLinear q => q.Convert(),
            ObservedConv2d o => o.Convert(),
            _ => (Module)((QatConv2d)m).Convert(),
        });

    static IReadOnlyList<string> Swap(Module model, System.Func<Module, bool> match, System.Func<Module, Module> make)
    {
        var targets = model.NamedModules().Where(x => x.Name.Length > 0 && match(x.Module)).ToList();
        var inside = new List<string>();
        var done = new List<string>();
        foreach (var (path, m) in targets)
        {
            if (inside.Exists(p => path.StartsWith(p + ".", System.StringComparison.Ordinal))) continue;
            model.SetSubmodule(path, make(m));
            inside.Add(path);
            done.Add(path);
        }
        return done;
    }

    static T TrainAs<T>(this T module, Module like) where T : Module { module.Train(like.Training); return module; }
}
