using System;
using System.Linq;

namespace Kiln.Data;

/// <summary>Image transforms (<c>torchvision.transforms</c>): each is a function from an image tensor to an image tensor.</summary>
public static class Transforms
{
    /// <summary>
    /// uint8 [H, W] or [H, W, C] → float [C, H, W] in [0, 1] (<c>ToTensor</c>); a floating image is returned with a channel
    /// dim added if it has none.
    /// </summary>
    public static Tensor ToTensor(Tensor image)
    {
        if (image.Dim != 2 && image.Dim != 3) throw new KilnException("ToTensor", $"ToTensor: expected an image [H, W] or [H, W, C], got [{string.Join(", ", image.Shape)}]", KilnErrorKind.Shape);
        if (image.DType.IsFloatingPoint()) return image.Dim == 2 ? image.Unsqueeze(0) : image;
        var chw = image.Dim == 2 ? image.Unsqueeze(0) : image.Permute(2, 0, 1);
        using var f = chw.To(DType.Float32);
        return f * (1.0 / 255);
    }

    /// <summary>(x - mean[c]) / std[c] per channel of a [C, H, W] image (<c>Normalize</c>).</summary>
    public static Func<Tensor, Tensor> Normalize(double[] mean, double[] std)
    {
        if (mean.Length != std.Length) throw new KilnException("Normalize", $"Normalize: mean has {mean.Length} values, std has {std.Length}");
        if (std.Any(s => s == 0)) throw new KilnException("Normalize", "Normalize: std evaluated to zero, leading to division by zero");
        var m = Tensor.From(mean.Select(v => (float)v).ToArray(), mean.Length, 1, 1);
        var s = Tensor.From(std.Select(v => (float)v).ToArray(), std.Length, 1, 1);
        return image =>
        {
            if (image.Dim != 3 || (image.Size(0) != mean.Length && mean.Length != 1))
                throw new KilnException("Normalize", $"Normalize: expected a [C, H, W] image with {mean.Length} channels, got [{string.Join(", ", image.Shape)}]", KilnErrorKind.Shape);
            return (image - m) / s;
        };
    }

    /// <summary>A random <paramref name="size"/>×<paramref name="size"/> crop after zero <paramref name="padding"/> (<c>RandomCrop</c>).</summary>
    public static Func<Tensor, Tensor> RandomCrop(int size, int padding = 0, Generator? generator = null)
    {
        if (size <= 0 || padding < 0) throw new KilnException("RandomCrop", $"RandomCrop: size must be positive and padding non-negative, got size={size}, padding={padding}", KilnErrorKind.Shape);
        return image =>
        {
            var x = padding > 0 ? NN.F.Pad(image, [padding, padding, padding, padding]) : image;
            int h = x.Size(-2), w = x.Size(-1);
            if (h < size || w < size) throw new KilnException("RandomCrop", $"RandomCrop: required crop size ({size}, {size}) is larger than the input image size ({h}, {w})", KilnErrorKind.Shape);
            using var draw = Tensor.RandInt(0, long.MaxValue, [2], DType.Int64, generator);
            var r = draw.ToArray<long>();
            int top = (int)(r[0] % (h - size + 1)), left = (int)(r[1] % (w - size + 1));
            return x.Narrow(x.Dim - 2, top, size).Narrow(x.Dim - 1, left, size).Contiguous();
        };
    }

    /// <summary>Mirrors the image left-right with probability <paramref name="p"/> (<c>RandomHorizontalFlip</c>).</summary>
    public static Func<Tensor, Tensor> RandomHorizontalFlip(double p = 0.5, Generator? generator = null) => image =>
    {
        using var u = Tensor.Rand([1], DType.Float64, generator);
        return u.Item<double>() < p ? image.Flip(image.Dim - 1) : image;
    };

    /// <summary>Mirrors the image top-bottom with probability <paramref name="p"/> (<c>RandomVerticalFlip</c>).</summary>
    public static Func<Tensor, Tensor> RandomVerticalFlip(double p = 0.5, Generator? generator = null) => image =>
    {
        using var u = Tensor.Rand([1], DType.Float64, generator);
        return u.Item<double>() < p ? image.Flip(image.Dim - 2) : image;
    };

    /// <summary>
    /// Resizes a [C, H, W] (or [N, C, H, W]) image bilinearly (<c>Resize</c>): to <paramref name="size"/> on the shorter side
    /// keeping the aspect ratio (torchvision's rounding down of the longer side).
    /// </summary>
    public static Func<Tensor, Tensor> Resize(int size) => image =>
    {
        CheckImage("Resize", image);
        int h = image.Size(-2), w = image.Size(-1);
        if (size <= 0) throw new KilnException("Resize", $"Resize: size must be positive, got {size}", KilnErrorKind.Shape);
        var (oh, ow) = h <= w ? (size, (int)((long)size * w / h)) : ((int)((long)size * h / w), size);
        return ResizeTo(image, oh, ow);
    };

    /// <summary>Resizes a [C, H, W] image bilinearly to exactly <paramref name="height"/> × <paramref name="width"/> (<c>Resize((h, w))</c>).</summary>
    public static Func<Tensor, Tensor> Resize(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new KilnException("Resize", $"Resize: size must be positive, got ({height}, {width})", KilnErrorKind.Shape);
        return image => { CheckImage("Resize", image); return ResizeTo(image, height, width); };
    }

    static Tensor ResizeTo(Tensor image, int height, int width)
    {
        if (image.Dim == 4) return NN.F.Interpolate(image, [height, width], mode: "bilinear");
        // As a batch of one [N, C, H, W]; a grey [H, W] image as one channel too.
        using var batch = image.Dim == 2 ? image.Reshape(1, 1, image.Size(0), image.Size(1)) : image.Unsqueeze(0);
        using var resized = NN.F.Interpolate(batch, [height, width], mode: "bilinear");
        return image.Dim == 2 ? resized.Reshape(height, width) : resized.Squeeze(0);
    }

    /// <summary>The central <paramref name="height"/> × <paramref name="width"/> region (<c>CenterCrop</c>); a smaller image is zero-padded first.</summary>
    public static Func<Tensor, Tensor> CenterCrop(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new KilnException("CenterCrop", $"CenterCrop: size must be positive, got ({height}, {width})", KilnErrorKind.Shape);
        return image =>
        {
            CheckImage("CenterCrop", image);
            int h = image.Size(-2), w = image.Size(-1);
            var x = image;
            if (h < height || w < width)
            {
                // torchvision pads the short sides (left/top get the floor half) before cropping.
                int padW = Math.Max(0, width - w), padH = Math.Max(0, height - h);
                x = NN.F.Pad(image, [padW / 2, (padW + 1) / 2, padH / 2, (padH + 1) / 2]);
                h = x.Size(-2); w = x.Size(-1);
            }
            // Python's round (ties to even), as torchvision computes the offsets.
            int top = (int)Math.Round((h - height) / 2.0, MidpointRounding.ToEven), left = (int)Math.Round((w - width) / 2.0, MidpointRounding.ToEven);
            using var rows = x.Narrow(x.Dim - 2, top, height);
            using var crop = rows.Narrow(x.Dim - 1, left, width);
            var result = crop.Contiguous();
            if (!ReferenceEquals(x, image)) x.Dispose();
            return result;
        };
    }

    /// <summary>A square central crop.</summary>
    public static Func<Tensor, Tensor> CenterCrop(int size) => CenterCrop(size, size);

    static void CheckImage(string op, Tensor image)
    {
        if (image.Dim < 2 || image.Dim > 4)
            throw new KilnException(op, $"{op}: expected an image [C, H, W] (or [N, C, H, W]), got [{string.Join(", ", image.Shape)}]", KilnErrorKind.Shape);
    }

    /// <summary>Applies the transforms in order (<c>Compose</c>).</summary>
    public static Func<Tensor, Tensor> Compose(params Func<Tensor, Tensor>[] transforms) => image =>
    {
        foreach (var t in transforms) image = t(image);
        return image;
    };
}
