using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

/// <summary>
/// The values of one running graph by name, over those of the graph around it: a control-flow body reads its own
/// inputs and nodes' outputs first, then any value of the enclosing graphs (ONNX's outer-scope references).
/// </summary>
internal sealed class ValueScope(ValueScope? parent)
{
    readonly Dictionary<string, object?> _values = new();
    readonly ValueScope? _parent = parent;

    public void Set(string name, object? value) => _values[name] = value;

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s._parent)
            if (s._values.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }
}
