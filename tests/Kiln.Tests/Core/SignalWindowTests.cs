using System;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>The window functions beyond the golden values (course.json's signal_windows): their defining relations and refusals.</summary>
public class SignalWindowTests
{
    [Fact]
    public void APeriodicWindowIsTheSymmetricOneOfOneMorePointWithoutItsLast()
    {
        foreach (var (periodic, symmetric) in new (Func<int, Tensor>, Func<int, Tensor>)[]
        {
            (n => Tensor.HannWindow(n), n => Tensor.HannWindow(n, periodic: false)),
            (n => Tensor.HammingWindow(n), n => Tensor.HammingWindow(n, periodic: false)),
            (n => Tensor.BlackmanWindow(n), n => Tensor.BlackmanWindow(n, periodic: false)),
            (n => Tensor.BartlettWindow(n), n => Tensor.BartlettWindow(n, periodic: false)),
            (n => Tensor.KaiserWindow(n, beta: 6), n => Tensor.KaiserWindow(n, periodic: false, beta: 6)),
        })
        {
            var p = periodic(10).ToArray<float>();
            var s = symmetric(11).ToArray<float>();
            Assert.Equal(s[..10], p);
            Assert.Equal(s, s[..].Reverse());                          // symmetric windows are palindromes
        }
        Assert.Equal(0, Tensor.HannWindow(0).Numel);
        Assert.Equal(DType.Float64, Tensor.BartlettWindow(4, dtype: DType.Float64).DType);
    }

    [Fact]
    public void BadArgumentsNameTheWindow()
    {
        Assert.Contains("hann_window: requires non-negative window_length, got window_length=-1", Assert.Throws<KilnException>(() => Tensor.HannWindow(-1)).Message);
        Assert.Contains("hamming_window: expects floating point dtypes, got: Int64", Assert.Throws<KilnException>(() => Tensor.HammingWindow(4, dtype: DType.Int64)).Message);
        Assert.Contains("kaiser_window: beta must be non-negative, got -1", Assert.Throws<KilnException>(() => Tensor.KaiserWindow(4, beta: -1)).Message);
    }
}

static class ArrayReverse
{
    public static T[] Reverse<T>(this T[] values)
    {
        var copy = (T[])values.Clone();
        Array.Reverse(copy);
        return copy;
    }
}
