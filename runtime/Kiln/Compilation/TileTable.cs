using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;
using Kiln.Kernels.Gemm;

namespace Kiln.Compilation;

/// <summary>
/// Measured GEMM block sizes of one compiled model, per problem (sizes, layouts, threads): problems not yet measured run
/// with the defaults and are queued; <see cref="TunePending"/> measures them and saves the table.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class TileTable : IGemmTileSource
{
    const int Version = 1;
    readonly Dictionary<GemmKey, GemmTiles> _tuned = new();
    readonly HashSet<GemmKey> _pending = new();
    readonly string _path;
    readonly string _machine;

    TileTable(string path)
    {
        _path = path;
        _machine = $"{RuntimeInformation.ProcessArchitecture}/{Environment.ProcessorCount} cpus/avx512={System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}";
    }

    /// <summary>The file the table is saved in.</summary>
    public string Path => _path;

    /// <summary>The measured problems and their block sizes.</summary>
    public IReadOnlyDictionary<GemmKey, GemmTiles> Entries { get { lock (_tuned) return new Dictionary<GemmKey, GemmTiles>(_tuned); } }

    /// <inheritdoc/>
    public GemmTiles Tiles(in GemmKey key)
    {
        lock (_tuned)
        {
            if (_tuned.TryGetValue(key, out var t)) return t;
            _pending.Add(key);
            return GemmTiles.For(key.M, key.N, key.K);
        }
    }

    /// <summary>Measures the problems seen since the last call (each candidate on scratch operands of its shape and layout), then saves.</summary>
    public void TunePending()
    {
        GemmKey[] work;
        lock (_tuned)
        {
            if (_pending.Count == 0) return;
            work = new GemmKey[_pending.Count];
            _pending.CopyTo(work);
            _pending.Clear();
        }
        foreach (var key in work)
        {
            var best = Measure(key);
            lock (_tuned) _tuned[key] = best;
        }
        Save();
    }

    // Coordinate descent from the defaults: depth, then width, then rows per block; the fastest of each kept.
    static GemmTiles Measure(GemmKey key)
    {
        var untuned = GemmTiles.For(key.M, key.N, key.K);
        if (key.Threads != Math.Max(1, Threads.Count)) return untuned;
        using var problem = new Scratch(key);
        var best = untuned;
        double bestTime = problem.Time(best);
        void Try(GemmTiles candidate)
        {
            if (!candidate.IsValid || candidate == best) return;
            double t = problem.Time(candidate);
            if (t < bestTime * 0.98) { best = candidate; bestTime = t; }   // a clear win, not noise
        }
        foreach (int kc in new[] { 128, 192, 384, 512 }) Try(best with { Kc = kc });
        foreach (int nc in new[] { 512, 1024, 2048 }) Try(best with { Nc = nc });
        if (key.Threads == 1) foreach (int mp in new[] { 8, 12, 32 }) Try(best with { McPanels = mp });
        else foreach (int pp in new[] { 4, 12, 16 }) Try(best with { ParallelPanels = pp });
        return best == untuned || Confirmed(problem, untuned, best) ? best : untuned;
    }

    // On a noisy machine one lucky timing can pick worse blocks: the winner must beat the defaults in each of several
    // alternating pairs, by 3 % at the median, or the defaults stay.
    static bool Confirmed(Scratch problem, GemmTiles untuned, GemmTiles candidate)
    {
        const int pairs = 5;
        var ratios = new double[pairs];
        int wins = 0;
        for (int i = 0; i < pairs; i++)
        {
            double d = problem.Time(untuned), c = problem.Time(candidate);
            ratios[i] = c / d;
            if (c < d) wins++;
        }
        Array.Sort(ratios);
        return wins >= pairs - 1 && ratios[pairs / 2] < 0.97;
    }

    /// <summary>Operands of one problem's shape and layout in native memory, timed with given block sizes.</summary>
    sealed unsafe class Scratch : IDisposable
    {
        readonly GemmKey _key;
        readonly float* _a, _b, _c;

        public Scratch(GemmKey key)
        {
            _key = key;
            _a = Alloc((long)key.M * key.K); _b = Alloc((long)key.K * key.N); _c = Alloc((long)key.M * key.N);
        }

        static float* Alloc(long count)
        {
            var p = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, count) * sizeof(float)), 64);
            var span = new Span<float>(p, (int)Math.Min(count, int.MaxValue));
            for (int i = 0; i < span.Length; i++) span[i] = (i % 7 - 3) * 0.125f;
            return p;
        }

        public double Time(GemmTiles tiles)
        {
            var previous = Sgemm.TileSource;
            Sgemm.TileSource = new Fixed(tiles);
            try
            {
                var k = _key;
                long rsa = k.TransposedA ? 1 : k.K, csa = k.TransposedA ? k.M : 1;
                long rsb = k.TransposedB ? 1 : k.N, csb = k.TransposedB ? k.K : 1;
                double flops = 2.0 * k.M * k.N * k.K;
                int reps = flops > 2e9 ? 2 : flops > 2e8 ? 3 : 5;
                Sgemm.Multiply(k.M, k.N, k.K, 1f, _a, rsa, csa, _b, rsb, csb, 0f, _c, k.N);
                double best = double.MaxValue;
                for (int r = 0; r < reps; r++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    Sgemm.Multiply(k.M, k.N, k.K, 1f, _a, rsa, csa, _b, rsb, csb, 0f, _c, k.N);
                    best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
                return best;
            }
            finally { Sgemm.TileSource = previous; }
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(_a); NativeMemory.AlignedFree(_b); NativeMemory.AlignedFree(_c);
        }
    }

    sealed class Fixed(GemmTiles tiles) : IGemmTileSource
    {
        public GemmTiles Tiles(in GemmKey key) => tiles;
    }

    sealed record Entry(int M, int N, int K, bool TransposedA, bool TransposedB, int Threads, int Kc, int Nc, int McPanels, int ParallelPanels);
    sealed record FileModel(int Version, string Machine, List<Entry> Entries);

    /// <summary>Writes the table (to a temporary file, then moved into place, so a reader never sees half of one).</summary>
    public void Save()
    {
        var entries = new List<Entry>();
        lock (_tuned)
            foreach (var (k, t) in _tuned) entries.Add(new Entry(k.M, k.N, k.K, k.TransposedA, k.TransposedB, k.Threads, t.Kc, t.Nc, t.McPanels, t.ParallelPanels));
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(_path)!);
            string tmp = _path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllText(tmp, JsonSerializer.Serialize(new FileModel(Version, _machine, entries), new JsonSerializerOptions { WriteIndented = true }));
            File.Move(tmp, _path, overwrite: true);
        }
        catch (IOException) { }                   // a cache that cannot be written costs a re-measure next time, nothing else
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// The table saved at <paramref name="path"/>, or an empty one when there is none, it is unreadable, or it was
    /// measured on another kind of machine (a cache: it is then measured again and overwritten).
    /// </summary>
    public static TileTable Load(string path)
    {
        var table = new TileTable(path);
        try
        {
            if (!File.Exists(path)) return table;
            var model = JsonSerializer.Deserialize<FileModel>(File.ReadAllText(path));
            if (model is null || model.Version != Version || model.Machine != table._machine || model.Entries is null) return table;
            foreach (var e in model.Entries)
            {
                var tiles = new GemmTiles(e.Kc, e.Nc, e.McPanels, e.ParallelPanels);
                if (tiles.IsValid && e.M > 0 && e.N > 0 && e.K > 0)
                    table._tuned[new GemmKey(e.M, e.N, e.K, e.TransposedA, e.TransposedB, e.Threads)] = tiles;
            }
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or NotSupportedException) { }
        return table;
    }
}
