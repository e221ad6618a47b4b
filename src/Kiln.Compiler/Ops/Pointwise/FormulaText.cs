using System.Text.RegularExpressions;
using Kiln.Compiler.Emit;

namespace Kiln.Compiler.Ops.Pointwise
{
    /// <summary>A formula printed once as text, to see which of its values it reads (what an op's backward must keep).</summary>
    internal static class FormulaText
    {
        /// <summary>The printer: any lanes do; double is the one every primitive has.</summary>
        public static readonly CSharpScalarAlgebra Printer = new CSharpScalarAlgebra(Lanes.Double, "M");

        /// <summary>Whether <paramref name="text"/> uses the variable <paramref name="name"/>.</summary>
        public static bool Mentions(string text, string name) => Regex.IsMatch(text, $@"\b{name}\b");
    }
}
