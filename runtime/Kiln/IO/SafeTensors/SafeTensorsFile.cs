using System;
using System.Collections.Generic;
using System.IO;
using System.IO.MemoryMappedFiles;

namespace Kiln.IO;

/// <summary>
/// A safetensors file opened for lazy reading: the header is validated on open, the data stays memory-mapped, and each
/// tensor is copied out only when <see cref="Get"/> asks for it. Dispose to unmap.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _base;
    readonly long _dataStart;
    readonly Dictionary<string, SafeTensorInfo> _entries = new();
    bool _disposed;

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    public SafeTensorsFile(string path)
    {
        Path = path;
        long length = new FileInfo(path).Length;
        if (length < 8) throw new SafeTensorsFormatException(path, 0, $"file is {length} bytes, too short for the 8-byte header length");
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            _view = _map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _base = p + _view.PointerOffset;
            ulong n = *(ulong*)_base;
            long available = (long)Math.Min((ulong)length, Math.Min(n, (ulong)SafeTensorsHeader.MaxHeaderBytes) + 8);
            var (entries, metadata, dataStart) = SafeTensorsHeader.Parse(path, new ReadOnlySpan<byte>(_base, (int)available), length);
            _dataStart = dataStart;
            Metadata = metadata;
            foreach (var e in entries) _entries[e.Name] = e;
            Names = entries.ConvertAll(e => e.Name);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();

    /// <summary>Tensor names in file order.</summary>
    public IReadOnlyList<string> Names { get; } = Array.Empty<string>();

    /// <summary>A tensor's dtype, shape and byte range, without reading it.</summary>
    public SafeTensorInfo Info(string name) =>
        _entries.TryGetValue(name, out var e) ? e : throw new KilnException("safetensors", $"safetensors: {Path} has no tensor '{name}'");

    /// <summary>Copies tensor <paramref name="name"/> out of the mapping into a new Kiln tensor.</summary>
    public Tensor Get(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var e = Info(name);
        var t = Tensor.Empty(e.Shape, e.DType);
        long bytes = e.End - e.Begin;
        Buffer.MemoryCopy(_base + _dataStart + e.Begin, t.DataPointer, bytes, bytes);
        return t;
    }

    /// <summary>Every tensor, by name in file order.</summary>
    public OrderedDictionary<string, Tensor> ReadAll()
    {
        var d = new OrderedDictionary<string, Tensor>();
        foreach (var n in Names) d[n] = Get(n);
        return d;
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view != null)
        {
            if (_base != null) _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
