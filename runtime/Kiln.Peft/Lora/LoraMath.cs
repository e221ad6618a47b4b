using System;
using Kiln.NN;

namespace Kiln.Peft;

/// <summary>What every LoRA layer does the same way: validate a new adapter, initialise its matrices, merge and unmerge.</summary>
internal static class LoraMath
{
    internal static void CheckRank(string layer, string name, int r)
    {
        if (r <= 0) throw new KilnException("LoRA", $"LoRA {layer}: adapter '{name}' needs a positive rank, got r={r}");
    }

    /// <summary>PEFT's <c>reset_lora_parameters</c> for a down (A) / up (B) pair of a linear or convolutional layer.</summary>
    internal static void InitLinearPair(Tensor a, Tensor b, int r, LoraInit init)
    {
        using var _ = Autograd.NoGrad();
        switch (init)
        {
            case LoraInit.Default: Init.KaimingUniform_(a, Math.Sqrt(5)); Init.Zeros_(b); break;
            case LoraInit.Gaussian: Init.Normal_(a, 0, 1.0 / r); Init.Zeros_(b); break;
            default: Init.KaimingUniform_(a, Math.Sqrt(5)); Init.KaimingUniform_(b, Math.Sqrt(5)); break;
        }
    }

    /// <summary>Folds <paramref name="names"/> (default: the active ones) into the base weight.</summary>
    internal static void Merge(ILoraLayer layer, System.Collections.Generic.IEnumerable<string>? names = null)
    {
        using var _ = Autograd.NoGrad();
        foreach (var n in names ?? layer.Lora.Active)
        {
            if (!layer.Lora.Contains(n) || layer.Lora.Merged.Contains(n)) continue;
            AddInto(layer, layer.DeltaWeight(n), 1);
            layer.Lora.Merged.Add(n);
        }
    }

    /// <summary>Takes every merged adapter back out of the base weight, last merged first.</summary>
    internal static void Unmerge(ILoraLayer layer)
    {
        using var _ = Autograd.NoGrad();
        for (int i = layer.Lora.Merged.Count - 1; i >= 0; i--)
            AddInto(layer, layer.DeltaWeight(layer.Lora.Merged[i]), -1);
        layer.Lora.Merged.Clear();
    }

    static void AddInto(ILoraLayer layer, Tensor delta, double sign)
    {
        // A quantized base is dequantized, summed and quantized again (lossy, as in PEFT).
        switch (layer.BaseLayer)
        {
            case Kiln.Quantization.Linear4bit q4: q4.AddToWeight(sign == 1 ? delta : delta.Neg()); return;
            case Kiln.Quantization.Linear8bitLt q8: q8.AddToWeight(sign == 1 ? delta : delta.Neg()); return;
        }
        var weight = layer.BaseWeight;
        // Half-precision weights: the sum is formed in float32 and rounded once.
        if (weight.DType == DType.Float32) weight.Add_(delta, sign);
        else weight.Copy_(weight.To(DType.Float32).Add(delta, sign).To(weight.DType));
    }
}
