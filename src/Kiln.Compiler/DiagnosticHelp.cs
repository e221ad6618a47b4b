using System;
using System.IO;

namespace Kiln.Compiler
{
    /// <summary>
    /// Where a diagnostic's help link points: the diagnostics page shipped beside the analyzers. In the Kiln package it is
    /// <c>docs/diagnostics.md</c> at the package's root (three folders above <c>analyzers/dotnet/cs</c>); in this
    /// repository, <c>docs/diagnostics.md</c> at its root. The link is a file URI with the ID's anchor, so the IDE opens the
    /// page a package user really has. Worked out from the assembly's path alone (analyzers may not touch the disk).
    /// </summary>
    public static class DiagnosticHelp
    {
        static readonly string Page = FindPage();

        /// <summary>The help link of diagnostic <paramref name="id"/> (e.g. KLN0001).</summary>
        public static string Link(string id) => Page + "#" + id.ToLowerInvariant();

        static string FindPage()
        {
            try
            {
                string? dir = Path.GetDirectoryName(typeof(DiagnosticHelp).Assembly.Location);
                if (string.IsNullOrEmpty(dir)) return "docs/diagnostics.md";
                string sep = Path.DirectorySeparatorChar.ToString();
                string normalized = dir!.Replace('/', Path.DirectorySeparatorChar).Replace('\\', Path.DirectorySeparatorChar);
                string root;
                string packaged = sep + "analyzers" + sep + "dotnet" + sep + "cs";
                if (normalized.EndsWith(packaged, StringComparison.OrdinalIgnoreCase)) root = normalized.Substring(0, normalized.Length - packaged.Length);
                else
                {
                    // Built inside the repository: its root is above the first of its top-level folders in the path.
                    int at = -1;
                    foreach (var top in new[] { "generators", "src", "tests", "samples", "bench", "runtime" })
                    {
                        int i = normalized.LastIndexOf(sep + top + sep, StringComparison.Ordinal);
                        if (i >= 0 && (at < 0 || i < at)) at = i;
                    }
                    if (at < 0) return "docs/diagnostics.md";
                    root = normalized.Substring(0, at);
                }
                return new Uri(Path.Combine(root, "docs", "diagnostics.md")).AbsoluteUri;
            }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is UriFormatException || e is PathTooLongException)
            {
                return "docs/diagnostics.md";
            }
        }
    }
}
