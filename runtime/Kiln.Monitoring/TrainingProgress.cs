using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;

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
    public double Throughput => Samples / Math.Max(1e-9, Clock.TotalSeconds);
    /// <summary>Time since the pass started (the pass's duration once it ended).</summary>
    public TimeSpan Elapsed => Clock;

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

    readonly SortedDictionary<string, double> _metrics = new(StringComparer.Ordinal);
    TimeSpan? _finished;

    /// <summary>The evaluation metrics recorded for this pass (by <see cref="SetMetric"/> or the run's evaluate callback).</summary>
    public IReadOnlyDictionary<string, double> Metrics => _metrics;

    /// <summary>Records a named value (a validation accuracy, say) shown on the pass's final line.</summary>
    public void SetMetric(string name, double value) => _metrics[name] = value;

    /// <summary>Stops the clock: elapsed time and throughput are the pass's own from here on.</summary>
    internal void Finish() => _finished ??= _clock.Elapsed;

    TimeSpan Clock => _finished ?? _clock.Elapsed;

    /// <summary>One line: loss, accuracy, throughput and time.</summary>
    public string Summary(string label) => label + ":" + Summary(final: true);

    /// <summary>The numbers after the label: loss, accuracy, samples/s, then elapsed (and, while running, remaining) time and the metrics.</summary>
    internal string Summary(bool final)
    {
        var sb = new StringBuilder(FormattableString.Invariant($" loss {Loss:F4}"));
        if (!double.IsNaN(Accuracy)) sb.Append(FormattableString.Invariant($"  accuracy {Accuracy:P2}"));
        double seconds = Math.Max(1e-9, Clock.TotalSeconds);
        sb.Append(FormattableString.Invariant($"  {Samples / seconds:N0} samples/s  {Time(Clock)}"));
        if (!final && Batches > 0 && Batches < TotalBatches)
            sb.Append(" < ").Append(Time(TimeSpan.FromSeconds(seconds / Batches * (TotalBatches - Batches))));
        foreach (var (name, value) in _metrics)
            sb.Append("  ").Append(name).Append(' ').Append(value is >= 0 and <= 1 && name.Contains("acc", StringComparison.OrdinalIgnoreCase)
                ? FormattableString.Invariant($"{value:P2}") : FormattableString.Invariant($"{value:G5}"));
        return sb.ToString();
    }

    static string Time(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss\.f", CultureInfo.InvariantCulture);
}

/// <summary>
/// A console progress bar for training and evaluation loops: one line per pass that fills while it runs (bar, loss,
/// accuracy, samples/s, elapsed and remaining time) and stays as that pass's record — elapsed time and the evaluation
/// metrics included — with no blank lines between passes. When output is redirected (CI, logs) it draws nothing live
/// and prints the same final line once.
/// </summary>
public static class TrainingProgress
{
    /// <summary>
    /// Runs <paramref name="body"/>, which calls <see cref="ProgressReport.Advance"/> per batch, under a progress bar labelled
    /// <paramref name="label"/>. <paramref name="evaluate"/>, when given, runs after the body (a validation pass, say); its
    /// named values join the pass's final line and <see cref="ProgressReport.Metrics"/>.
    /// </summary>
    public static ProgressReport Run(string label, int totalBatches, Action<ProgressReport> body, Func<IReadOnlyDictionary<string, double>>? evaluate = null) =>
        // Spectre.Console tells whether the terminal redraws in place and how wide it is.
        Run(label, totalBatches, body, evaluate, Console.Out, !Console.IsOutputRedirected && Spectre.Console.AnsiConsole.Profile.Capabilities.Interactive,
            Spectre.Console.AnsiConsole.Profile.Width);

    internal static ProgressReport Run(string label, int totalBatches, Action<ProgressReport> body, Func<IReadOnlyDictionary<string, double>>? evaluate,
        TextWriter output, bool live, int width = int.MaxValue)

    {
        var report = new ProgressReport(totalBatches);
        var line = new ProgressLine(output, label, report, live, width);
        report.Changed += line.Update;
        try { body(report); }
        finally { report.Changed -= line.Update; }
        if (evaluate != null)
            foreach (var (name, value) in evaluate()) report.SetMetric(name, value);
        report.Finish();
        line.Finish();
        return report;
    }

    /// <summary>One pass's line: redrawn in place (carriage return, clear to end of line) at most ten times a second.</summary>
    sealed class ProgressLine(TextWriter output, string label, ProgressReport report, bool live, int width)
    {
        const int BarWidth = 30;
        long _lastDraw = long.MinValue;

        public void Update()
        {
            if (!live) return;
            long now = Stopwatch.GetTimestamp();
            if (report.Batches < report.TotalBatches && now - _lastDraw < Stopwatch.Frequency / 10) return;
            _lastDraw = now;
            output.Write("\r" + Text(final: false) + "\u001b[K");
            output.Flush();
        }

        public void Finish()
        {
            output.Write((live ? "\r" : "") + Text(final: true) + (live ? "\u001b[K" : "") + Environment.NewLine);
            output.Flush();
        }

        string Text(bool final)
        {
            var sb = new StringBuilder(label);
            if (live)
            {
                double done = report.TotalBatches <= 0 ? 1 : Math.Min(1, (double)report.Batches / report.TotalBatches);
                int filled = (int)Math.Round(done * BarWidth);
                sb.Append(' ').Append('━', filled).Append(' ', BarWidth - filled).Append(FormattableString.Invariant($" {done,4:P0}"));
            }
            else sb.Append(':');
            sb.Append(report.Summary(final));
            // A live line longer than the terminal would wrap, and the carriage return would no longer reach its start.
            if (live && width > 1 && sb.Length >= width) sb.Length = width - 1;
            return sb.ToString();
        }
    }
}
