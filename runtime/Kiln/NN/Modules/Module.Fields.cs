using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Reflection;

namespace Kiln.NN;

public abstract partial class Module
{
    static readonly ConcurrentDictionary<Type, FieldInfo[]> FieldCache = new();

    /// <summary>
    /// The reflection fallback: registers fields holding modules or trainable tensors, named after the field
    /// (<c>_layer1</c> and an auto-property's backing field both give <c>layer1</c>/<c>Layer1</c> as written).
    /// Runs once, the first time members are enumerated, so fields assigned in the constructor are seen.
    /// </summary>
    void EnsureFields()
    {
        if (_fieldsScanned) return;
        _fieldsScanned = true;
        foreach (var f in FieldCache.GetOrAdd(GetType(), CandidateFields))
        {
            string name = MemberName(f.Name);
            if (_byName.ContainsKey(name)) continue;
            object? value = f.GetValue(this);
            if (value != null && IsRegistered(value)) continue; // a property caching an explicitly registered member
            var buffer = f.GetCustomAttribute<BufferAttribute>() ?? PropertyAttribute<BufferAttribute>(f);
            bool markedParam = f.GetCustomAttribute<ParameterAttribute>() != null || PropertyAttribute<ParameterAttribute>(f) != null;
            if (typeof(Module).IsAssignableFrom(f.FieldType))
            {
                if (ReferenceEquals(value, this)) continue;
                Add(new Slot(name, SlotKind.Module, this, f));
            }
            else if (f.FieldType == typeof(Tensor))
            {
                if (buffer != null) Add(new Slot(name, SlotKind.Buffer, this, f) { Persistent = buffer.Persistent });
                else if (markedParam || value is Tensor { RequiresGrad: true, IsLeaf: true }) Add(new Slot(name, SlotKind.Parameter, this, f));
            }
        }

        void Add(Slot s) { _slots.Add(s); _byName[s.Name] = s; }
    }

    bool IsRegistered(object value)
    {
        foreach (var s in _slots)
            if (ReferenceEquals(s.Value, value)) return true;
        return false;
    }

    static T? PropertyAttribute<T>(FieldInfo backing) where T : Attribute
    {
        if (!backing.Name.StartsWith('<')) return null;
        var prop = backing.DeclaringType!.GetProperty(MemberName(backing.Name), BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        return prop?.GetCustomAttribute<T>();
    }

    static FieldInfo[] CandidateFields(Type type)
    {
        // Base classes first, each in declaration order (the order PyTorch users assign attributes in).
        var chain = new List<Type>();
        for (var t = type; t != null && t != typeof(Module); t = t.BaseType) chain.Insert(0, t);
        var result = new List<FieldInfo>();
        foreach (var t in chain)
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (f.GetCustomAttribute<NotAMemberAttribute>() != null || PropertyAttribute<NotAMemberAttribute>(f) != null) continue;
                if (typeof(Module).IsAssignableFrom(f.FieldType) || f.FieldType == typeof(Tensor)) result.Add(f);
            }
        return result.ToArray();
    }

    static string MemberName(string field)
    {
        if (field.StartsWith('<'))
        {
            int end = field.IndexOf('>');
            return field.Substring(1, end - 1);
        }
        if (field.StartsWith("m_", StringComparison.Ordinal)) return field.Substring(2);
        return field.TrimStart('_');
    }
}
