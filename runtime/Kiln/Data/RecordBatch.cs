using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace Kiln.Data;

/// <summary>
/// A batch of record samples, field by field (PyTorch's default collate of a dict or named tuple): tensors stacked,
/// numbers as 1-D tensors (int/long → int64, float → float32, double → float64, bool → bool), strings as a string
/// array, nested records as nested batches. Fields keep the record's member names: <c>batch["Image"]</c>.
/// </summary>
public sealed class RecordBatch : IReadOnlyDictionary<string, object>
{
    readonly Dictionary<string, object> _fields;
    readonly string[] _order;

    internal RecordBatch(string[] order, Dictionary<string, object> fields, int size)
    {
        _order = order;
        _fields = fields;
        Size = size;
    }

    /// <summary>How many samples the batch holds.</summary>
    public int Size { get; }

    /// <summary>A field as what it collated to (a <see cref="Kiln.Tensor"/>, a string array or a nested batch).</summary>
    public object this[string name] => _fields.TryGetValue(name, out var v) ? v
        : throw new KeyNotFoundException($"collate: the batch has no field '{name}' (fields: {string.Join(", ", _order)})");

    /// <summary>A field that collated to a tensor.</summary>
    public Tensor Tensor(string name) => this[name] as Tensor
        ?? throw new InvalidCastException($"collate: field '{name}' is a {this[name].GetType().Name}, not a tensor");

    /// <summary>A field of a nested record.</summary>
    public RecordBatch Nested(string name) => this[name] as RecordBatch
        ?? throw new InvalidCastException($"collate: field '{name}' is a {this[name].GetType().Name}, not a nested record");

    /// <summary>A field that collated to a string array.</summary>
    public string[] Strings(string name) => this[name] as string[]
        ?? throw new InvalidCastException($"collate: field '{name}' is a {this[name].GetType().Name}, not strings");

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _order;
    /// <inheritdoc/>
    public IEnumerable<object> Values => _order.Select(k => _fields[k]);
    /// <inheritdoc/>
    public int Count => _order.Length;
    /// <inheritdoc/>
    public bool ContainsKey(string key) => _fields.ContainsKey(key);
    /// <inheritdoc/>
    public bool TryGetValue(string key, out object value) => _fields.TryGetValue(key, out value!);
    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
    {
        foreach (var k in _order) yield return new(k, _fields[k]);
    }
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Collates samples of any record, class, struct or tuple type by its public properties and fields.</summary>
    internal static RecordBatch From(Type type, IReadOnlyList<object?> samples)
    {
        var members = RecordMembers.Of(type);
        var fields = new Dictionary<string, object>(members.Length);
        var column = new object?[samples.Count];
        foreach (var m in members)
        {
            for (int i = 0; i < samples.Count; i++)
                column[i] = samples[i] is { } s ? m.Read(s)
                    : throw new KilnException("collate", $"collate: sample {i} is null");
            fields[m.Name] = Field(type, m, column);
        }
        return new RecordBatch(members.Select(m => m.Name).ToArray(), fields, samples.Count);
    }

    /// <summary>Unboxed values as a 1-D tensor of their own type.</summary>
    static Tensor Numbers<T>(object?[] column) where T : unmanaged
    {
        var a = new T[column.Length];
        for (int i = 0; i < a.Length; i++) a[i] = (T)column[i]!;
        return Kiln.Tensor.From(a, a.Length);
    }

    static object Field(Type owner, RecordMembers.Member m, object?[] column)
    {
        var t = m.Type;
        if (t == typeof(Tensor))
        {
            var ts = new Tensor[column.Length];
            for (int i = 0; i < ts.Length; i++)
                ts[i] = column[i] as Tensor ?? throw new KilnException("collate", $"collate: field '{m.Name}' of sample {i} is null");
            try { return Kiln.Tensor.Stack(ts, 0); }
            catch (KilnException e) { throw new KilnException("collate", $"collate: field '{m.Name}' of {owner.Name}: {e.Message}"); }
        }
        if (t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte))
        {
            var a = new long[column.Length];
            for (int i = 0; i < a.Length; i++) a[i] = Convert.ToInt64(column[i]);
            return Kiln.Tensor.From(a, a.Length);
        }
        if (t == typeof(float)) return Numbers<float>(column);
        if (t == typeof(double)) return Numbers<double>(column);
        if (t == typeof(bool)) return Numbers<bool>(column);
        if (t == typeof(string))
        {
            var a = new string[column.Length];
            for (int i = 0; i < a.Length; i++) a[i] = (string?)column[i] ?? "";
            return a;
        }
        if (RecordMembers.Of(t).Length > 0 && !t.IsArray && !typeof(IEnumerable).IsAssignableFrom(t))
            return From(t, column);
        throw new KilnException("collate", $"collate: field '{m.Name}' of {owner.Name} has type {t.Name}, which the default collate does not batch; pass a collate function");
    }
}

/// <summary>The public instance properties and fields of a type, in declaration order, read through cached reflection.</summary>
internal static class RecordMembers
{
    internal sealed record Member(string Name, Type Type, Func<object, object?> Read);

    static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, Member[]> Cache = new();

    public static Member[] Of(Type type) => Cache.GetOrAdd(type, t =>
    {
        var found = new List<(int Token, Member M)>();
        foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (p.GetIndexParameters().Length == 0 && p.CanRead && p.Name != "EqualityContract")
                found.Add((p.MetadataToken, new Member(p.Name, p.PropertyType, p.GetValue)));
        foreach (var f in t.GetFields(BindingFlags.Public | BindingFlags.Instance))
            found.Add((f.MetadataToken, new Member(f.Name, f.FieldType, f.GetValue)));
        found.Sort((a, b) => a.Token.CompareTo(b.Token));
        return found.Select(x => x.M).ToArray();
    });
}
