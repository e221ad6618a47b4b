using System.Reflection;

namespace Kiln.NN;

/// <summary>What a module member is.</summary>
internal enum SlotKind { Parameter, Buffer, Module }

/// <summary>
/// One named member of a module. Explicit registrations hold the value; members found by reflection read and
/// write the field itself, so reassigning the field is seen.
/// </summary>
internal sealed class Slot
{
    readonly object? _owner;
    readonly FieldInfo? _field;
    object? _value;

    public Slot(string name, SlotKind kind, object? value) { Name = name; Kind = kind; _value = value; }

    public Slot(string name, SlotKind kind, object owner, FieldInfo field) { Name = name; Kind = kind; _owner = owner; _field = field; }

    /// <summary>A member read and written through generated accessors (no reflection).</summary>
    public Slot(string name, SlotKind kind, System.Func<object?> get, System.Action<object?>? set) { Name = name; Kind = kind; _get = get; _set = set; }

    readonly System.Func<object?>? _get;
    readonly System.Action<object?>? _set;

    public string Name { get; }
    public SlotKind Kind { get; }
    public bool Persistent { get; init; } = true;

    /// <summary>Whether the module registered the value itself (not a field read by reflection or generated accessors).</summary>
    public bool IsRegistered => _get == null && _field == null;

    public object? Value
    {
        get => _get != null ? _get() : _field != null ? _field.GetValue(_owner) : _value;
        set
        {
            if (_get != null)
            {
                if (_set == null) throw new KilnException("register", $"member '{Name}' is a readonly field and cannot be reassigned");
                _set(value);
            }
            else if (_field != null) _field.SetValue(_owner, value);
            else _value = value;
        }
    }
}
