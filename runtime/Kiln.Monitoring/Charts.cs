using System.Collections.Generic;
using System.Linq;

namespace Kiln.Monitoring;

/// <summary>PNG charts of training curves (ScottPlot), e.g. loss and accuracy per epoch, written at the end of a run.</summary>
public static class Charts
{
    /// <summary>Plots each named series against its index (epoch or step) and saves a PNG of <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static void SaveLines(string path, string title, string xLabel, IReadOnlyDictionary<string, IReadOnlyList<double>> series, int width = 800, int height = 500)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (name, values) in series)
        {
            var xs = Enumerable.Range(1, values.Count).Select(i => (double)i).ToArray();
            var line = plot.Add.Scatter(xs, values.ToArray());
            line.LegendText = name;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.ShowLegend();
        plot.SavePng(path, width, height);
    }
}
