using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// The shape-bug corpus: every file in Corpus/Bugs holds one model with one seeded shape bug, its line marked
/// <c>// expect: KLNxxxx</c>; every file in Corpus/Correct holds a correct model. Each bug must be reported with that ID
/// at that line and nothing else; no correct model may get an error. Each file must also be valid C# on its own.
/// </summary>
public class CorpusTests
{
    static string Dir(string kind) => Path.Combine(AppContext.BaseDirectory, "Corpus", kind);

    public static TheoryData<string> Bugs() => Files("Bugs");
    public static TheoryData<string> Correct() => Files("Correct");

    static TheoryData<string> Files(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Dir(kind), "*.cs").OrderBy(f => f)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Bugs))]
    public async Task EachBugIsReportedAtItsLine(string file)
    {
        var source = File.ReadAllText(Path.Combine(Dir("Bugs"), file));
        var expected = source.Split('\n').Select((line, i) => (Line: i + 1, Match: Regex.Match(line, @"// expect: (KLN\d{4})")))
            .Where(x => x.Match.Success).Select(x => (x.Line, Id: x.Match.Groups[1].Value)).ToArray();
        Assert.Single(expected);
        var (compiler, found) = await AnalyzerHarness.Run(source, file);
        Assert.True(compiler.IsEmpty, $"{file} does not compile: {string.Join("; ", compiler)}");
        var errors = found.Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => (Line: d.Location.GetLineSpan().StartLinePosition.Line + 1, d.Id, Message: d.GetMessage())).ToArray();
        // Every error at the bug's line (a step after a failed one is still checked, so one line may hold two: swapped layers).
        Assert.True(errors.Length >= 1 && errors.All(e => e.Line == expected[0].Line && e.Id == expected[0].Id),
            $"{file}: expected {expected[0].Id} at line {expected[0].Line}, got [{string.Join("; ", errors.Select(e => $"{e.Id} line {e.Line}: {e.Message}"))}]"
            + $" (other diagnostics: {string.Join("; ", found.Where(d => d.Severity != DiagnosticSeverity.Error))})");
    }

    [Theory]
    [MemberData(nameof(Correct))]
    public async Task CorrectModelsGetNoErrorAndAreFollowedToTheEnd(string file)
    {
        var source = File.ReadAllText(Path.Combine(Dir("Correct"), file));
        var (compiler, found) = await AnalyzerHarness.Run(source, file);
        Assert.True(compiler.IsEmpty, $"{file} does not compile: {string.Join("; ", compiler)}");
        Assert.True(found.IsEmpty, $"{file}: {string.Join("; ", found)}");
    }

    [Fact]
    public void TheCorpusHasFortyBugsAndTwentyCorrectModels()
    {
        Assert.True(Bugs().Count >= 40, $"{Bugs().Count} bug models");
        Assert.True(Correct().Count >= 20, $"{Correct().Count} correct models");
    }
}
