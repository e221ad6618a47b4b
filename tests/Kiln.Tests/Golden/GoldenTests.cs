using System.Linq;
using Kiln;
using Xunit;

namespace Kiln.Tests.Golden;

/// <summary>Every case PyTorch recorded in tests/golden/data/tensor_ops.json, run through Kiln.</summary>
public class GoldenTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in GoldenData.CaseNames()) data.Add((string)c[0]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = GoldenData.Case(name);
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(GoldenData.Build).ToArray();
        var op = c.GetProperty("op").GetString()!;
        Assert.True(GoldenOps.Table.TryGetValue(op, out var fn), $"no Kiln mapping for golden op '{op}'");
        var outputs = fn(inputs, c.GetProperty("args"));
        var expected = c.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(expected.Length, outputs.Length);
        for (int i = 0; i < expected.Length; i++)
            GoldenData.AssertClose(expected[i], outputs[i], c.GetProperty("tol").GetString()!, $"{name} output {i}");
    }

    [Fact]
    public void HasAtLeast200Cases() => Assert.True(GoldenData.CaseNames().Count() >= 200);

    public static TheoryData<int> PrintingCases()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < GoldenData.Root.GetProperty("printing").GetArrayLength(); i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(PrintingCases))]
    public void PrintsLikePyTorch(int index)
    {
        var c = GoldenData.Root.GetProperty("printing")[index];
        var spec = c.GetProperty("input");
        var t = GoldenData.Build(spec);
        Assert.Equal(c.GetProperty("text").GetString(), t.ToString());
    }
}
