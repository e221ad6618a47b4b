using System.Collections.Generic;
using System.Text;

namespace Kiln.Compiler.Shapes
{
    /// <summary>Formats shapes the way every Kiln message writes them: <c>[64, 784]</c>, <c>[N, 784]</c>.</summary>
    public static class ShapeText
    {
        /// <summary>Formats one shape.</summary>
        public static string Format<T>(IReadOnlyList<T> shape)
        {
            var sb = new StringBuilder("[");
            for (int i = 0; i < shape.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(shape[i]?.ToString());
            }
            return sb.Append(']').ToString();
        }

        /// <summary>Formats a list of shapes separated by commas.</summary>
        public static string FormatAll<T>(IReadOnlyList<T[]> shapes)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < shapes.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(Format(shapes[i]));
            }
            return sb.ToString();
        }
    }
}
