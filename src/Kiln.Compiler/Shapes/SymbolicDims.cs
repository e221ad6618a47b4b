using System.Collections.Generic;
using System.Text;

namespace Kiln.Compiler.Shapes
{

    /// <summary>
    /// Symbolic dims (the batch <c>N</c>, constructor parameters such as <c>inputSize</c>) stand in the shape rules as
    /// distinct large primes: equal names get equal sizes, different names different ones, so Kiln.Compiler's concrete
    /// rules decide symbolic shapes unchanged, and their messages are rendered back with the names.
    /// </summary>
    public sealed class SymbolicDims
    {
        readonly Dictionary<string, int> _byName = new();
        readonly Dictionary<int, string> _byValue = new();
        int _next = 7919;   // the 1000th prime: far from the sizes models use

        /// <summary>The stand-in size of <paramref name="name"/>.</summary>
        public int Of(string name)
        {
            if (_byName.TryGetValue(name, out int v)) return v;
            v = NextPrime();
            _byName[name] = v;
            _byValue[v] = name;
            return v;
        }

        /// <summary>The name a size stands for, or its digits.</summary>
        public string Name(int value) => Name((long)value) ?? value.ToString(System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>A stand-in size's name, or a product with one (N·784 for an element count); null for a plain number.</summary>
        string? Name(long value)
        {
            if (value <= int.MaxValue && _byValue.TryGetValue((int)value, out var n)) return n;
            foreach (var kv in _byValue)
                if (value > kv.Key && value % kv.Key == 0)
                    return (Name(value / kv.Key) ?? (value / kv.Key).ToString(System.Globalization.CultureInfo.InvariantCulture)) + "·" + kv.Value;
            return null;
        }

        /// <summary>A rule's message with every stand-in size replaced by its name.</summary>
        public string Render(string message)
        {
            var sb = new StringBuilder(message.Length);
            for (int i = 0; i < message.Length;)
            {
                if (!char.IsDigit(message[i]) || i > 0 && (char.IsLetterOrDigit(message[i - 1]) || message[i - 1] == '.'))
                {
                    sb.Append(message[i++]);
                    continue;
                }
                int j = i;
                while (j < message.Length && char.IsDigit(message[j])) j++;
                string digits = message.Substring(i, j - i);
                bool whole = j >= message.Length || !char.IsLetter(message[j]) && message[j] != '.';
                sb.Append(whole && long.TryParse(digits, out long v) ? Name(v) ?? digits : digits);
                i = j;
            }
            return sb.ToString();
        }

        int NextPrime()
        {
            int n = _next;
            while (!IsPrime(n)) n++;
            _next = n + 1;
            return n;
        }

        static bool IsPrime(int n)
        {
            for (int d = 2; d * d <= n; d++) if (n % d == 0) return false;
            return n > 1;
        }
    }
}
