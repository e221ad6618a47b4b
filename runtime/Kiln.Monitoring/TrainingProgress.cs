using System;
using System.Diagnostics;
using Spectre.Console;

namespace Kiln.Monitoring;

/// <summary>What a training or evaluation loop reports after each batch.</summary>
public sealed class ProgressReport
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    double _lossSum;
    long _correct, _counted;

    internal ProgressReport(int totalBatches) { TotalBatches = totalBatches; }

    /// <summary>Batches expected in this pass.</summary>
    public int TotalBatches { get; }
    /// <summary>Batches done.</summary>
    public int Batches { get; private set; }
    /// <summary>Samples seen.</summary>
    public long Samples { get; private set; }
    /// <summary>Mean loss over the samples seen.</summary>
    public double Loss => Samples == 0 ? double.NaN : _lossSum / Samples;
    /// <summary>Fraction of correct predictions so far (NaN when none were reported).</summary>
    public double Accuracy => _counted == 0 ? double.NaN : (double)_correct / _counted;
    /// <summary>Samples per second.</summary>
    public double Throughput => Samples / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
    /// <summary>Time since the pass started.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Records one batch: its size, mean loss and (optionally) how many predictions were right.</summary>
    public void Advance(int batchSize, double loss, long? correct = null)
    {
        Batches++;
        Samples += batchSize;
        _lossSum += loss * batchSize;
        if (correct is long c) { _correct += c; _counted += batchSize; }
        Changed?.Invoke();
    }

    internal event Action? Changed;

    /// <summary>One line: loss, accuracy, throughput and time.</summary>
    public string Summary(string label) =>
        FormattableString.Invariant($"{label}: loss {Loss:F4}") + (double.IsNaN(Accuracy) ? "" : FormattableString.Invariant($"  accuracy {Accuracy:P2}"))
        + FormattableString.Invariant($"  {Throughput:N0} samples/s  {Elapsed.TotalSeconds:F1} s");
}

/// <summary>
/// A console progress bar for training and evaluation loops (Spectre.Console): bar, loss, accuracy, samples/s and time
/// remaining. When output is redirected (CI, logs) it draws nothing live and prints one summary line at the end.
/// </summary>
public static class TrainingProgress
{
    /// <summary>Runs <paramref name="body"/>, which calls <see cref="ProgressReport.Advance"/> per batch, under a progress bar labelled <paramref name="label"/>.</summary>
    public static ProgressReport Run(string label, int totalBatches, Action<ProgressReport> body)
    {
        var report = new ProgressReport(totalBatches);
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            body(report);
            Console.WriteLine(report.Summary(label));
            return report;
        }
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(label), maxValue: Math.Max(1, totalBatches));
                report.Changed += () =>
                {
                    task.Value = report.Batches;
                    task.Description = Markup.Escape(FormattableString.Invariant($"{label}  loss {report.Loss:F4}")
                        + (double.IsNaN(report.Accuracy) ? "" : FormattableString.Invariant($"  acc {report.Accuracy:P1}"))
                        + FormattableString.Invariant($"  {report.Throughput:N0}/s"));
                };
                body(report);
                task.Value = task.MaxValue;
            });
        return report;
    }
}
