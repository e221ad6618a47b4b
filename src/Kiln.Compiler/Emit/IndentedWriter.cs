using System.Text;

namespace Kiln.Compiler.Emit
{
    /// <summary>Source text with an indentation level: <see cref="Line"/> writes one line at it, <see cref="Open"/>/<see cref="Close"/> nest braces.</summary>
    public sealed class IndentedWriter
    {
        readonly StringBuilder _text = new StringBuilder();
        int _depth;

        /// <summary>Writes a line at the current indentation (an empty line stays empty).</summary>
        public IndentedWriter Line(string text = "")
        {
            if (text.Length > 0) _text.Append(' ', 4 * _depth).Append(text);
            _text.Append('\n');
            return this;
        }

        /// <summary>Writes <paramref name="header"/> and an opening brace, then indents.</summary>
        public IndentedWriter Open(string header)
        {
            Line(header).Line("{");
            _depth++;
            return this;
        }

        /// <summary>Unindents and writes the closing brace.</summary>
        public IndentedWriter Close(string suffix = "")
        {
            _depth--;
            return Line("}" + suffix);
        }

        /// <inheritdoc/>
        public override string ToString() => _text.ToString();
    }
}
