using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln.Monitoring;
using Xunit;

namespace Kiln.Tests.MonitoringTests;

/// <summary>The progress reporter's numbers and its quiet mode, and the PNG charts.</summary>
public class MonitoringTests
{
    [Fact]
    public void ProgressReportsWeightedLossAccuracyAndASummaryWhenRedirected()
    {
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        ProgressReport report;
        try
        {
            report = TrainingProgress.Run("epoch 1", 2, p =>
            {
                p.Advance(10, 1.0, correct: 5);
                p.Advance(30, 0.5, correct: 30);
            });
        }
        finally { Console.SetOut(previous); }
        Assert.Equal(2, report.Batches);
        Assert.Equal(40, report.Samples);
        Assert.Equal((10 * 1.0 + 30 * 0.5) / 40, report.Loss, 12);
        Assert.Equal(35.0 / 40, report.Accuracy, 12);
        Assert.True(report.Throughput > 0);
        Assert.StartsWith("epoch 1: loss 0.6250  accuracy 87.50 %", output.ToString());
    }

    [Fact]
    public void LiveBarsKeepEachPassAsOneLineWithElapsedTimeAndMetrics()
    {
        var output = new StringWriter();
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            int e = epoch;
            var report = TrainingProgress.Run($"epoch {epoch}/3", 4, p =>
            {
                for (int b = 0; b < 4; b++) p.Advance(8, 1.0 / e, correct: 4 + b);
            }, () => new Dictionary<string, double> { ["test accuracy"] = 0.9 + e / 100.0 }, output, live: true, width: 200);
            Assert.Equal(0.9 + epoch / 100.0, report.Metrics["test accuracy"], 12);
        }
        string text = output.ToString();
        Assert.DoesNotContain("\n\n", text.Replace("\r\n", "\n"));
        // What stays on screen: the last redraw of each line (after its last carriage return).
        var lines = text.Replace("\r\n", "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l[(l.LastIndexOf('\r') + 1)..].Replace("\u001b[K", "")).ToArray();
        Assert.Equal(3, lines.Length);
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            Assert.StartsWith($"epoch {epoch}/3 ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 100 %", lines[epoch - 1]);
            Assert.Contains(FormattableString.Invariant($"test accuracy {0.9 + epoch / 100.0:P2}"), lines[epoch - 1]);
            Assert.Matches(@"samples/s  \d\d:\d\d\.\d  test", lines[epoch - 1]); // elapsed time, no remaining-time column left behind
        }
    }

    [Fact]
    public void RedirectedOutputGetsOnePlainLinePerPassWithItsMetrics()
    {
        var output = new StringWriter();
        TrainingProgress.Run("eval", 1, p => p.Advance(4, 0.25), () => new Dictionary<string, double> { ["f1"] = 0.5 }, output, live: false);
        Assert.Matches(@"^eval: loss 0\.2500  \d[\d,]* samples/s  \d\d:\d\d\.\d  f1 0\.5\r?\n$", output.ToString());
    }

    [Fact]
    public void ChartsAreWrittenAsPng()
    {
        string path = Path.Combine(Path.GetTempPath(), "kiln-chart-" + Guid.NewGuid().ToString("N") + ".png");
        try
        {
            Charts.SaveLines(path, "curves", "epoch", new Dictionary<string, IReadOnlyList<double>> { ["loss"] = [1.0, 0.5, 0.25], ["accuracy"] = [0.5, 0.8, 0.9] }, 320, 200);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            Assert.Equal(320, bytes[16] << 24 | bytes[17] << 16 | bytes[18] << 8 | bytes[19]);   // IHDR width
        }
        finally { File.Delete(path); }
    }
}
