using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

/// <summary>
/// The time Kiln's [Model] generator and shape analyzer add to a build of each sample, as the compiler reports it
/// (<c>-p:ReportAnalyzer=true</c>): the source file is touched so the compiler runs, three builds, the median kept.
/// </summary>
static class BuildTimes
{
    public const string Title = "## Build-time compiler";

    public static string Section(string repo)
    {
        var table = new StringBuilder();
        table.AppendLine("| sample | [Model] generator (s) | shape analyzer (s) | whole compile step (s) |");
        table.AppendLine("|---|---:|---:|---:|");
        foreach (var sample in new[] { "QuickStart", "FashionMnist" })
        {
            var runs = new List<(double Generator, double Analyzer, double Csc)>();
            for (int i = 0; i < 3; i++) runs.Add(Build(repo, sample));
            double Median(Func<(double, double, double), double> f) => runs.Select(f).OrderBy(x => x).ElementAt(runs.Count / 2);
            table.AppendLine(FormattableString.Invariant($"| samples/{sample} | {Median(r => r.Item1):F3} | {Median(r => r.Item2):F3} | {Median(r => r.Item3):F3} |"));
        }
        Console.WriteLine(table);
        return $"{Title}\n\nCommand: `dotnet run -c Release --project bench/Kiln.Bench -- --suite build`  \n" +
               $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores. Each sample is built three times after touching its source " +
               "(`dotnet build -p:ReportAnalyzer=true`); the compiler's own report gives each component's time, and the whole compile step (the Csc task, compiler start-up included) for scale; medians. Target: the generator adds under 2 s.\n\n" + table;
    }

    static (double Generator, double Analyzer, double Csc) Build(string repo, string sample)
    {
        string project = Path.Combine(repo, "samples", sample);
        File.SetLastWriteTimeUtc(Path.Combine(project, "Program.cs"), DateTime.UtcNow);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repo };
        foreach (var a in new[] { "build", project, "-p:ReportAnalyzer=true", "-v", "d", "-nologo", "-clp:PerformanceSummary" }) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"building {sample} failed:\n{output[^Math.Min(output.Length, 2000)..]}");
        double Seconds(string pattern) => Regex.Match(output, pattern) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;
        var csc = Regex.Matches(output, @"(\d+) ms\s+Csc\s").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) / 1000).DefaultIfEmpty(double.NaN).Max();
        return (Seconds(@"([\d.]+)\s+\d+\s+Kiln\.Generators\.ModelGenerator"), Seconds(@"([\d.]+)\s+\d+\s+Kiln\.Analyzers\.ModelShapeAnalyzer"), csc);
    }
}
