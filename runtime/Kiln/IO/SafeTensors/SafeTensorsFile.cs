using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Win32.SafeHandles;

namespace Kiln.IO;

/// <summary>
/// A safetensors file opened for lazy reading: the header is validated on open and each tensor is read from the file
/// only when <see cref="Get"/> asks for it. Dispose to close the file.
/// </summary>
/// <remarks>
/// Reads are positioned reads of an open handle, not a memory mapping: a file truncated by another process while it is
/// open then gives a <see cref="SafeTensorsFormatException"/> naming the offset, where a mapping would kill the process
/// with SIGBUS.
/// </remarks>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    readonly SafeFileHandle _handle;
    readonly long _length;
    readonly long _dataStart;
    readonly Dictionary<string, SafeTensorInfo> _entries = new();
    bool _disposed;

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    public SafeTensorsFile(string path)
    {
        Path = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            _length = RandomAccess.GetLength(_handle);
            if (_length < 8) throw new SafeTensorsFormatException(path, 0, $"file is {_length} bytes, too short for the 8-byte header length");
            Span<byte> len = stackalloc byte[8];
            ReadExactly(len, 0);
            ulong n = BitConverter.ToUInt64(len);
            // Only as much as the header may hold and the file has: Parse reports what is missing.
            long available = (long)Math.Min((ulong)_length - 8, Math.Min(n, (ulong)SafeTensorsHeader.MaxHeaderBytes));
            var start = new byte[8 + available];
            len.CopyTo(start);
            ReadExactly(start.AsSpan(8), 8);
            var (entries, metadata, dataStart) = SafeTensorsHeader.Parse(path, start, _length);
            _dataStart = dataStart;
            Metadata = metadata;
            foreach (var e in entries) _entries[e.Name] = e;
            Names = entries.ConvertAll(e => e.Name);
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();

    /// <summary>Tensor names in the order of their data.</summary>
    public IReadOnlyList<string> Names { get; } = Array.Empty<string>();

    /// <summary>Whether the file holds a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>A tensor's dtype, shape and byte range, without reading it.</summary>
    public SafeTensorInfo Info(string name) =>
        _entries.TryGetValue(name, out var e) ? e : throw new KilnException("safetensors", $"safetensors: {Path} has no tensor '{name}'", KilnErrorKind.Format);

    /// <summary>Reads tensor <paramref name="name"/> from the file into a new Kiln tensor.</summary>
    /// <exception cref="SafeTensorsFormatException">The file shrank since it was opened.</exception>
    public Tensor Get(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var e = Info(name);
        long now = RandomAccess.GetLength(_handle);
        if (now < _length)
            throw new SafeTensorsFormatException(Path, Math.Min(now, _dataStart + e.Begin), $"the file shrank from {_length} to {now} bytes while it was open");
        var t = Tensor.Empty(e.Shape, e.DType);
        try
        {
            long bytes = e.End - e.Begin;
            byte* p = t.DataPointer;
            for (long done = 0; done < bytes;)
            {
                int chunk = (int)Math.Min(1 << 30, bytes - done);
                ReadExactly(new Span<byte>(p + done, chunk), _dataStart + e.Begin + done);
                done += chunk;
            }
        }
        catch
        {
            t.Dispose();
            throw;
        }
        return t;
    }

    /// <summary>Every tensor, by name in the order of their data.</summary>
    public OrderedDictionary<string, Tensor> ReadAll()
    {
        var d = new OrderedDictionary<string, Tensor>();
        try
        {
            foreach (var n in Names) d[n] = Get(n);
        }
        catch
        {
            foreach (var t in d.Values) t.Dispose();
            throw;
        }
        return d;
    }

    void ReadExactly(Span<byte> into, long offset)
    {
        while (into.Length > 0)
        {
            int got = RandomAccess.Read(_handle, into, offset);
            if (got <= 0) throw new SafeTensorsFormatException(Path, offset, $"the file ends at byte {offset} (it was {_length} bytes when opened)");
            into = into[got..];
            offset += got;
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _handle.Dispose();
    }
}
