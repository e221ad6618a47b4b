using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;

namespace Kiln.Data;

/// <summary>
/// The 8×8 handwritten digits (UCI, 1,797 images, labels 0–9) embedded in Kiln: no download, always available.
/// Images are float [1, 8, 8] scaled to [0, 1]. The fixed split puts every fifth sample in the test set (1,438 train,
/// 359 test). Licence: CC BY 4.0 (see Data/Resources/DIGITS-LICENSE.md).
/// </summary>
public sealed class Digits : Dataset<(Tensor Image, long Label)>
{
    static readonly Lazy<(float[] Pixels, byte[] Labels)> All = new(Read);
    readonly int[] _rows;
    readonly Func<Tensor, Tensor>? _transform;

    /// <summary>The training split (or the test split, or all 1,797 samples with <paramref name="all"/>).</summary>
    public Digits(bool train = true, bool all = false, Func<Tensor, Tensor>? transform = null)
    {
        var rows = new List<int>();
        int n = All.Value.Labels.Length;
        for (int i = 0; i < n; i++)
            if (all || (i % 5 == 4) != train) rows.Add(i);
        _rows = rows.ToArray();
        _transform = transform;
    }

    /// <inheritdoc/>
    public override int Count => _rows.Length;

    /// <inheritdoc/>
    public override (Tensor Image, long Label) this[int index]
    {
        get
        {
            CheckIndex(index);
            int r = _rows[index];
            var px = new float[64];
            Array.Copy(All.Value.Pixels, r * 64, px, 0, 64);
            var image = Tensor.From(px, 1, 8, 8);
            if (_transform != null) image = _transform(image);
            return (image, All.Value.Labels[r]);
        }
    }

    /// <summary>Every image of this split as one float tensor [N, 64] and the labels as int64 [N] (for whole-set evaluation).</summary>
    public (Tensor Images, Tensor Labels) AsTensors()
    {
        var px = new float[_rows.Length * 64];
        var labels = new long[_rows.Length];
        for (int i = 0; i < _rows.Length; i++)
        {
            Array.Copy(All.Value.Pixels, _rows[i] * 64, px, i * 64, 64);
            labels[i] = All.Value.Labels[_rows[i]];
        }
        return (Tensor.From(px, _rows.Length, 64), Tensor.From(labels, labels.Length));
    }

    static (float[], byte[]) Read()
    {
        using var s = typeof(Digits).Assembly.GetManifestResourceStream("Kiln.Data.digits.csv.gz")
            ?? throw new KilnException("Digits", "Digits: the embedded digits.csv.gz resource is missing from Kiln.dll");
        using var gz = new GZipStream(s, CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        var pixels = new List<float>();
        var labels = new List<byte>();
        string? line;
        int row = 0;
        while ((line = reader.ReadLine()) != null)
        {
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length != 65 || !float.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                if (row == 0) { row++; continue; }   // a header line
                throw new KilnException("Digits", $"Digits: row {row} of the embedded data has {cells.Length} cells, expected 65", KilnErrorKind.Format);
            }
            for (int j = 0; j < 64; j++) pixels.Add(float.Parse(cells[j], CultureInfo.InvariantCulture) / 16f);
            labels.Add((byte)float.Parse(cells[64], CultureInfo.InvariantCulture));
            row++;
        }
        return (pixels.ToArray(), labels.ToArray());
    }
}
