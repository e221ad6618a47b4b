using System;
using System.Globalization;

namespace Kiln.NN;

/// <summary>Formats numbers the way Python's <c>repr</c> does, so printed modules match PyTorch's text.</summary>
internal static class PyFormat
{
    public static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        string r = d.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E'))
        {
            // .NET "1E-05" → Python "1e-05"
            int e = r.IndexOf('E');
            string mant = r.Substring(0, e);
            int exp = int.Parse(r.Substring(e + 1), CultureInfo.InvariantCulture);
            return mant + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        double a = Math.Abs(d);
        if (a != 0 && (a < 1e-4 || a >= 1e16))
        {
            string s = d.ToString("0.################e+00", CultureInfo.InvariantCulture);
            return s.Replace("e+-", "e-");
        }
        return r.Contains('.') ? r : r + ".0";
    }
}
