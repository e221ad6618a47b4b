using System;
using System.IO;
using System.IO.Compression;

namespace Kiln.TensorBoard;

/// <summary>A minimal PNG encoder (8-bit grey, RGB or RGBA, zlib-compressed, no filtering) for image summaries.</summary>
public static class Png
{
    /// <summary>Encodes <paramref name="pixels"/> (rows of width·channels bytes) as a PNG file.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        if (width <= 0 || height <= 0) throw new KilnException("png", $"png: image size must be positive, got {width}x{height}", KilnErrorKind.Shape);
        byte colorType = channels switch
        {
            1 => 0,
            3 => 2,
            4 => 6,
            _ => throw new KilnException("png", $"png: {channels} channels is not supported (1, 3 or 4)", KilnErrorKind.Unsupported),
        };
        if (pixels.Length != width * height * channels) throw new KilnException("png", $"png: expected {width * height * channels} bytes for {width}x{height}x{channels}, got {pixels.Length}");
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        WriteBigEndian(ihdr, 0, (uint)width);
        WriteBigEndian(ihdr, 4, (uint)height);
        ihdr[8] = 8; ihdr[9] = colorType;
        Chunk(ms, "IHDR", ihdr);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
                for (int y = 0; y < height; y++)
                {
                    z.WriteByte(0);   // filter: none
                    z.Write(pixels.Slice(y * width * channels, width * channels));
                }
            Chunk(ms, "IDAT", raw.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    static void Chunk(Stream s, string type, byte[] data)
    {
        var head = new byte[8];
        WriteBigEndian(head, 0, (uint)data.Length);
        for (int i = 0; i < 4; i++) head[4 + i] = (byte)type[i];
        s.Write(head);
        s.Write(data);
        var crcInput = new byte[4 + data.Length];
        Array.Copy(head, 4, crcInput, 0, 4);
        data.CopyTo(crcInput, 4);
        var crc = new byte[4];
        WriteBigEndian(crc, 0, Crc32(crcInput));
        s.Write(crc);
    }

    static readonly uint[] Table = Crc32C.BuildTable(0xEDB88320u);

    /// <summary>The zlib/PNG CRC-32 of <paramref name="data"/>.</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    static void WriteBigEndian(byte[] b, int at, uint v) { b[at] = (byte)(v >> 24); b[at + 1] = (byte)(v >> 16); b[at + 2] = (byte)(v >> 8); b[at + 3] = (byte)v; }
}
