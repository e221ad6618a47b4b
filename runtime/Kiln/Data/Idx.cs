using System;
using System.IO;
using System.IO.Compression;

namespace Kiln.Data;

/// <summary>
/// The IDX format of MNIST-style files (optionally gzip-compressed): a magic number giving the element type and rank,
/// big-endian sizes, then the data. Validated before reading: a bad file raises a <see cref="KilnException"/> naming the
/// file and the offset.
/// </summary>
public static class Idx
{
    /// <summary>Reads an unsigned-byte IDX file (images or labels) as a uint8 tensor of its shape.</summary>
    /// <remarks>
    /// The header is read first and the data read straight into the tensor: a compressed file is never decompressed
    /// past the size its header declares (a gzip bomb stops there), and corrupt compressed data is a
    /// <see cref="KilnException"/> naming the file.
    /// </remarks>
    public static unsafe Tensor ReadBytes(string path)
    {
        using var file = File.OpenRead(path);
        using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? (Stream)new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            Span<byte> head = stackalloc byte[4 + 4 * 4];
            int got = ReadUpTo(stream, head[..4]);
            if (got == 4 && head[3] is >= 1 and <= 4) got += ReadUpTo(stream, head.Slice(4, 4 * head[3]));
            var (shape, count) = Header(head[..got], path);
            int start = 4 + 4 * shape.Length;
            var t = Tensor.Empty(shape, DType.UInt8);
            try
            {
                int data = ReadUpTo(stream, new Span<byte>(t.DataPointer, (int)count));
                if (data != count) throw Bad(path, start + data, $"expected {count} data bytes for shape [{string.Join(", ", shape)}], found {data}");
                Span<byte> extra = stackalloc byte[1];
                if (ReadUpTo(stream, extra) != 0) throw Bad(path, start + count, $"data continues past the {count} bytes its header declares for shape [{string.Join(", ", shape)}]");
            }
            catch
            {
                t.Dispose();
                throw;
            }
            return t;
        }
        catch (InvalidDataException e)
        {
            throw new KilnException("idx", $"idx: {path}: the compressed data is corrupt: {e.Message}", e);
        }
    }

    static int ReadUpTo(Stream s, Span<byte> into)
    {
        int total = 0;
        while (total < into.Length)
        {
            int n = s.Read(into[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>Parses IDX bytes; <paramref name="name"/> appears in errors.</summary>
    public static unsafe Tensor Parse(ReadOnlySpan<byte> bytes, string name)
    {
        var (shape, count) = Header(bytes, name);
        int start = 4 + 4 * shape.Length;
        if (bytes.Length - start != count)
            throw Bad(name, start, $"expected {count} data bytes for shape [{string.Join(", ", shape)}], found {bytes.Length - start}");
        var t = Tensor.Empty(shape, DType.UInt8);
        bytes.Slice(start, (int)count).CopyTo(new Span<byte>(t.DataPointer, (int)count));
        return t;
    }

    /// <summary>The magic number and sizes at the start of <paramref name="bytes"/>: the shape and its element count.</summary>
    static (int[] Shape, long Count) Header(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 4) throw Bad(name, 0, $"file is {bytes.Length} bytes, too short for the IDX magic number");
        if (bytes[0] != 0 || bytes[1] != 0) throw Bad(name, 0, "not an IDX file (the magic number must start with two zero bytes)");
        if (bytes[2] != 0x08) throw Bad(name, 2, $"element type 0x{bytes[2]:X2} is not unsigned byte (0x08)");
        int rank = bytes[3];
        if (rank < 1 || rank > 4) throw Bad(name, 3, $"rank {rank} is not between 1 and 4");
        if (bytes.Length < 4 + 4 * rank) throw Bad(name, 4, "file ends inside the dimension sizes");
        var shape = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = (uint)(bytes[4 + 4 * i] << 24 | bytes[5 + 4 * i] << 16 | bytes[6 + 4 * i] << 8 | bytes[7 + 4 * i]);
            if (d > int.MaxValue) throw Bad(name, 4 + 4 * i, $"dimension {i} has size {d}");
            shape[i] = (int)d;
            count *= d;
            if (count > int.MaxValue) throw Bad(name, 4 + 4 * i, "the data would exceed 2 GB");
        }
        return (shape, count);
    }

    static KilnException Bad(string name, long offset, string problem) => new("idx", $"idx: {name}: at byte {offset}: {problem}");
}

/// <summary>
/// MNIST-style image classification data from IDX files (<c>torchvision.datasets.MNIST</c>): samples are (image, label)
/// with the image a float tensor [1, 28, 28] in [0, 1] after the optional transform.
/// </summary>
public class MnistLike : Dataset<(Tensor Image, long Label)>
{
    readonly Tensor _images, _labels;
    readonly Func<Tensor, Tensor>? _transform;
    readonly byte[] _labelBytes;

    private protected MnistLike(string name, string root, bool train, Func<Tensor, Tensor>? transform, string howToGet)
    {
        string prefix = train ? "train" : "t10k";
        string images = Path.Combine(root, $"{prefix}-images-idx3-ubyte.gz"), labels = Path.Combine(root, $"{prefix}-labels-idx1-ubyte.gz");
        foreach (var f in new[] { images, labels })
            if (!File.Exists(f)) throw new KilnException(name, $"{name}: {f} not found. {howToGet}");
        _images = Idx.ReadBytes(images);
        _labels = Idx.ReadBytes(labels);
        if (_images.Dim != 3 || _labels.Dim != 1 || _images.Size(0) != _labels.Size(0))
            throw new KilnException(name, $"{name}: images [{string.Join(", ", _images.Shape)}] and labels [{string.Join(", ", _labels.Shape)}] do not match", KilnErrorKind.Shape);
        _labelBytes = _labels.ToArray<byte>();
        _transform = transform;
        Root = root;
    }

    /// <summary>The folder holding the IDX files.</summary>
    public string Root { get; }

    /// <inheritdoc/>
    public override int Count => _labelBytes.Length;

    /// <summary>All images as uint8 [N, 28, 28] (for fast whole-set processing).</summary>
    public Tensor RawImages => _images;

    /// <summary>All labels as uint8 [N].</summary>
    public Tensor RawLabels => _labels;

    /// <inheritdoc/>
    public override (Tensor Image, long Label) this[int index]
    {
        get
        {
            CheckIndex(index);
            using var raw = _images.Select(0, index);
            var image = Transforms.ToTensor(raw);
            if (_transform != null) image = _transform(image);
            return (image, _labelBytes[index]);
        }
    }
}

/// <summary>Fashion-MNIST (Zalando): 60,000 training and 10,000 test 28×28 grey images of 10 clothing classes.</summary>
public sealed class FashionMnist : MnistLike
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package puts the files.</summary>
    public const string DefaultRoot = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class names, by label.</summary>
    public static readonly string[] Classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads the training or test split from <paramref name="root"/> (the Debian package's folder by default).</summary>
    public FashionMnist(bool train = true, string? root = null, Func<Tensor, Tensor>? transform = null)
        : base("FashionMnist", root ?? DefaultRoot, train, transform,
            "Install it with `sudo apt-get install dataset-fashion-mnist` (files land in " + DefaultRoot + "), or download the four *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist into a folder and pass it as root.")
    { }
}

/// <summary>MNIST handwritten digits (the IDX files in <c>root</c>).</summary>
public sealed class Mnist : MnistLike
{
    /// <summary>Loads the training or test split from <paramref name="root"/>.</summary>
    public Mnist(string root, bool train = true, Func<Tensor, Tensor>? transform = null)
        : base("Mnist", root, train, transform,
            "Put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (from the MNIST distribution) in that folder.")
    { }
}
