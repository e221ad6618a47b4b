using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// A size the analyzers know by name: a polynomial with integer coefficients over named sizes (the batch <c>N</c>, a
    /// constructor parameter <c>inputSize</c>, or an unknown <c>?1</c>), kept in one normal form so equal expressions are
    /// equal values. <c>784·N</c> is a flattened image batch, <c>N + M</c> a concatenation. A division that is not exact
    /// becomes a new named size with the expression as its name (<c>(H - 1)/2</c>), so stride-2 windows over a symbolic
    /// height still compare equal to themselves and print readably.
    /// </summary>
    public sealed class SymbolicDim : IEquatable<SymbolicDim>
    {
        /// <summary>The prefix of unknown sizes' names.</summary>
        public const char UnknownPrefix = '?';

        readonly Term[] _terms; // merged, without zero coefficients, in display order

        SymbolicDim(Term[] terms) => _terms = terms;

        /// <summary>The number <paramref name="value"/>.</summary>
        public static SymbolicDim Constant(long value) => new SymbolicDim(value == 0 ? Array.Empty<Term>() : new[] { new Term(Array.Empty<string>(), value) });

        /// <summary>The size named <paramref name="name"/>.</summary>
        public static SymbolicDim Symbol(string name) => new SymbolicDim(new[] { new Term(new[] { name }, 1) });

        /// <summary>The <paramref name="id"/>th unknown size (a Forward parameter without [Shape], a height after an unknown input).</summary>
        public static SymbolicDim Unknown(int id) => Symbol(UnknownPrefix + id.ToString(CultureInfo.InvariantCulture));

        /// <summary>Whether an unknown size takes part (no rule is asked about such a size, so nothing is guessed).</summary>
        public bool HasUnknown
        {
            get
            {
                foreach (var t in _terms)
                    foreach (var s in t.Symbols)
                        if (s.IndexOf(UnknownPrefix) >= 0) return true;
                return false;
            }
        }

        /// <summary>The value when the size is a number.</summary>
        public bool TryConstant(out long value)
        {
            value = 0;
            if (_terms.Length == 0) return true;
            if (_terms.Length != 1 || _terms[0].Symbols.Length != 0) return false;
            value = _terms[0].Coefficient;
            return true;
        }

        /// <summary>The sum.</summary>
        public static SymbolicDim operator +(SymbolicDim a, SymbolicDim b)
        {
            var all = new List<Term>(a._terms.Length + b._terms.Length);
            all.AddRange(a._terms);
            all.AddRange(b._terms);
            return Normal(all);
        }

        /// <summary>The difference.</summary>
        public static SymbolicDim operator -(SymbolicDim a, SymbolicDim b) => a + b * -1;

        /// <summary>The product.</summary>
        public static SymbolicDim operator *(SymbolicDim a, SymbolicDim b)
        {
            var all = new List<Term>(a._terms.Length * b._terms.Length);
            foreach (var x in a._terms)
                foreach (var y in b._terms)
                {
                    var symbols = new string[x.Symbols.Length + y.Symbols.Length];
                    x.Symbols.CopyTo(symbols, 0);
                    y.Symbols.CopyTo(symbols, x.Symbols.Length);
                    Array.Sort(symbols, StringComparer.Ordinal);
                    all.Add(new Term(symbols, x.Coefficient * y.Coefficient));
                }
            return Normal(all);
        }

        /// <summary>The product with a number.</summary>
        public static SymbolicDim operator *(SymbolicDim a, long k) => a * Constant(k);

        /// <summary>
        /// <paramref name="a"/> / <paramref name="b"/> when it divides exactly as polynomials: <paramref name="b"/> a single
        /// term (a number, a name, a product) dividing every term of <paramref name="a"/>, or equal to it.
        /// </summary>
        public static bool TryDivide(SymbolicDim a, SymbolicDim b, out SymbolicDim quotient)
        {
            quotient = Constant(0);
            if (a.Equals(b) && b._terms.Length > 0) { quotient = Constant(1); return true; }
            if (b._terms.Length != 1 || b._terms[0].Coefficient == 0) return false;
            var divisor = b._terms[0];
            var terms = new List<Term>(a._terms.Length);
            foreach (var t in a._terms)
            {
                if (t.Coefficient % divisor.Coefficient != 0) return false;
                var rest = new List<string>(t.Symbols);
                foreach (var s in divisor.Symbols)
                    if (!rest.Remove(s)) return false;
                terms.Add(new Term(rest.ToArray(), t.Coefficient / divisor.Coefficient));
            }
            quotient = Normal(terms);
            return true;
        }

        /// <summary>floor(<paramref name="a"/> / <paramref name="k"/>) (ceil with <paramref name="ceil"/>): exact where every coefficient divides, else a new size named by the expression.</summary>
        public static SymbolicDim Divide(SymbolicDim a, int k, bool ceil)
        {
            if (a.TryConstant(out long v))
                return Constant(ceil ? (long)Math.Ceiling((double)v / k) : (long)Math.Floor((double)v / k));
            if (TryDivide(a, Constant(k), out var q)) return q;
            string text = "(" + a + ")/" + k.ToString(CultureInfo.InvariantCulture);
            return Symbol(ceil ? "ceil" + text : text);
        }

        static SymbolicDim Normal(List<Term> terms)
        {
            var merged = new Dictionary<string, Term>(StringComparer.Ordinal);
            foreach (var t in terms)
                merged[t.Key] = merged.TryGetValue(t.Key, out var had) ? new Term(t.Symbols, had.Coefficient + t.Coefficient) : t;
            var list = new List<Term>(merged.Count);
            foreach (var t in merged.Values) if (t.Coefficient != 0) list.Add(t);
            // Higher degree first, then by name; the number last: N·M + 2·N + 3.
            list.Sort((x, y) => x.Symbols.Length != y.Symbols.Length ? y.Symbols.Length.CompareTo(x.Symbols.Length) : string.CompareOrdinal(x.Key, y.Key));
            return new SymbolicDim(list.ToArray());
        }

        /// <inheritdoc/>
        public bool Equals(SymbolicDim? other)
        {
            if (other is null || other._terms.Length != _terms.Length) return false;
            for (int i = 0; i < _terms.Length; i++)
                if (_terms[i].Coefficient != other._terms[i].Coefficient || _terms[i].Key != other._terms[i].Key) return false;
            return true;
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as SymbolicDim);

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            int h = 17;
            foreach (var t in _terms) h = h * 31 + t.Key.GetHashCode() * 7 + t.Coefficient.GetHashCode();
            return h;
        }

        /// <summary>The expression as messages write it: <c>784·N</c>, <c>N + M</c>, <c>H - 1</c>.</summary>
        public override string ToString()
        {
            if (_terms.Length == 0) return "0";
            var sb = new StringBuilder();
            for (int i = 0; i < _terms.Length; i++)
            {
                var t = _terms[i];
                long c = t.Coefficient;
                if (i > 0) { sb.Append(c < 0 ? " - " : " + "); c = Math.Abs(c); }
                else if (c < 0 && t.Symbols.Length > 0 && c == -1) { sb.Append('-'); c = 1; }
                if (t.Symbols.Length == 0) { sb.Append(c.ToString(CultureInfo.InvariantCulture)); continue; }
                if (c != 1) sb.Append(c.ToString(CultureInfo.InvariantCulture)).Append('·');
                sb.Append(t.Key);
            }
            return sb.ToString();
        }

        /// <summary>A coefficient times a product of names (sorted; empty for a number).</summary>
        readonly struct Term
        {
            public Term(string[] symbols, long coefficient)
            {
                Symbols = symbols;
                Coefficient = coefficient;
                Key = string.Join("·", symbols);
            }

            public string[] Symbols { get; }
            public long Coefficient { get; }
            public string Key { get; }
        }
    }
}
