using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// As a user would, following README's "Use Kiln in your project": a fresh copy of the repository (what a clone holds),
/// `dotnet pack Compile.sln -c Release -o feed` (Kiln, Kiln.Compiler beside it, and the companion packages Kiln.Monitoring, Kiln.Vision, Kiln.Onnx, Kiln.Quantization, Kiln.Transformers, Kiln.Peft, Kiln.Distributed), a local folder feed in
/// nuget.config and a PackageReference at the repository's version; the fresh console project's build reports a seeded
/// shape bug at the right line and, fixed, builds and runs with the generated member registration.
/// </summary>
public sealed class PackageTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-pkg-" + Guid.NewGuid().ToString("N"));

    public PackageTests() => Directory.CreateDirectory(_dir);

    // The app restores into its own package folder: a Kiln of the same version cached from an earlier build must not stand in.
    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    const string Buggy = """
        using System;
        using Kiln;
        using Kiln.NN;

        var model = new Net();
        Console.WriteLine(model);
        Console.WriteLine(model.Forward(Tensor.Ones(2, 784)).Shape[1]);

        [Model]
        public partial class Net : Module
        {
            readonly Linear layer1 = new(784, 128), layer2 = new(100, 10);
            public Tensor Forward([Shape("N 784")] Tensor x) => layer2.Forward(F.Relu(layer1.Forward(x)));
        }
        """;

    [Fact]
    public void AFreshProjectGetsShapeErrorsFromThePackage()
    {
        string clone = Path.Combine(_dir, "clone"), feed = Path.Combine(_dir, "feed"), app = Path.Combine(_dir, "app");
        CopyTrackedFiles(RepoRoot(), clone);
        Run(clone, "pack", "Compile.sln", "-c", "Release", "-o", feed, "-nologo");
        string version = RepositoryVersion(clone);
        foreach (var id in new[] { "Kiln", "Kiln.Compiler", "Kiln.Monitoring", "Kiln.Vision", "Kiln.Onnx", "Kiln.Quantization", "Kiln.Transformers", "Kiln.Peft", "Kiln.Distributed" })
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.nupkg")), $"{id}.{version}.nupkg is missing from the feed: {string.Join(", ", Directory.GetFiles(feed))}");
        Assert.Equal(9, Directory.GetFiles(feed, "*.nupkg").Length);
        using (var kiln = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"Kiln.{version}.nupkg")))
            Assert.NotNull(kiln.GetEntry("docs/diagnostics.md"));

        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup>
              <ItemGroup><PackageReference Include="Kiln" Version="{version}" /><PackageReference Include="Kiln.Peft" Version="{version}" /></ItemGroup>
            </Project>
            """);
        // The local feed is added to the sources the machine already has (no URL is named here), as README says.
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <configuration><packageSources><add key="kiln-local" value="{feed}" /></packageSources></configuration>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), Buggy);

        var (failed, output) = Run(app, "build", "-nologo", "--disable-build-servers");
        Assert.True(failed != 0, "the build with a shape bug succeeded:\n" + output);
        Assert.Contains("Program.cs(13,57): error KLN0001: linear: mat1 and mat2 shapes cannot be multiplied (input [N, 128], weight [10, 100]", output);

        // Fixed, and using a companion package (Kiln.Peft brings Kiln.Transformers, Kiln.Quantization and Kiln.Onnx with it).
        File.WriteAllText(Path.Combine(app, "Program.cs"), Buggy.Replace("new(100, 10)", "new(128, 10)")
            .Replace("Console.WriteLine(model);", "Console.WriteLine(model); Console.WriteLine($\"lora r={new Kiln.Peft.LoraConfig().R}\");"));
        var (ok, built) = Run(app, "build", "-nologo", "--disable-build-servers");
        Assert.True(ok == 0, built);
        var (ran, printed) = Run(app, "run", "--no-build");
        Assert.True(ran == 0, printed);
        Assert.Contains("Net(\n  (layer1): Linear(in_features=784, out_features=128, bias=True)\n  (layer2): Linear(in_features=128, out_features=10, bias=True)\n)", printed.Replace("\r\n", "\n"));
        Assert.Contains("lora r=8", printed);
        Assert.EndsWith("10", printed.TrimEnd());
    }

    [Fact]
    public void BuildsWithAnArtifactsPath()
    {
        // The kernel-bundle step used to glue the project folder to an absolute intermediate path (MSB3073).
        string clone = Path.Combine(_dir, "clone"), artifacts = Path.Combine(_dir, "artifacts");
        CopyTrackedFiles(RepoRoot(), clone);
        var (exit, output) = Run(clone, "build", "samples/QuickStart", "-c", "Release", "--artifacts-path", artifacts, "-nologo");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(artifacts, "bin", "Kiln", "release", "Kiln.kernels.json")), output);
        Assert.True(File.Exists(Path.Combine(artifacts, "bin", "QuickStart", "release", "Kiln.kernels.json")), output);
        Assert.DoesNotContain(Path.Combine(clone, "runtime", "Kiln", "bin"), output);
    }

    /// <summary>The files git tracks, plus new ones it does not ignore: what a clone of this working tree would hold.</summary>
    static void CopyTrackedFiles(string repo, string to)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = repo, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "ls-files", "-z", "--cached", "--others", "--exclude-standard" }) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        string list = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, "git ls-files failed: " + p.StandardError.ReadToEnd());
        foreach (var file in list.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            string source = Path.Combine(repo, file);
            if (!File.Exists(source)) continue; // deleted in the working tree
            string target = Path.Combine(to, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }
    }

    /// <summary>The package version Directory.Build.props gives (its VersionPrefix).</summary>
    static string RepositoryVersion(string repo)
    {
        var props = System.Xml.Linq.XDocument.Load(Path.Combine(repo, "Directory.Build.props"));
        foreach (var e in props.Descendants("VersionPrefix")) return e.Value.Trim();
        throw new InvalidOperationException("Directory.Build.props has no VersionPrefix");
    }

    static (int Exit, string Output) Run(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The app restores into a private package folder: the test's Kiln comes from its feed, never from a cached package
        // of the same version. (The pack itself uses the machine's cache for the solution's own dependencies.)
        if (File.Exists(Path.Combine(dir, "nuget.config")) && !File.Exists(Path.Combine(dir, "Compile.sln")))
            start.Environment["NUGET_PACKAGES"] = Path.Combine(Path.GetDirectoryName(dir)!, "packages");
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd() + stderr.Result;
        Assert.True(p.WaitForExit(600_000), $"dotnet {string.Join(' ', args)} did not finish");
        if (args[0] == "pack" && p.ExitCode != 0) Assert.Fail($"dotnet pack failed:\n{output}");
        return (p.ExitCode, output);
    }

    static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Compile.sln"))) return d.FullName;
        throw new InvalidOperationException("Compile.sln not found above " + AppContext.BaseDirectory);
    }
}
