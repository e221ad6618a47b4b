using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Kiln;
using ILGPU.Runtime.Cuda;
using Kiln.Gpu;
using Xunit;

namespace Kiln.Tests.Gpu;

/// <summary>
/// The build step's kernel bundle (<c>Kiln.kernels.json</c>, written after Kiln compiles and copied beside it): one
/// well-formed PTX entry per kernel for the chosen target, current fingerprints, stale and broken bundles detected.
/// </summary>
public class KernelBundleTests
{
    static string BundlePath => KernelBundle.PathFor(typeof(Tensor).Assembly.Location);

    [Fact]
    public void TheBuildWroteAPtxEntryForEveryKernel()
    {
        Assert.True(File.Exists(BundlePath), $"the build should have written {BundlePath}");
        var bundle = KernelBundle.Load(BundlePath);
        Assert.Equal(PtxCompiler.Salt, bundle.Salt);
        var kernels = KernelCatalog.Find(typeof(Tensor).Assembly);
        Assert.True(kernels.Count >= 50, $"expected Kiln's kernels, found {kernels.Count}");
        Assert.Equal(kernels.Select(k => k.Name), bundle.Kernels.Select(e => e.Name));
        foreach (var kernel in kernels)
        {
            var entry = bundle.Lookup(kernel, out var why);
            Assert.True(entry is not null, $"{kernel.Name}: {why}");
            AssertWellFormedPtx(kernel.Name, entry!.Ptx);
        }
    }

    /// <summary>PTX for sm_80, ISA 7.1, 64-bit addresses, exactly one kernel entry, balanced braces.</summary>
    static void AssertWellFormedPtx(string name, string ptx)
    {
        Assert.Matches(new Regex(@"^\s*\.version 7\.1\s*$", RegexOptions.Multiline), ptx);
        Assert.Matches(new Regex(@"^\s*\.target sm_80\b", RegexOptions.Multiline), ptx);
        Assert.Matches(new Regex(@"^\s*\.address_size 64\s*$", RegexOptions.Multiline), ptx);
        Assert.True(Regex.Matches(ptx, @"\.visible \.entry ").Count == 1, $"{name}: expected one .entry");
        Assert.Equal(ptx.Count(c => c == '{'), ptx.Count(c => c == '}'));
        Assert.Contains("ret;", ptx);
    }

    [Fact]
    public void TheTensorCoreKernelAssemblesToMmaSync()
    {
        // Inline PTX cannot run on the emulator: its PTX is what can be checked here (the GPU check compares its numbers).
        var bundle = KernelBundle.Load(BundlePath);
        var ptx = bundle.Kernels.Single(e => e.Name == "Kiln.Gpu.Kernels.TensorCoreKernels.Mma16").Ptx;
        Assert.Contains("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", ptx);
        Assert.Contains("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", ptx);
        // Accumulating in place: the C operand is the D registers.
        var line = ptx.Split('\n').First(l => l.Contains("mma.sync") && l.Contains("bf16"));
        var groups = System.Text.RegularExpressions.Regex.Matches(line, @"\{([^}]*)\}").Select(m => m.Groups[1].Value.Replace("\t", "").Trim()).ToArray();
        Assert.Equal(4, groups.Length);
        Assert.Equal(groups[0], groups[3]);
    }

    [Fact]
    public void AChangedKernelOrCompilerMakesItsEntryStale()
    {
        var bundle = KernelBundle.Load(BundlePath);
        var kernel = KernelCatalog.Find(typeof(Tensor).Assembly).First(k => k.Name.Contains("Sgemm"));
        var entry = bundle.Kernels.First(e => e.Name == kernel.Name);
        entry.Hash = (entry.Hash[0] == '0' ? "1" : "0") + entry.Hash[1..];
        Assert.Null(bundle.Lookup(kernel, out var why));
        Assert.Contains("stale", why);
        bundle.Salt = "ILGPU 0.0 SM_50 6.0";
        Assert.Null(bundle.Lookup(kernel, out why));
        Assert.Contains("ILGPU 0.0", why);
        bundle.Kernels.Clear();
        bundle.Salt = PtxCompiler.Salt;
        Assert.Null(bundle.Lookup(kernel, out why));
        Assert.Contains("no entry", why);
    }

    [Fact]
    public void FingerprintsFollowTheIlOfCalledHelpers()
    {
        var kernels = KernelCatalog.Find(typeof(Tensor).Assembly);
        var f32 = kernels.First(k => k.Name == "Kiln.Gpu.Kernels.ElementwiseKernels.Unary<Single,F32>");
        var f64 = kernels.First(k => k.Name == "Kiln.Gpu.Kernels.ElementwiseKernels.Unary<Double,F64>");
        string salt = PtxCompiler.Salt;
        Assert.Equal(KernelCatalog.Fingerprint(f32.Method, salt), KernelCatalog.Fingerprint(f32.Method, salt));
        Assert.NotEqual(KernelCatalog.Fingerprint(f32.Method, salt), KernelCatalog.Fingerprint(f64.Method, salt));
        Assert.NotEqual(KernelCatalog.Fingerprint(f32.Method, salt), KernelCatalog.Fingerprint(f32.Method, salt + " other target"));
    }

    [Fact]
    public void ABrokenBundleFileIsNamedWithItsPosition()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kiln-broken-{Guid.NewGuid():N}.kernels.json");
        File.WriteAllText(path, "{\"salt\": \"x\", \"kernels\": [ {\"name\": ");
        try
        {
            var e = Assert.Throws<KilnException>(() => KernelBundle.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("not a kernel bundle", e.Message);
            Assert.Contains("byte", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SavingIsAtomic()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kiln-bundle-{Guid.NewGuid():N}.kernels.json");
        try
        {
            var b = new KernelBundle { Salt = PtxCompiler.Salt };
            b.Kernels.Add(new BundleEntry { Name = "k", Hash = "h", Ptx = ".version 7.1" });
            b.Save(path);
            Assert.False(File.Exists(path + ".tmp"));
            var back = KernelBundle.Load(path);
            Assert.Equal("k", back.Kernels.Single().Name);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void BundledPtxBecomesAnIlgpuKernelWithoutCompiling()
    {
        // What the CUDA device does with a bundle entry, up to the driver call (which needs a GPU).
        var bundle = KernelBundle.Load(BundlePath);
        var kernel = KernelCatalog.Find(typeof(Tensor).Assembly).First(k => k.Name.Contains("RowKernels.Softmax<Single"));
        var entry = bundle.Lookup(kernel, out _)!;
        using var context = ILGPU.Context.Create(b => b.Cuda());
        var compiled = PtxCompiler.FromPtx(context, kernel, entry.Ptx, entry.SharedStatic, entry.SharedDynamic);
        Assert.Equal(entry.Ptx, ((ILGPU.Backends.PTX.PTXCompiledKernel)compiled).PTXAssembly);
        Assert.Same(kernel.Method, compiled.SourceMethod);
        Assert.Equal(2048, entry.SharedStatic);
    }
}
