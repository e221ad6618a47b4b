namespace Kiln.Quantization;

/// <summary>bitsandbytes' 4-bit data types (<c>bnb_4bit_quant_type</c>).</summary>
public enum QuantType
{
    /// <summary>4-bit NormalFloat: 16 quantiles of a normal distribution, the QLoRA paper's type (<c>"nf4"</c>).</summary>
    Nf4,
    /// <summary>4-bit float, e2m1 without infinities (<c>"fp4"</c>).</summary>
    Fp4,
}
