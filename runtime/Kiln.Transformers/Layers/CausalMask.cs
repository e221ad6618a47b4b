namespace Kiln.Transformers;

/// <summary>The decoder models' masks and positions, as Hugging Face builds them for a forward after cached positions.</summary>
internal static class CausalMask
{
    /// <summary>
    /// Causal and key-padding mask as one additive [batch, 1, n, past + n] tensor (on <paramref name="device"/>) for n queries after
    /// <paramref name="past"/> cached positions: 0 where a query may attend, the dtype's lowest finite value where not (as
    /// Hugging Face builds it, so a fully padded row stays finite; float.MinValue is -inf in bfloat16 and float16). <paramref name="keep"/> [batch·(past + n)]: 0 marks padding (null: none).
    /// </summary>
    public static Tensor Additive(long[]? keep, int b, int n, int past, DType dtype, Device device, int? window = null)
    {
        int reach = window ?? int.MaxValue;
        int total = past + n;
        float masked = Lowest(dtype);
        var add = new float[b * n * total];
        for (int r = 0; r < b; r++)
            for (int q = 0; q < n; q++)
                for (int k = 0; k < total; k++)
                    if (k > past + q || past + q - k >= reach || (keep is not null && keep[r * total + k] == 0)) add[(r * n + q) * total + k] = masked;
        var mask = Tensor.From(add, b, 1, n, total).To(device);
        return dtype == DType.Float32 ? mask : mask.To(dtype);
    }

    /// <summary>
    /// Position ids of n new tokens after <paramref name="past"/> cached ones, as Hugging Face's generate derives them from
    /// the mask: the count of real tokens so far - 1, padding at 1, so a left-padded row starts at 0.
    /// <paramref name="padded"/>: whether any position is padding.
    /// </summary>
    public static long[] Positions(long[]? keep, int b, int n, int past, out bool padded)
    {
        int total = past + n;
        var positions = new long[b * n];
        padded = false;
        for (int r = 0; r < b; r++)
        {
            long seen = 0;
            for (int k = 0; k < total; k++)
            {
                bool real = keep is null || keep[r * total + k] != 0;
                padded |= !real;
                if (real) seen++;
                if (k >= past) positions[r * n + k - past] = real ? seen - 1 : 1;
            }
        }
        return positions;
    }

    /// <summary>
    /// The value masked scores get in <paramref name="dtype"/>: its lowest finite value, held by a float32 array that is
    /// converted to it (float64's lowest is past float32's range: float32's lowest masks as well there).
    /// </summary>
    public static float Lowest(DType dtype) => dtype == DType.Float64 ? float.MinValue : (float)dtype.MinValue();
}
