using System.Collections.Generic;
using System.Text;

namespace Kiln.NN;

public abstract partial class Module
{
    /// <summary>The name printed for this module (the class name, as PyTorch prints <c>type(self).__name__</c>).</summary>
    protected virtual string TypeName => GetType().Name;

    /// <summary>The module's own settings printed inside its parentheses (<c>extra_repr</c>), e.g. <c>in_features=784, out_features=128, bias=True</c>.</summary>
    public virtual string ExtraRepr() => "";

    /// <summary>The module tree as PyTorch's <c>print(model)</c> writes it.</summary>
    public override string ToString()
    {
        var lines = new List<string>();
        var extra = ExtraRepr();
        int extraCount = 0;
        if (extra.Length > 0) { lines.AddRange(extra.Split('\n')); extraCount = lines.Count; }
        int children = 0;
        foreach (var s in Slots)
        {
            if (s.Kind != SlotKind.Module) continue;
            children++;
            string child = s.Value is Module m ? Indent(m.ToString(), 2) : "None";
            lines.Add("(" + s.Name + "): " + child);
        }
        // PyTorch swaps a parametrized module's class for a subclass named "Parametrized" + the class name.
        var sb = new StringBuilder(IsParametrized(null) ? "Parametrized" + TypeName : TypeName).Append('(');
        if (lines.Count > 0)
        {
            if (extraCount == 1 && children == 0) sb.Append(lines[0]);
            else sb.Append("\n  ").Append(string.Join("\n  ", lines)).Append('\n');
        }
        return sb.Append(')').ToString();
    }

    static string Indent(string text, int spaces)
    {
        var parts = text.Split('\n');
        if (parts.Length == 1) return text;
        var pad = new string(' ', spaces);
        for (int i = 1; i < parts.Length; i++) parts[i] = pad + parts[i];
        return string.Join("\n", parts);
    }

    /// <summary>Python's spelling of a bool in printed settings.</summary>
    protected static string Py(bool b) => b ? "True" : "False";

    /// <summary>Python's spelling of a float in printed settings (<c>1e-05</c>, <c>0.1</c>, <c>1.0</c>).</summary>
    protected static string Py(double d) => PyFormat.Float(d);

    /// <summary>Python's tuple spelling, <c>(3, 3)</c>.</summary>
    protected static string Py(int[] t) => t.Length == 1 ? $"({t[0]},)" : "(" + string.Join(", ", t) + ")";
}
