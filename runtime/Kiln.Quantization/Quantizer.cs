using System.Collections.Generic;
using System.Linq;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>Swaps a model's linear layers for quantized ones in place (what transformers does when it loads with a <see cref="BitsAndBytesConfig"/>).</summary>
public static class Quantizer
{
    /// <summary>
    /// Replaces every <see cref="Linear"/> of <paramref name="model"/> outside <see cref="BitsAndBytesConfig.SkipModules"/>
    /// with a <see cref="Linear4bit"/> or <see cref="Linear8bitLt"/> of its weight, one layer at a time (each layer's
    /// float weight can be freed as soon as it is quantized). Returns the paths replaced.
    /// </summary>
    public static IReadOnlyList<string> Quantize(Module model, BitsAndBytesConfig config)
    {
        config.Validate();
        var targets = model.NamedModules().Where(x => x.Module.GetType() == typeof(Linear) && !config.Skips(x.Name) && x.Name.Length > 0).ToList();
        foreach (var (path, m) in targets) model.SetSubmodule(path, Convert((Linear)m, config));
        return targets.Select(t => t.Name).ToList();
    }

    /// <summary>The quantized layer for <paramref name="layer"/> under <paramref name="config"/>.</summary>
    public static Linear Convert(Linear layer, BitsAndBytesConfig config)
    {
        Linear q = config.LoadIn4Bit
            ? new Linear4bit(layer, config.Bnb4BitQuantType, config.Blocksize, config.Bnb4BitUseDoubleQuant) { ComputeDType = config.Bnb4BitComputeDType }
            : new Linear8bitLt(layer);
        q.Train(layer.Training);
        return q;
    }

    /// <summary>Bytes of a model's parameters and buffers (quantized codes and statistics included), each tensor once.</summary>
    public static long ParameterBytes(Module model)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        long bytes = 0;
        foreach (var t in model.Parameters().Concat(model.Buffers()))
            if (seen.Add(t)) bytes += t.Numel * t.DType.SizeOf();
        return bytes;
    }
}
