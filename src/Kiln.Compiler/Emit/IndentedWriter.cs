using System;
using System.Text;

namespace Kiln.Compiler.Emit
{
    /// <summary>
    /// Source text with an indentation level: <see cref="Line"/> writes one line at it, <see cref="Open(string)"/> and
    /// <see cref="Close"/> nest braces, <see cref="Nested"/> indents one statement (an unbraced <c>if</c>'s body). Every
    /// line starts with the writer's prefix (the indentation of the class the text goes into).
    /// </summary>
    public sealed class IndentedWriter
    {
        readonly StringBuilder _text = new StringBuilder();
        readonly string _prefix;
        int _depth;

        /// <summary>A writer whose lines start with <paramref name="prefix"/> and then <paramref name="depth"/> levels of four spaces.</summary>
        public IndentedWriter(string prefix = "", int depth = 0)
        {
            _prefix = prefix;
            _depth = depth;
        }

        /// <summary>Writes a line at the current indentation (an empty line stays empty).</summary>
        public IndentedWriter Line(string text = "")
        {
            if (text.Length > 0) _text.Append(_prefix).Append(' ', 4 * _depth).Append(text);
            _text.Append('\n');
            return this;
        }

        /// <summary>Writes <paramref name="header"/> and an opening brace, then indents.</summary>
        public IndentedWriter Open(string header) => Line(header).Open();

        /// <summary>Writes an opening brace (a block of its own), then indents.</summary>
        public IndentedWriter Open()
        {
            Line("{");
            _depth++;
            return this;
        }

        /// <summary>Unindents and writes the closing brace, followed by <paramref name="suffix"/> (<c>);</c>, <c>,</c>).</summary>
        public IndentedWriter Close(string suffix = "")
        {
            _depth--;
            return Line("}" + suffix);
        }

        /// <summary>Writes what <paramref name="body"/> writes one level deeper.</summary>
        public IndentedWriter Nested(Action body)
        {
            _depth++;
            body();
            _depth--;
            return this;
        }

        /// <summary>Appends another writer's text as it is.</summary>
        public IndentedWriter Append(IndentedWriter other)
        {
            _text.Append(other._text);
            return this;
        }

        /// <inheritdoc/>
        public override string ToString() => _text.ToString();
    }
}
