using System;
using System.IO;
using System.Linq;
using Kiln.Compilation;
using Kiln.Kernels.Gemm;
using Xunit;

namespace Kiln.Tests.Compiler;

/// <summary>MaxAutotune's tile tables: every block size gives the same products, tables are measured, saved, reloaded and survive bad files.</summary>
[Collection("Autotune cache")]
public class AutotuneTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-autotune-" + Guid.NewGuid().ToString("N"));
    readonly string _saved = Autotune.CacheDirectory;

    public AutotuneTests() { Autotune.CacheDirectory = _dir; }

    public void Dispose()
    {
        Autotune.CacheDirectory = _saved;
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    sealed class Fixed(GemmTiles tiles) : IGemmTileSource
    {
        public GemmTiles Tiles(in GemmKey key) => tiles;
    }

    [Theory]
    [InlineData(70, 300, 530, false, false)]
    [InlineData(129, 65, 700, true, false)]
    [InlineData(33, 1100, 90, false, true)]
    public void EveryBlockingComputesTheSameProduct(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var a = Tensor.Randn(transposeA ? new[] { k, m } : new[] { m, k }, DType.Float32, new Generator(1));
        var b = Tensor.Randn(transposeB ? new[] { n, k } : new[] { k, n }, DType.Float32, new Generator(2));
        Tensor A = transposeA ? a.T : a, B = transposeB ? b.T : b;
        var reference = A.To(DType.Float64).Matmul(B.To(DType.Float64)).ToArray<double>();
        foreach (var tiles in new[] { GemmTiles.Default, new GemmTiles(16, 64, 1, 1), new GemmTiles(128, 512, 8, 4), new GemmTiles(512, 2048, 32, 16) })
        {
            Sgemm.TileSource = new Fixed(tiles);
            try
            {
                var c = A.Matmul(B).ToArray<float>();
                for (int i = 0; i < c.Length; i++)
                    Assert.True(Math.Abs(c[i] - reference[i]) <= 1e-4 * Math.Max(1, Math.Abs(reference[i])), $"{tiles} [{i}]: {c[i]} vs {reference[i]}");
            }
            finally { Sgemm.TileSource = null; }
        }
    }

    [Fact]
    public void TheFirstCallMeasuresEachProblemAndANewTableReadsThemBack()
    {
        var a = Tensor.Randn([96, 200], DType.Float32, new Generator(3));
        var b = Tensor.Randn([200, 160], DType.Float32, new Generator(4));
        using (Autotune.Enter(CompileMode.MaxAutotune, "Probe.Model"))
            a.Matmul(b);
        var table = Autotune.Table("Probe.Model");
        var key = new GemmKey(96, 160, 200, false, false, Math.Max(1, Threads.Count));
        Assert.True(table.Entries.ContainsKey(key));
        Assert.True(table.Entries[key].IsValid);
        Assert.True(File.Exists(table.Path));
        Assert.Equal(Path.Combine(_dir, "Probe_Model.json"), table.Path);

        Autotune.Reset();
        var reloaded = Autotune.Table("Probe.Model");
        Assert.NotSame(table, reloaded);
        Assert.Equal(table.Entries[key], reloaded.Entries[key]);
        Assert.Equal(table.Entries[key], reloaded.Tiles(key));
    }

    [Fact]
    public void OtherModesLeaveTheDefaultBlocking()
    {
        using (Autotune.Enter(CompileMode.Default, "Probe.Default"))
            Assert.Null(Sgemm.TileSource);
        using (Autotune.Enter(CompileMode.ReduceOverhead, "Probe.Default"))
            Assert.Null(Sgemm.TileSource);
        Assert.False(File.Exists(Path.Combine(_dir, "Probe_Default.json")));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"Version\": 1, \"Machine\": \"another machine\", \"Entries\": [{\"M\":1,\"N\":1,\"K\":1,\"TransposedA\":false,\"TransposedB\":false,\"Threads\":1,\"Kc\":256,\"Nc\":1024,\"McPanels\":20,\"ParallelPanels\":8}]}")]
    [InlineData("")]
    public void AnUnreadableOrForeignTableIsMeasuredAgain(string content)
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "Probe_Bad.json"), content);
        var table = Autotune.Table("Probe.Bad");
        Assert.Empty(table.Entries);
        var a = Tensor.Randn([20, 30], DType.Float32, new Generator(5));
        using (Autotune.Enter(CompileMode.MaxAutotune, "Probe.Bad")) a.Matmul(a.T);
        Assert.Single(table.Entries);
        Autotune.Reset();
        Assert.Single(Autotune.Table("Probe.Bad").Entries);
    }

    [Fact]
    public void OutOfRangeTilesFromAFileAreDropped()
    {
        Directory.CreateDirectory(_dir);
        var first = Autotune.Table("Probe.Range");
        var a = Tensor.Randn([20, 30], DType.Float32, new Generator(5));
        using (Autotune.Enter(CompileMode.MaxAutotune, "Probe.Range")) a.Matmul(a.T);
        string text = File.ReadAllText(first.Path).Replace("\"Kc\": ", "\"Kc\": 9999").Replace("9999" + first.Entries.Values.Single().Kc, "9999");
        File.WriteAllText(first.Path, text);
        Autotune.Reset();
        Assert.Empty(Autotune.Table("Probe.Range").Entries);
    }
}
