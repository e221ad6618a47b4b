using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.NN;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// Edge cases checked against PyTorch (tests/golden/make_hardening_golden.py): p=0 and -inf norms, abs of the most
/// negative integers, arange at the extremes, and the inputs PyTorch refuses, which Kiln must refuse with its words.
/// </summary>
public class EdgeCaseGoldenTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "hardening.json"))).RootElement;
    static JsonElement V(string key) => Root.GetProperty("values").GetProperty(key);
    static double[] Doubles(string key) => V(key).EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
    static long[] Longs(string key) => V(key).EnumerateArray().Select(e => e.GetInt64()).ToArray();

    static Tensor Input()
    {
        var spec = V("input");
        var data = spec.GetProperty("data").EnumerateArray().Select(e => (float)GoldenData.ReadDouble(e)).ToArray();
        return Tensor.From(data, spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
    }

    [Fact]
    public void NormOfOrderZeroCountsNonZerosAndMinusInfinityTakesTheSmallest()
    {
        using var x = Input();
        Assert.Equal(V("norm_p0_all").GetDouble(), x.Norm(0).Item<float>());
        Assert.Equal(Doubles("norm_p0_dim1"), x.Norm(0, [1]).ToArray<float>().Select(v => (double)v));
        Assert.Equal(Doubles("norm_pneginf_dim1"), x.Norm(double.NegativeInfinity, [1]).ToArray<float>().Select(v => (double)v));
        Assert.Equal(Doubles("norm_pinf_dim0"), x.Norm(double.PositiveInfinity, [0]).ToArray<float>().Select(v => (double)v));
        using var xg = x.Clone().RequiresGrad_();
        xg.Norm(0).Backward();
        Assert.Equal(Doubles("norm_p0_grad"), xg.Grad!.ToArray<float>().Select(v => (double)v));
    }

    [Fact]
    public void AbsOfTheMostNegativeIntegerWrapsLikePyTorch()
    {
        using var a = Tensor.From(new long[] { long.MinValue, -5, 7 }, 3);
        Assert.Equal(Longs("abs_int64_min"), a.Abs().ToArray<long>());
        using var b = Tensor.From(new sbyte[] { -128, -5, 7 }, 3);
        Assert.Equal(Longs("abs_int8_min"), b.Abs().ToArray<sbyte>().Select(v => (long)v));
    }

    [Fact]
    public void ArangeAtTheExtremes()
    {
        Assert.Equal(Longs("arange_int_extremes"), Tensor.Arange(1L << 62, (1L << 62) + 10, 3).ToArray<long>());
        Assert.Equal(Longs("arange_descending"), Tensor.Arange(5, -6, -4).ToArray<long>());
        // The full int64 range: 2^64 elements, refused without wrapping around to a small size.
        var e = Assert.Throws<KilnException>(() => Tensor.Arange(long.MinValue, long.MaxValue));
        Assert.Contains("overflow", e.Message);
        Assert.Throws<KilnException>(() => Tensor.Arange(0.0, 1e12, 1e-3));
    }

    public static TheoryData<string> ErrorCases() => new(Root.GetProperty("errors").EnumerateObject().Select(p => p.Name));

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void RefusesWhatPyTorchRefusesInItsWords(string name)
    {
        string expected = Root.GetProperty("errors").GetProperty(name).GetString()!.TrimEnd('.');
        Action run = name switch
        {
            "gather_negative" => () => Tensor.Arange(0.0, 6.0, 1.0).Reshape(2, 3).Gather(1, Tensor.From(new long[] { 0, -1, 1, 2 }, 2, 2)),
            "scatter_negative" => () => Tensor.Zeros(2, 3).Scatter(1, Tensor.From(new long[] { 0, -1 }, 2, 1), 1.0),
            "embedding_negative" => () => F.Embedding(Tensor.From(new long[] { 0, -1 }, 2), Tensor.Randn(4, 3)),
            "embedding_too_large" => () => F.Embedding(Tensor.From(new long[] { 4 }, 1), Tensor.Randn(4, 3)),
            "arange_nan_end" => () => Tensor.Arange(0.0, double.NaN, 1.0),
            "arange_inf_end" => () => Tensor.Arange(0.0, double.PositiveInfinity, 1.0),
            "arange_wrong_sign" => () => Tensor.Arange(0, 10, -1),
            "arange_zero_step" => () => Tensor.Arange(0, 10, 0),
            "narrow_past_end" => () => Tensor.Arange(16).Narrow(0, 10, 7),
            "zeros_overflow" => () => Tensor.Zeros(65536, 65536, 65536, 65536),
            _ => throw new InvalidOperationException($"no Kiln call for golden error case '{name}'"),
        };
        var e = Assert.Throws<KilnException>(run);
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
