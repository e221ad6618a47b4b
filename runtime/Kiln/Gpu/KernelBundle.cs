using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kiln.Gpu;

/// <summary>One precompiled kernel in a bundle.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class BundleEntry
{
    /// <summary>The kernel's <see cref="KernelCatalog.NameOf"/>.</summary>
    public string Name { get; set; } = "";
    /// <summary>The <see cref="KernelCatalog.Fingerprint"/> the PTX was built from.</summary>
    public string Hash { get; set; } = "";
    /// <summary>Static shared memory in bytes.</summary>
    public int SharedStatic { get; set; }
    /// <summary>Whether the kernel takes dynamic shared memory.</summary>
    public bool SharedDynamic { get; set; }
    /// <summary>The PTX text.</summary>
    public string Ptx { get; set; } = "";
}

/// <summary>
/// The kernel bundle written beside an assembly by the build step (<c>&lt;assembly&gt;.kernels.json</c>): PTX for every
/// kernel, keyed by name and fingerprinted by IL. Read once per assembly at run time.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class KernelBundle
{
    /// <summary>File name suffix after the assembly's file name without extension.</summary>
    public const string Suffix = ".kernels.json";

    /// <summary>The compiler and target the PTX was made with (<see cref="PtxCompiler.Salt"/>).</summary>
    public string Salt { get; set; } = "";
    /// <summary>The kernels.</summary>
    public List<BundleEntry> Kernels { get; set; } = new();

    /// <summary>The bundle path of an assembly file.</summary>
    public static string PathFor(string assemblyPath) =>
        Path.Combine(Path.GetDirectoryName(assemblyPath) ?? ".", Path.GetFileNameWithoutExtension(assemblyPath) + Suffix);

    static readonly JsonSerializerOptions Options = new() { WriteIndented = false, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Compiles every kernel of <paramref name="assembly"/> and returns the bundle.</summary>
    public static KernelBundle Build(Assembly assembly, Action<string>? log = null)
    {
        var bundle = new KernelBundle { Salt = PtxCompiler.Salt };
        var kernels = KernelCatalog.Find(assembly);
        if (kernels.Count == 0) return bundle;
        using var compiler = new PtxCompiler();
        foreach (var k in kernels)
        {
            var r = compiler.Compile(k);
            bundle.Kernels.Add(new BundleEntry { Name = k.Name, Hash = KernelCatalog.Fingerprint(k.Method, bundle.Salt), SharedStatic = r.SharedStaticBytes, SharedDynamic = r.SharedDynamic, Ptx = r.Ptx });
            log?.Invoke($"{k.Name}: {r.Ptx.Length} chars of PTX");
        }
        return bundle;
    }

    /// <summary>Writes the bundle atomically (a temporary file renamed over the target: never half a file).</summary>
    public void Save(string path)
    {
        string tmp = path + ".tmp";
        using (var f = File.Create(tmp)) JsonSerializer.Serialize(f, this, Options);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads a bundle; a clear error naming the file when it is not one.</summary>
    public static KernelBundle Load(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            return JsonSerializer.Deserialize<KernelBundle>(f, Options) ?? throw new KilnException("kernel_bundle", $"kernel_bundle: {path} is empty");
        }
        catch (JsonException e)
        {
            throw new KilnException("kernel_bundle", $"kernel_bundle: {path} is not a kernel bundle (at byte {e.BytePositionInLine} of line {e.LineNumber}): {e.Message}");
        }
    }

    /// <summary>The entry for <paramref name="kernel"/> if present and built from the same IL and compiler, else why not.</summary>
    public BundleEntry? Lookup(KernelEntry kernel, out string? whyNot)
    {
        whyNot = null;
        if (Salt != PtxCompiler.Salt) { whyNot = $"the bundle was built by {Salt}, this is {PtxCompiler.Salt}"; return null; }
        foreach (var e in Kernels)
        {
            if (e.Name != kernel.Name) continue;
            if (e.Hash != KernelCatalog.Fingerprint(kernel.Method, Salt)) { whyNot = "its IL changed since the bundle was built (stale entry)"; return null; }
            return e;
        }
        whyNot = "the bundle has no entry for it";
        return null;
    }
}
