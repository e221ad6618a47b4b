using System;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// float32 ↔ bfloat16 casts of contiguous runs (vectorised, sixteen at a time) and of strided views (element by element)
/// give exactly <see cref="BFloat16.FromSingle"/>'s bits: ties to even, NaN kept quiet, overflow to infinity, subnormals,
/// signed zero; widening back is exact.
/// </summary>
public class BFloat16ConversionTests
{
    static float[] Values(int n)
    {
        var g = new Random(3);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(g.NextDouble() * 2 - 1) * MathF.Pow(2, g.Next(-140, 128));
        uint[] special =
        [
            0x3F808000, // 1.00390625: halfway, even below -> rounds down
            0x3F818000, // halfway, odd below -> rounds up
            0x3F80FFFF, 0x7F7FFFFF /* largest float: to infinity */, 0x7FC12345 /* NaN with payload */, 0xFF800001 /* signalling NaN */,
            0x7F800000, 0xFF800000, 0x80000000, 0x00000001 /* smallest subnormal */, 0x007FFFFF, 0x80408000,
        ];
        for (int i = 0; i < special.Length && i < n; i++) v[i * 3 % n] = BitConverter.UInt32BitsToSingle(special[i]);
        return v;
    }

    [Theory]
    [InlineData(12)]     // shorter than one vector step
    [InlineData(37)]     // two steps and a tail
    [InlineData(4099)]
    public void ContiguousCastsRoundAsFromSingle(int n)
    {
        var v = Values(n);
        using var t = Tensor.From(v, n);
        using var b = t.To(DType.BFloat16);
        var bits = b.ToArray<BFloat16>();
        for (int i = 0; i < n; i++)
            Assert.True(BFloat16.FromSingle(v[i]).Bits == bits[i].Bits, $"[{i}] {v[i]:R} (0x{BitConverter.SingleToUInt32Bits(v[i]):X8}): 0x{bits[i].Bits:X4}, want 0x{BFloat16.FromSingle(v[i]).Bits:X4}");
        var back = b.To(DType.Float32).ToArray<float>();
        for (int i = 0; i < n; i++)
            Assert.Equal(BitConverter.SingleToUInt32Bits(bits[i].ToSingle()), BitConverter.SingleToUInt32Bits(back[i]));
    }

    [Fact]
    public void StridedViewsCastAsContiguousRuns()
    {
        var v = Values(24 * 17);
        using var t = Tensor.From(v, 24, 17);
        using var tt = t.T;                           // strided: the element-by-element path
        using var viaView = tt.To(DType.BFloat16);
        using var viaCopy = tt.Contiguous().To(DType.BFloat16);
        Assert.Equal(Array.ConvertAll(viaCopy.ToArray<BFloat16>(), x => x.Bits), Array.ConvertAll(viaView.ToArray<BFloat16>(), x => x.Bits));
        using var wideView = viaView.T.To(DType.Float32);
        using var wideCopy = viaView.T.Contiguous().To(DType.Float32);
        Assert.Equal(wideCopy.ToArray<float>(), wideView.ToArray<float>());
    }
}
