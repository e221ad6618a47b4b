using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace Kiln.Data;

/// <summary>
/// Numeric CSV data: every row becomes (features, target) with the target taken from one column (by default the last).
/// </summary>
/// <remarks>
/// The first row is a header when <c>hasHeader</c> says so. Left unsaid, it is taken as a header only when none of its
/// cells is a number, as data when all are, and a row of both raises an error asking for <c>hasHeader</c>: a data row
/// with a typo is never swallowed as a header.
/// </remarks>
public sealed class CsvDataset : Dataset<(Tensor Features, Tensor Target)>
{
    readonly float[][] _features;
    readonly float[] _targets;

    /// <summary>Reads <paramref name="path"/>; <paramref name="targetColumn"/> counts from the end when negative.</summary>
    public CsvDataset(string path, int targetColumn = -1, char separator = ',', bool? hasHeader = null)
    {
        var rows = new List<float[]>();
        int width = -1, lineNo = 0;
        bool first = true;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            var cells = line.Split(separator);
            var values = new float[cells.Length];
            int numbers = 0;
            for (int i = 0; i < cells.Length; i++)
                if (float.TryParse(cells[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])) numbers++;
            if (first)
            {
                first = false;
                bool header = hasHeader ?? (numbers == 0 ? true : numbers == cells.Length ? false
                    : throw new KilnException("CsvDataset", $"CsvDataset: {path}: line {lineNo} mixes numbers and text, so it may be a header or a data row with a bad cell; pass hasHeader: true or false", KilnErrorKind.Format));
                if (header) { Header = cells.Select(c => c.Trim()).ToArray(); width = cells.Length; continue; }
            }
            if (numbers != cells.Length)
                throw new KilnException("CsvDataset", $"CsvDataset: {path}: line {lineNo} has a cell that is not a number");
            if (width >= 0 && cells.Length != width) throw new KilnException("CsvDataset", $"CsvDataset: {path}: line {lineNo} has {cells.Length} cells, expected {width}");
            width = cells.Length;
            rows.Add(values);
        }
        if (width < 2) throw new KilnException("CsvDataset", $"CsvDataset: {path}: needs at least two columns (features and a target)", KilnErrorKind.Format);
        int t = targetColumn < 0 ? width + targetColumn : targetColumn;
        if (t < 0 || t >= width) throw new KilnException("CsvDataset", $"CsvDataset: target column {targetColumn} is outside the {width} columns", KilnErrorKind.Format);
        _features = rows.Select(r => r.Where((_, i) => i != t).ToArray()).ToArray();
        _targets = rows.Select(r => r[t]).ToArray();
    }

    /// <summary>The header's column names, or null.</summary>
    public string[]? Header { get; }

    /// <inheritdoc/>
    public override int Count => _targets.Length;

    /// <inheritdoc/>
    public override (Tensor Features, Tensor Target) this[int index]
    {
        get { CheckIndex(index); return (Tensor.From(_features[index], _features[index].Length), Tensor.From(new[] { _targets[index] }, 1).Reshape()); }
    }
}

/// <summary>The lines of a text file as samples (for language-model and classification pipelines), read lazily and streamed.</summary>
public sealed class TextLinesDataset : IterableDataset<string>
{
    readonly string _path;
    readonly bool _skipEmpty;

    /// <summary>Streams the lines of <paramref name="path"/>, optionally skipping empty ones.</summary>
    public TextLinesDataset(string path, bool skipEmpty = true)
    {
        if (!File.Exists(path)) throw new KilnException("TextLinesDataset", $"TextLinesDataset: {path} not found");
        _path = path;
        _skipEmpty = skipEmpty;
    }

    /// <inheritdoc/>
    public override IEnumerator<string> GetEnumerator()
    {
        foreach (var line in File.ReadLines(_path))
            if (!_skipEmpty || line.Length > 0) yield return line;
    }
}
