using System;
using System.Collections.Generic;
using System.IO;
using Kiln.Data;
using SkiaSharp;

namespace Kiln.Vision;

/// <summary>
/// Images in one sub-folder per class (<c>torchvision.datasets.ImageFolder</c>): classes are the sub-folder names in
/// ordinal order, samples the image files below each (recursively, sorted by path), labels the class indices. A sample is
/// (image, label) with the image a float [3, H, W] tensor in [0, 1] (RGB, alpha dropped) after the optional transform.
/// </summary>
public sealed class ImageFolder : Dataset<(Tensor Image, long Label)>
{
    /// <summary>The file extensions taken (torchvision's list, less the formats Skia does not read).</summary>
    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"];

    readonly Func<Tensor, Tensor>? _transform;

    /// <summary>Indexes <paramref name="root"/>; images are decoded when a sample is read.</summary>
    public ImageFolder(string root, Func<Tensor, Tensor>? transform = null)
    {
        if (!Directory.Exists(root)) throw new KilnException("ImageFolder", $"ImageFolder: {root} is not a folder");
        Root = root;
        _transform = transform;
        var classes = new List<string>();
        foreach (var d in Directory.GetDirectories(root)) classes.Add(Path.GetFileName(d));
        classes.Sort(StringComparer.Ordinal);
        if (classes.Count == 0) throw new KilnException("ImageFolder", $"ImageFolder: couldn't find any class folder in {root}");
        var samples = new List<(string, long)>();
        var toIndex = new Dictionary<string, int>();
        for (int c = 0; c < classes.Count; c++)
        {
            toIndex[classes[c]] = c;
            var files = new List<string>();
            foreach (var f in Directory.EnumerateFiles(Path.Combine(root, classes[c]), "*", SearchOption.AllDirectories))
                if (Array.IndexOf(Extensions, Path.GetExtension(f).ToLowerInvariant()) >= 0) files.Add(f);
            // torchvision's order: folders in ordinal order (a folder before its sub-folders), files by name within each.
            files.Sort((a, b) =>
            {
                int byFolder = string.CompareOrdinal(Path.GetDirectoryName(a), Path.GetDirectoryName(b));
                return byFolder != 0 ? byFolder : string.CompareOrdinal(Path.GetFileName(a), Path.GetFileName(b));
            });
            foreach (var f in files) samples.Add((f, c));
        }
        if (samples.Count == 0)
            throw new KilnException("ImageFolder", $"ImageFolder: found no valid file for the classes {string.Join(", ", classes)} in {root}. Supported extensions are: {string.Join(", ", Extensions)}");
        Classes = classes;
        ClassToIndex = toIndex;
        Samples = samples;
    }

    /// <summary>The folder.</summary>
    public string Root { get; }
    /// <summary>Class names, by label.</summary>
    public IReadOnlyList<string> Classes { get; }
    /// <summary>Label of each class name (<c>class_to_idx</c>).</summary>
    public IReadOnlyDictionary<string, int> ClassToIndex { get; }
    /// <summary>Every (file, label), in order (<c>samples</c>).</summary>
    public IReadOnlyList<(string Path, long Label)> Samples { get; }

    /// <inheritdoc/>
    public override int Count => Samples.Count;

    /// <inheritdoc/>
    public override (Tensor Image, long Label) this[int index]
    {
        get
        {
            CheckIndex(index);
            var (path, label) = Samples[index];
            using var pixels = ImageFile.ReadRgb(path);
            var image = Transforms.ToTensor(pixels);
            if (_transform != null)
            {
                var t = _transform(image);
                if (!ReferenceEquals(t, image)) image.Dispose();
                image = t;
            }
            return (image, label);
        }
    }
}

/// <summary>Decoding of one image file into a uint8 [H, W, 3] RGB tensor, defensively: size-limited, errors name the file.</summary>
public static class ImageFile
{
    /// <summary>Largest image decoded (pixels): a crafted header cannot make the decoder allocate more.</summary>
    public const long MaxPixels = 100_000_000;

    /// <summary>Reads <paramref name="path"/> as RGB bytes [H, W, 3] (PIL's <c>Image.open(path).convert("RGB")</c>).</summary>
    public static Tensor ReadRgb(string path)
    {
        using var stream = File.OpenRead(path);
        using var codec = SKCodec.Create(stream, out var result);
        if (codec is null)
            throw new KilnException("ImageFile", $"ImageFile: {path} is not an image Skia can read ({result})");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > MaxPixels)
            throw new KilnException("ImageFile", $"ImageFile: {path} declares {info.Width}x{info.Height} pixels (at most {MaxPixels} are read)");
        var rgba = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(rgba);
        var decoded = codec.GetPixels(rgba, bitmap.GetPixels());
        if (decoded is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new KilnException("ImageFile", $"ImageFile: {path} could not be decoded ({decoded})");
        if (decoded == SKCodecResult.IncompleteInput)
            throw new KilnException("ImageFile", $"ImageFile: {path} is truncated (the decoder ran out of data)");
        var t = Tensor.Empty([info.Height, info.Width, 3], DType.UInt8);
        ReadOnlySpan<byte> src = bitmap.GetPixelSpan();
        var dst = t.AsSpan<byte>();
        for (int i = 0, j = 0; j < dst.Length; i += 4, j += 3)
        {
            dst[j] = src[i];
            dst[j + 1] = src[i + 1];
            dst[j + 2] = src[i + 2];
        }
        return t;
    }
}
