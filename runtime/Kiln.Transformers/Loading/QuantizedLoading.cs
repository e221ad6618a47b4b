using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.IO;
using Kiln.NN;
using Kiln.Quantization;

namespace Kiln.Transformers;

/// <summary>
/// Loading into a model whose linear layers are quantized (transformers' bitsandbytes integration): a checkpoint that
/// is already quantized (config.json's <c>quantization_config</c>, bitsandbytes' keys beside each weight) is read as it
/// is; a float32/bfloat16 checkpoint is quantized on load. Tensors are read one at a time from the memory-mapped files and
/// each linear weight is quantized as it arrives, so the float weights are never all in memory together.
/// </summary>
internal static class QuantizedLoading
{
    public static void Load(Module model, string directory, BitsAndBytesConfig config, bool preQuantized)
    {
        config.Validate();
        var targets = model.NamedModules().Where(x => x.Module.GetType() == typeof(Linear) && x.Name.Length > 0 && !config.Skips(x.Name))
            .ToDictionary(x => x.Name + ".weight", x => (x.Name, Layer: (Linear)x.Module));
        var state = model.StateDict();
        var expected = new HashSet<string>(state.Keys);
        var seen = new HashSet<string>();
        var unexpected = new List<string>();
        var problems = new List<string>();
        foreach (var file in PretrainedWeights.WeightFiles(directory))
        {
            using var f = new SafeTensorsFile(file);
            var names = new HashSet<string>(f.Names);
            foreach (var name in f.Names)
            {
                if (targets.TryGetValue(name, out var target))
                {
                    seen.Add(name);
                    var (path, layer) = target;
                    Linear q;
                    if (preQuantized)
                    {
                        var parts = new Dictionary<string, Tensor>();
                        foreach (var n in names)
                            if (n == name || n.StartsWith(name + ".", StringComparison.Ordinal) || n == path + ".SCB" || n == path + ".weight_format") parts[n] = f.Get(n);
                        q = config.LoadIn4Bit
                            ? new Linear4bit(layer.InFeatures, layer.OutFeatures, Quantized4Bit.FromStateDict(parts, name), layer.Bias) { ComputeDType = config.Bnb4BitComputeDType }
                            : new Linear8bitLt(layer.InFeatures, layer.OutFeatures, QuantizedInt8.FromStateDict(parts, name), layer.Bias);
                    }
                    else
                    {
                        using var w = f.Get(name);
                        if (!w.Shape.ToArray().SequenceEqual(new[] { layer.OutFeatures, layer.InFeatures }))
                        {
                            problems.Add($"{name}: shape [{string.Join(", ", w.Shape.ToArray())}] in the file, [{layer.OutFeatures}, {layer.InFeatures}] in the model");
                            continue;
                        }
                        q = config.LoadIn4Bit
                            ? new Linear4bit(layer.InFeatures, layer.OutFeatures, Quantized4Bit.Quantize(w, config.Bnb4BitQuantType, config.Blocksize, config.Bnb4BitUseDoubleQuant), layer.Bias) { ComputeDType = config.Bnb4BitComputeDType }
                            : new Linear8bitLt(layer.InFeatures, layer.OutFeatures, QuantizedInt8.Quantize(w), layer.Bias);
                    }
                    model.SetSubmodule(path, q);
                    continue;
                }
                if (IsQuantizationPart(name, targets)) continue;
                if (!state.TryGetValue(name, out var dst)) { unexpected.Add(name); continue; }
                seen.Add(name);
                using var src = f.Get(name);
                if (!src.Shape.ToArray().SequenceEqual(dst.Shape.ToArray()))
                    problems.Add($"{name}: shape [{string.Join(", ", src.Shape.ToArray())}] in the file, [{string.Join(", ", dst.Shape.ToArray())}] in the model");
                else using (Autograd.NoGrad()) dst.Copy_(src);
            }
        }
        var missing = expected.Where(k => !seen.Contains(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || problems.Count > 0)
            throw new KilnException("from_pretrained", $"from_pretrained: {directory}: the weights do not fit {model.GetType().Name}" +
                (missing.Count > 0 ? $"; missing keys: {string.Join(", ", missing)}" : "") +
                (unexpected.Count > 0 ? $"; unexpected keys: {string.Join(", ", unexpected)}" : "") +
                (problems.Count > 0 ? "; " + string.Join("; ", problems) : ""));
    }

    static bool IsQuantizationPart(string name, Dictionary<string, (string Name, Linear Layer)> targets)
    {
        int at = name.IndexOf(".weight.", StringComparison.Ordinal);
        if (at > 0 && targets.ContainsKey(name[..(at + ".weight".Length)])) return true;
        foreach (var suffix in (string[])[".SCB", ".weight_format"])
            if (name.EndsWith(suffix, StringComparison.Ordinal) && targets.ContainsKey(name[..^suffix.Length] + ".weight")) return true;
        return false;
    }
}
