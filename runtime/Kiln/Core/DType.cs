namespace Kiln;

/// <summary>Element types of a tensor, named as in PyTorch (<c>torch.float32</c> is <see cref="Float32"/>).</summary>
public enum DType : byte
{
    /// <summary>32-bit IEEE float, the default.</summary>
    Float32,
    /// <summary>64-bit IEEE float.</summary>
    Float64,
    /// <summary>16-bit IEEE float (<see cref="System.Half"/>).</summary>
    Float16,
    /// <summary>bfloat16: the upper 16 bits of a float32.</summary>
    BFloat16,
    /// <summary>64-bit signed integer; indices and <c>Arange</c> of integers use it.</summary>
    Int64,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>8-bit signed integer.</summary>
    Int8,
    /// <summary>8-bit unsigned integer.</summary>
    UInt8,
    /// <summary>Boolean stored as one byte (0 or 1).</summary>
    Bool,
}

/// <summary>Facts about each <see cref="DType"/> and PyTorch's type-promotion lattice.</summary>
public static class DTypes
{
    /// <summary>The default floating dtype (<c>torch.get_default_dtype()</c>).</summary>
    public static DType Default => DType.Float32;

    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType t) => t switch
    {
        DType.Float64 or DType.Int64 => 8,
        DType.Float32 or DType.Int32 => 4,
        DType.Float16 or DType.BFloat16 => 2,
        _ => 1,
    };

    /// <summary>True for Float16, BFloat16, Float32 and Float64.</summary>
    public static bool IsFloatingPoint(this DType t) => t <= DType.BFloat16;

    /// <summary>True for the integer types (not Bool).</summary>
    public static bool IsInteger(this DType t) => t is DType.Int64 or DType.Int32 or DType.Int8 or DType.UInt8;

    /// <summary>
    /// The lowest finite value of a floating dtype (<c>torch.finfo(dtype).min</c>): what Hugging Face fills masked attention
    /// scores with, so a row masked throughout stays finite. float.MinValue is not it for bfloat16 and float16, where it
    /// rounds to -inf.
    /// </summary>
    /// <exception cref="KilnException">For an integer or boolean dtype.</exception>
    public static double MinValue(this DType t) => t switch
    {
        DType.Float32 => float.MinValue,
        DType.Float64 => double.MinValue,
        DType.Float16 => (double)System.Half.MinValue,
        DType.BFloat16 => -3.3895313892515355e38,   // sign 1, exponent 254, mantissa all ones
        _ => throw new KilnException("finfo", $"finfo: {t.Name()} is not a floating dtype", KilnErrorKind.DType),
    };

    /// <summary>The largest finite value of a floating dtype (<c>torch.finfo(dtype).max</c>).</summary>
    /// <exception cref="KilnException">For an integer or boolean dtype.</exception>
    public static double MaxValue(this DType t) => -t.MinValue();

    /// <summary>The gap between 1 and the next larger value of a floating dtype (<c>torch.finfo(dtype).eps</c>).</summary>
    /// <exception cref="KilnException">For an integer or boolean dtype.</exception>
    public static double Eps(this DType t) => t switch
    {
        DType.Float32 => 1.1920928955078125e-07,
        DType.Float64 => 2.220446049250313e-16,
        DType.Float16 => 0.0009765625,
        DType.BFloat16 => 0.0078125,
        _ => throw new KilnException("finfo", $"finfo: {t.Name()} is not a floating dtype", KilnErrorKind.DType),
    };

    /// <summary>The smallest positive normal number of a floating dtype (<c>torch.finfo(dtype).tiny</c>).</summary>
    public static double Tiny(this DType t) => t switch
    {
        DType.Float32 or DType.BFloat16 => 1.1754943508222875e-38,
        DType.Float64 => 2.2250738585072014e-308,
        DType.Float16 => 6.103515625e-05,
        _ => throw new KilnException("finfo", $"finfo: {t.Name()} is not a floating dtype", KilnErrorKind.DType),
    };

    /// <summary>PyTorch's lowercase name, e.g. <c>float32</c>.</summary>
    public static string Name(this DType t) => t switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Float16 => "float16",
        DType.BFloat16 => "bfloat16",
        DType.Int64 => "int64",
        DType.Int32 => "int32",
        DType.Int8 => "int8",
        DType.UInt8 => "uint8",
        _ => "bool",
    };

    /// <summary>Parses PyTorch's name (<c>float32</c>, <c>torch.int64</c>, <c>float</c>, <c>long</c>, ...).</summary>
    public static DType Parse(string name) => name.Replace("torch.", "") switch
    {
        "float32" or "float" => DType.Float32,
        "float64" or "double" => DType.Float64,
        "float16" or "half" => DType.Float16,
        "bfloat16" => DType.BFloat16,
        "int64" or "long" => DType.Int64,
        "int32" or "int" => DType.Int32,
        "int8" => DType.Int8,
        "uint8" => DType.UInt8,
        "bool" => DType.Bool,
        _ => throw new KilnException(null, $"unknown dtype '{name}'", KilnErrorKind.DType),
    };

    internal static int Category(DType t) => t.IsFloatingPoint() ? 2 : t == DType.Bool ? 0 : 1;

    /// <summary>PyTorch's <c>torch.promote_types</c>.</summary>
    public static DType Promote(DType a, DType b)
    {
        if (a == b) return a;
        int ca = Category(a), cb = Category(b);
        if (ca != cb) return ca > cb ? a : b;
        if (ca == 2)
        {
            if (a == DType.Float64 || b == DType.Float64) return DType.Float64;
            if (a == DType.Float32 || b == DType.Float32) return DType.Float32;
            return DType.Float32; // Float16 with BFloat16
        }
        // Integers: Int64 > Int32 > Int8/UInt8. Int8 with UInt8 is Int16 in PyTorch; Kiln has no Int16 and widens to Int32.
        if (a == DType.Int64 || b == DType.Int64) return DType.Int64;
        if (a == DType.Int32 || b == DType.Int32) return DType.Int32;
        return DType.Int32;
    }
}
