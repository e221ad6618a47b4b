using System;
using System.Collections.Generic;
using System.IO;
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
