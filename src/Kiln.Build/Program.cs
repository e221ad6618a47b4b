using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace Kiln.Build;

/// <summary>
/// <c>Kiln.Build &lt;assembly&gt; &lt;bundle&gt; &lt;references file&gt;</c>: compiles every <c>[GpuKernel]</c> of the assembly
/// to PTX (no GPU needed) and writes the kernel bundle. An assembly without kernels gets an empty placeholder file.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: Kiln.Build <assembly.dll> <output.kernels.json> <references.txt>");
            return 2;
        }
        string target = Path.GetFullPath(args[0]), output = Path.GetFullPath(args[1]);
        var references = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in File.ReadAllLines(args[2]))
        {
            var path = line.Trim();
            if (path.Length > 0 && File.Exists(path)) references[Path.GetFileNameWithoutExtension(path)] = path;
        }
        // Most projects have no kernels: say so from the metadata alone, without loading Kiln and ILGPU.
        if (!DeclaresGpuKernels(target))
        {
            File.WriteAllText(output, "");
            return 0;
        }
        var context = new ReferenceContext(target, references);
        var assembly = context.LoadFromAssemblyPath(target);
        var kiln = assembly.GetName().Name == "Kiln" ? assembly : context.LoadFromAssemblyName(new AssemblyName("Kiln"));
        var bundleType = kiln.GetType("Kiln.Gpu.KernelBundle", throwOnError: true)!;
        var build = bundleType.GetMethod("Build", BindingFlags.Public | BindingFlags.Static)!;
        var started = System.Diagnostics.Stopwatch.StartNew();
        object bundle;
        try
        {
            bundle = build.Invoke(null, new object?[] { assembly, null })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            Console.Error.WriteLine($"{target}: error KILN0201: compiling the GPU kernels to PTX failed: {e.InnerException}");
            return 1;
        }
        var kernels = (System.Collections.ICollection)bundleType.GetProperty("Kernels")!.GetValue(bundle)!;
        if (kernels.Count == 0)
        {
            File.WriteAllText(output, ""); // an empty placeholder: nothing to bundle (and nothing stale left behind)
            return 0;
        }
        bundleType.GetMethod("Save")!.Invoke(bundle, new object[] { output });
        Console.WriteLine($"Kiln.Build: {kernels.Count} GPU kernels of {Path.GetFileName(target)} compiled to PTX in {started.ElapsedMilliseconds} ms -> {output}");
        return 0;
    }

    /// <summary>Whether any method of the assembly carries an attribute named GpuKernelAttribute (read from its metadata).</summary>
    static bool DeclaresGpuKernels(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        var md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        foreach (var handle in md.CustomAttributes)
        {
            var attribute = md.GetCustomAttribute(handle);
            if (attribute.Parent.Kind != System.Reflection.Metadata.HandleKind.MethodDefinition) continue;
            var ctor = attribute.Constructor;
            System.Reflection.Metadata.StringHandle name = default;
            if (ctor.Kind == System.Reflection.Metadata.HandleKind.MemberReference)
            {
                var parent = md.GetMemberReference((System.Reflection.Metadata.MemberReferenceHandle)ctor).Parent;
                if (parent.Kind == System.Reflection.Metadata.HandleKind.TypeReference) name = md.GetTypeReference((System.Reflection.Metadata.TypeReferenceHandle)parent).Name;
            }
            else if (ctor.Kind == System.Reflection.Metadata.HandleKind.MethodDefinition)
                name = md.GetTypeDefinition(md.GetMethodDefinition((System.Reflection.Metadata.MethodDefinitionHandle)ctor).GetDeclaringType()).Name;
            if (!name.IsNil && md.StringComparer.Equals(name, "GpuKernelAttribute")) return true;
        }
        return false;
    }

    /// <summary>Resolves the project's references (Kiln, ILGPU, ...) by simple name; the target assembly loads from its path.</summary>
    sealed class ReferenceContext(string target, Dictionary<string, string> references) : AssemblyLoadContext("kiln-build", isCollectible: false)
    {
        // The framework (whose reference assemblies are among the project's references) comes from the running runtime.
        static readonly HashSet<string> Platform = PlatformNames();

        static HashSet<string> PlatformNames()
        {
            var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator))
                if (p.Length > 0) set.Add(Path.GetFileNameWithoutExtension(p));
            return set;
        }

        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name is null || Platform.Contains(name.Name)) return null;
            if (references.TryGetValue(name.Name, out var path)) return LoadFromAssemblyPath(path);
            var beside = Path.Combine(Path.GetDirectoryName(target)!, name.Name + ".dll");
            return File.Exists(beside) ? LoadFromAssemblyPath(beside) : null;
        }
    }
}
