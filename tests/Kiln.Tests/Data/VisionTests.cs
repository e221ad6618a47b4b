using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.Data;
using Kiln.Tests.Golden;
using Kiln.Vision;
using Xunit;

namespace Kiln.Tests.Data;

/// <summary>
/// ImageFolder and the image transforms against torchvision (tests/golden/make_vision_golden.py): the classes, the
/// samples' order and labels, the decoded pixels (PNG and BMP exactly; JPEG within 3/255, the decoders' IDCTs differ),
/// Resize, CenterCrop and Normalize within 1e-5.
/// </summary>
public class VisionTests : IDisposable
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "vision.json"))).RootElement;
    static string Images => Path.Combine(AppContext.BaseDirectory, "golden", "images");
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-vision-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    static Tensor Build(JsonElement spec) =>
        Tensor.From(spec.GetProperty("data").EnumerateArray().Select(e => (float)GoldenData.ReadDouble(e)).ToArray(),
            spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    static void Close(string what, JsonElement expected, Tensor actual, double tol)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.True(shape.SequenceEqual(actual.Shape), $"{what}: shape {actual.Shape}, torchvision [{string.Join(", ", shape)}]");
        var want = expected.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        var got = actual.ToArray<float>();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= tol, $"{what}[{i}]: {got[i]}, torchvision {want[i]}");
    }

    [Fact]
    public void ImageFolderReadsWhatTorchvisionReads()
    {
        var folder = Root.GetProperty("folder");
        var ds = new ImageFolder(Images);
        Assert.Equal(folder.GetProperty("classes").EnumerateArray().Select(e => e.GetString()), ds.Classes);
        var samples = folder.GetProperty("samples").EnumerateArray().ToArray();
        Assert.Equal(samples.Length, ds.Count);
        var images = folder.GetProperty("images").EnumerateArray().ToArray();
        for (int i = 0; i < ds.Count; i++)
        {
            string relative = Path.GetRelativePath(Images, ds.Samples[i].Path).Replace(Path.DirectorySeparatorChar, '/');
            Assert.Equal(samples[i][0].GetString(), relative);
            Assert.Equal(samples[i][1].GetInt64(), ds.Samples[i].Label);
            var (image, label) = ds[i];
            Assert.Equal(ds.Samples[i].Label, label);
            Close(relative, images[i], image, relative.EndsWith(".jpg") ? 3.0 / 255 : 1e-7);
        }
        Assert.Equal(1, ds.ClassToIndex["dog"]);
    }

    [Fact]
    public void TransformsMatchTorchvision()
    {
        var t = Root.GetProperty("transforms");
        using var image = Build(t.GetProperty("input"));
        Close("Resize(4)", t.GetProperty("resize_short_4"), Transforms.Resize(4)(image), 1e-5);
        Close("Resize(3, 5)", t.GetProperty("resize_3x5"), Transforms.Resize(3, 5)(image), 1e-5);
        Close("CenterCrop(3, 4)", t.GetProperty("center_crop_3x4"), Transforms.CenterCrop(3, 4)(image), 0);
        Close("CenterCrop(6, 9)", t.GetProperty("center_crop_pad_6x9"), Transforms.CenterCrop(6, 9)(image), 0);
        Close("Normalize", t.GetProperty("normalize"), Transforms.Normalize([0.5, 0.4, 0.3], [0.2, 0.25, 0.3])(image), 1e-5);
        using var flipped = Transforms.RandomVerticalFlip(p: 1)(image);
        Assert.Equal(image[.., 0].ToArray<float>(), flipped[.., ^1].ToArray<float>());
    }

    [Fact]
    public void BrokenImagesAndFoldersGiveClearErrors()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "a"));
        Assert.Contains("found no valid file", Assert.Throws<KilnException>(() => new ImageFolder(_dir)).Message);
        var png = File.ReadAllBytes(Path.Combine(Images, "cat", "a.png"));
        File.WriteAllBytes(Path.Combine(_dir, "a", "cut.png"), png[..(png.Length / 2)]);
        File.WriteAllBytes(Path.Combine(_dir, "a", "noise.png"), [1, 2, 3, 4, 5, 6, 7, 8]);
        var ds = new ImageFolder(_dir);
        Assert.Equal(2, ds.Count);
        foreach (int i in new[] { 0, 1 })
        {
            var e = Assert.Throws<KilnException>(() => ds[i]);
            Assert.Contains(ds.Samples[i].Path, e.Message);
        }
        Assert.Throws<KilnException>(() => new ImageFolder(Path.Combine(_dir, "missing")));
    }
}
