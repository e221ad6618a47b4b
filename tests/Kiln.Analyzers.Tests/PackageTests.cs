using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// As a user would: Kiln (runtime, generator, analyzers) is packed into a local folder feed, a fresh console project
/// references the package, and its build reports a seeded shape bug at the right line; fixed, it builds and runs with
/// the generated member registration.
/// </summary>
public sealed class PackageTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-pkg-" + Guid.NewGuid().ToString("N"));
    readonly string _version = "0.0.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");

    public PackageTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
        // The test's package versions are unique; drop them from the machine's package cache again.
        foreach (var id in new[] { "kiln", "kiln.compiler" })
        {
            string cached = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages", id, _version);
            try { if (Directory.Exists(cached)) Directory.Delete(cached, true); } catch (IOException) { }
        }
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
        string repo = RepoRoot(), feed = Path.Combine(_dir, "feed"), artifacts = Path.Combine(_dir, "artifacts"), app = Path.Combine(_dir, "app");
        foreach (var project in new[] { "src/Kiln.Compiler", "runtime/Kiln" })
            Run(repo, "pack", Path.Combine(repo, project), "-c", "Release", "-o", feed, "-p:Version=" + _version, "--artifacts-path", artifacts);
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup>
              <ItemGroup><PackageReference Include="Kiln" Version="{_version}" /></ItemGroup>
            </Project>
            """);
        // The local feed is added to the sources the machine already has (no URL is named here).
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <configuration><packageSources><add key="kiln-local" value="{feed}" /></packageSources></configuration>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), Buggy);

        var (failed, output) = Run(app, "build", "-nologo", "--disable-build-servers");
        Assert.True(failed != 0, "the build with a shape bug succeeded:\n" + output);
        Assert.Contains("Program.cs(13,57): error KLN0001: linear: mat1 and mat2 shapes cannot be multiplied (input [N, 128], weight [10, 100]", output);

        File.WriteAllText(Path.Combine(app, "Program.cs"), Buggy.Replace("new(100, 10)", "new(128, 10)"));
        var (ok, built) = Run(app, "build", "-nologo", "--disable-build-servers");
        Assert.True(ok == 0, built);
        var (ran, printed) = Run(app, "run", "--no-build");
        Assert.True(ran == 0, printed);
        Assert.Contains("Net(\n  (layer1): Linear(in_features=784, out_features=128, bias=True)\n  (layer2): Linear(in_features=128, out_features=10, bias=True)\n)", printed.Replace("\r\n", "\n"));
        Assert.EndsWith("10", printed.TrimEnd());
    }

    static (int Exit, string Output) Run(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
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
