namespace Kiln.IO;

/// <summary>
/// The one exception a malformed or hostile safetensors file raises: it names the file and the byte offset where the
/// problem is (the header length, an entry's offsets, the JSON, or the data). Nothing is allocated or read past the
/// validated bounds before it is thrown.
/// </summary>
public sealed class SafeTensorsFormatException : KilnException
{
    /// <summary>Creates the exception for <paramref name="file"/> at byte <paramref name="offset"/>.</summary>
    public SafeTensorsFormatException(string file, long offset, string problem)
        : base("safetensors", $"safetensors: {file}: at byte {offset}: {problem}", KilnErrorKind.Format)
    {
        File = file;
        Offset = offset;
    }

    /// <summary>The file (or buffer name) that is malformed.</summary>
    public string File { get; }

    /// <summary>The byte offset of the problem within the file.</summary>
    public long Offset { get; }
}
