using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Kiln;

/// <summary>
/// Prints tensors the way PyTorch's <c>print(tensor)</c> does: a shared number format chosen from the
/// values (integer-valued floats as <c>1.</c>, fixed <c>0.1000</c>, or scientific), right-aligned columns,
/// and elision with <c>...</c> beyond 1000 elements (3 edge items per dim).
/// </summary>
internal sealed class TensorFormatter
{
    const int Threshold = 1000, EdgeItems = 3, LineWidth = 80, Precision = 4;
    readonly Tensor _t;
    readonly bool _summarize;
    readonly Func<double, string> _format;
    readonly int _width;

    TensorFormatter(Tensor t)
    {
        _t = t;
        _summarize = t.Numel > Threshold;
        var values = new List<double>();
        Collect(new List<int>(), values);
        _format = ChooseFormat(t.DType, values);
        // The column width comes from the finite values (as PyTorch's): nan and inf print unpadded beside them.
        int width = 1;
        foreach (var v in values) if (double.IsFinite(v)) width = Math.Max(width, _format(v).Length);
        _width = width;
    }

    public static string Format(Tensor t)
    {
        var sb = new StringBuilder("tensor(");
        const int indent = 7;
        if (t.Numel == 0)
        {
            sb.Append("[]");
            if (t.Dim != 1) sb.Append(", size=(").Append(string.Join(", ", t.Shape)).Append(t.Dim == 1 ? ",)" : ")");
        }
        else
        {
            var f = new TensorFormatter(t);
            f.Render(sb, new List<int>(), indent);
        }
        if (t.DType != DType.Float32 && t.DType != DType.Int64 && t.DType != DType.Bool)
            sb.Append(", dtype=").Append(t.DType.Name());
        if (t.GradFn != null) sb.Append(", grad_fn=<").Append(t.GradFn.Name).Append('>');
        else if (t.RequiresGrad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    /// <summary>Indices shown along a dim of size n: all, or the first and last EdgeItems with -1 for the ellipsis.</summary>
    IEnumerable<int> Shown(int n)
    {
        if (!_summarize || n <= 2 * EdgeItems) { for (int i = 0; i < n; i++) yield return i; yield break; }
        for (int i = 0; i < EdgeItems; i++) yield return i;
        yield return -1;
        for (int i = n - EdgeItems; i < n; i++) yield return i;
    }

    void Collect(List<int> prefix, List<double> values)
    {
        if (prefix.Count == _t.Dim) { values.Add(_t.GetDouble(prefix.ToArray())); return; }
        foreach (int i in Shown(_t.Shape[prefix.Count]))
        {
            if (i < 0) continue;
            prefix.Add(i);
            Collect(prefix, values);
            prefix.RemoveAt(prefix.Count - 1);
        }
    }

    /// <summary>Mirrors PyTorch's layout: rows wrap at 80 columns; nested dims are joined by "," plus newlines and indent.</summary>
    void Render(StringBuilder sb, List<int> prefix, int indent)
    {
        int dim = prefix.Count;
        if (dim == _t.Dim)
        {
            sb.Append(_format(_t.GetDouble(prefix.ToArray())));
            return;
        }
        if (dim == _t.Dim - 1)
        {
            var items = new List<string>();
            foreach (int i in Shown(_t.Shape[dim]))
            {
                if (i < 0) { items.Add(" ..."); continue; }
                prefix.Add(i);
                items.Add(_format(_t.GetDouble(prefix.ToArray())).PadLeft(_width));
                prefix.RemoveAt(prefix.Count - 1);
            }
            int perLine = Math.Max(1, (LineWidth - indent) / (_width + 2));
            sb.Append('[');
            for (int k = 0; k < items.Count; k++)
            {
                if (k > 0) sb.Append(k % perLine == 0 ? ",\n" + new string(' ', indent + 1) : ", ");
                sb.Append(items[k]);
            }
            sb.Append(']');
            return;
        }
        string sep = "," + new string('\n', _t.Dim - dim - 1) + new string(' ', indent + 1);
        sb.Append('[');
        bool first = true;
        foreach (int i in Shown(_t.Shape[dim]))
        {
            if (!first) sb.Append(sep);
            first = false;
            if (i < 0) { sb.Append("..."); continue; }
            prefix.Add(i);
            Render(sb, prefix, indent + 1);
            prefix.RemoveAt(prefix.Count - 1);
        }
        sb.Append(']');
    }

    static Func<double, string> ChooseFormat(DType dtype, List<double> values)
    {
        var inv = CultureInfo.InvariantCulture;
        if (dtype == DType.Bool) return v => v != 0 ? "True" : "False";
        if (!dtype.IsFloatingPoint()) return v => ((long)v).ToString(inv);
        double min = double.PositiveInfinity, max = 0;
        bool allInt = true;
        foreach (var v in values)
        {
            if (double.IsNaN(v) || double.IsInfinity(v)) continue;
            if (v != Math.Ceiling(v)) allInt = false;
            double a = Math.Abs(v);
            if (a == 0) continue;
            min = Math.Min(min, a);
            max = Math.Max(max, a);
        }
        bool any = max > 0;
        string Special(double v) => double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
        string Sci(double v) => double.IsNaN(v) || double.IsInfinity(v) ? Special(v) : v.ToString("0." + new string('0', Precision) + "e+00", inv);
        if (allInt)
        {
            if (any && (max / min > 1000 || max > 1e8)) return Sci;
            return v => double.IsNaN(v) || double.IsInfinity(v) ? Special(v) : v.ToString("0", inv) + ".";
        }
        if (any && (max / min > 1000 || max > 1e8 || min < 1e-4)) return Sci;
        return v => double.IsNaN(v) || double.IsInfinity(v) ? Special(v) : v.ToString("F" + Precision, inv);
    }
}
