using System;
using System.Collections.Generic;
using System.IO;
using Kiln.Kernels.Gemm;

namespace Kiln.Compilation;

/// <summary>
/// <c>MaxAutotune</c> for compiled models: the first call records the GEMM problems the model runs, measures block sizes
/// for each on scratch buffers when the call ends, and keeps the fastest in a table per model, saved on disk (one JSON
/// file per model under <see cref="CacheDirectory"/>) so a new process starts tuned. Other modes leave the kernels'
/// default blocking.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class Autotune
{
    static readonly Dictionary<string, TileTable> Tables = new();
    static string? _directory;

    /// <summary>
    /// Where tables are kept: <c>KILN_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/kiln</c>, else <c>~/.cache/kiln</c>, plus
    /// <c>autotune/</c>. Settable (tests, read-only homes).
    /// </summary>
    public static string CacheDirectory
    {
        get => _directory ??= Path.Combine(
            Environment.GetEnvironmentVariable("KILN_CACHE_DIR") is { Length: > 0 } dir ? dir
            : Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? Path.Combine(xdg, "kiln")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "kiln"), "autotune");
        set { lock (Tables) { _directory = value; Tables.Clear(); } }
    }

    /// <summary>
    /// Makes the current thread's GEMMs use <paramref name="model"/>'s tuned table while the returned scope lives (only in
    /// <see cref="CompileMode.MaxAutotune"/>); problems seen for the first time are measured when it ends.
    /// </summary>
    internal static Scope Enter(CompileMode mode, string model) => mode == CompileMode.MaxAutotune ? new Scope(Table(model)) : default;

    /// <summary>The table of <paramref name="model"/> (loaded from disk the first time).</summary>
    public static TileTable Table(string model)
    {
        lock (Tables)
        {
            if (!Tables.TryGetValue(model, out var table))
                Tables[model] = table = TileTable.Load(Path.Combine(CacheDirectory, Sanitize(model) + ".json"));
            return table;
        }
    }

    /// <summary>Forgets the tables held in memory (the next use reads them from disk again).</summary>
    public static void Reset() { lock (Tables) Tables.Clear(); }

    static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++) if (!char.IsLetterOrDigit(chars[i]) && chars[i] != '_' && chars[i] != '-') chars[i] = '_';
        return new string(chars);
    }

    /// <summary>The active tuning of one compiled call; disposing it restores the thread's previous table and measures new problems.</summary>
    public readonly struct Scope : IDisposable
    {
        readonly TileTable? _table;
        readonly IGemmTileSource? _previous;

        internal Scope(TileTable table)
        {
            _table = table;
            _previous = Sgemm.TileSource;
            Sgemm.TileSource = table;
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            if (_table is null) return;
            Sgemm.TileSource = _previous;
            _table.TunePending();
        }
    }
}
