using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Kiln.Data;
using Xunit;

namespace Kiln.Tests.DataTests;

/// <summary>The embedded digits, IDX/MNIST reading, transforms, CSV and text datasets.</summary>
public class DatasetTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-data-" + Guid.NewGuid().ToString("N"));

    public DatasetTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    [Fact]
    public void EmbeddedDigitsAreThe1797UciImages()
    {
        var train = new Digits();
        var test = new Digits(train: false);
        Assert.Equal(1438, train.Count);
        Assert.Equal(359, test.Count);
        Assert.Equal(1797, new Digits(all: true).Count);
        var (image, label) = new Digits(all: true)[0];
        Assert.Equal(new[] { 1, 8, 8 }, image.Shape);
        Assert.Equal(0, label);
        // The first UCI row: 0,0,5,13,9,1,0,0 / 16.
        Assert.Equal(new[] { 0f, 0f, 5 / 16f, 13 / 16f, 9 / 16f, 1 / 16f, 0f, 0f }, image[0, 0].ToArray<float>());
        var (x, y) = test.AsTensors();
        Assert.Equal(new[] { 359, 64 }, x.Shape);
        Assert.All(y.ToArray<long>(), v => Assert.InRange(v, 0, 9));
        Assert.Equal(10, y.ToArray<long>().Distinct().Count());
        Assert.InRange(x.Max().Item<float>(), 0.99f, 1f);
    }

    static byte[] IdxBytes(byte[] header, byte[] data) => header.Concat(data).ToArray();

    [Fact]
    public void IdxFilesAreParsedAndValidated()
    {
        var images = IdxBytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3], Enumerable.Range(0, 12).Select(i => (byte)(i * 20)).ToArray());
        var t = Idx.Parse(images, "imgs");
        Assert.Equal(new[] { 2, 2, 3 }, t.Shape);
        Assert.Equal(DType.UInt8, t.DType);
        Assert.Equal(220, t[1, 1, 2].To(DType.Int64).Item<long>());
        Assert.Contains("imgs: at byte 16: expected 12 data bytes", Assert.Throws<KilnException>(() => Idx.Parse(images.AsSpan(0, 20), "imgs")).Message);
        Assert.Contains("element type 0x0D", Assert.Throws<KilnException>(() => Idx.Parse(new byte[] { 0, 0, 0x0D, 1, 0, 0, 0, 0 }, "f")).Message);
        Assert.Contains("not an IDX file", Assert.Throws<KilnException>(() => Idx.Parse(new byte[] { 1, 2, 3, 4 }, "f")).Message);
    }

    [Fact]
    public void MnistFolderIsReadAndMissingFilesSayHowToGetThem()
    {
        void Write(string name, byte[] bytes)
        {
            using var f = File.Create(Path.Combine(_dir, name));
            using var gz = new GZipStream(f, CompressionLevel.Fastest);
            gz.Write(bytes);
        }
        var pixels = new byte[3 * 28 * 28];
        pixels[28 * 28 + 5] = 255;
        Write("t10k-images-idx3-ubyte.gz", IdxBytes([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28], pixels));
        Write("t10k-labels-idx1-ubyte.gz", IdxBytes([0, 0, 8, 1, 0, 0, 0, 3], [7, 2, 1]));
        var ds = new Mnist(_dir, train: false);
        Assert.Equal(3, ds.Count);
        var (image, label) = ds[1];
        Assert.Equal(2, label);
        Assert.Equal(new[] { 1, 28, 28 }, image.Shape);
        Assert.Equal(1f, image[0, 0, 5].Item<float>());
        var e = Assert.Throws<KilnException>(() => new FashionMnist(root: Path.Combine(_dir, "nowhere")));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains("train-images-idx3-ubyte.gz not found", e.Message);
    }

    [Fact]
    public void TransformsMatchTorchvisionSemantics()
    {
        var hwc = Tensor.From(new long[] { 0, 255, 51, 102 }, 1, 2, 2).To(DType.UInt8);   // H=1, W=2, C=2
        var chw = Transforms.ToTensor(hwc);
        Assert.Equal(new[] { 2, 1, 2 }, chw.Shape);
        Assert.Equal(new[] { 0f, 0.2f, 1f, 0.4f }, chw.ToArray<float>().Select(v => MathF.Round(v, 5)));
        var norm = Transforms.Normalize([0.5, 0.5], [0.5, 0.25])(chw);
        Assert.Equal(-1f, norm[0, 0, 0].Item<float>(), 5);
        Assert.Equal(2f, norm[1, 0, 0].Item<float>(), 5);
        var img = Tensor.Arange(0, 16, 1, DType.Float32).Reshape(1, 4, 4);
        var flipped = Transforms.RandomHorizontalFlip(1.0)(img);
        Assert.Equal(new[] { 3f, 2f, 1f, 0f }, flipped[0, 0].ToArray<float>());
        Assert.Same(img, Transforms.RandomHorizontalFlip(0.0)(img));
        var crop = Transforms.RandomCrop(3, padding: 1, generator: new Generator(4));
        var c1 = crop(img);
        Assert.Equal(new[] { 1, 3, 3 }, c1.Shape);
        var again = Transforms.RandomCrop(3, padding: 1, generator: new Generator(4))(img);
        Assert.Equal(c1.ToArray<float>(), again.ToArray<float>());
        var composed = Transforms.Compose(Transforms.RandomHorizontalFlip(1.0), Transforms.Normalize([1], [2]));
        Assert.Equal((3f - 1f) / 2f, composed(img)[0, 0, 0].Item<float>());
        Assert.Throws<KilnException>(() => Transforms.RandomCrop(9)(img));
    }

    [Fact]
    public void CsvAndTextLines()
    {
        string csv = Path.Combine(_dir, "d.csv");
        File.WriteAllText(csv, "a,b,label\n1,2,0\n3.5,-4,1\n\n");
        var ds = new CsvDataset(csv);
        Assert.Equal(new[] { "a", "b", "label" }, ds.Header);
        Assert.Equal(2, ds.Count);
        Assert.Equal(new[] { 3.5f, -4f }, ds[1].Features.ToArray<float>());
        Assert.Equal(1f, ds[1].Target.Item<float>());
        File.WriteAllText(csv, "1,2\n3,x\n");
        Assert.Contains("line 2", Assert.Throws<KilnException>(() => new CsvDataset(csv)).Message);
        string txt = Path.Combine(_dir, "t.txt");
        File.WriteAllText(txt, "first\n\nsecond\n");
        Assert.Equal(new[] { "first", "second" }, new TextLinesDataset(txt).ToArray());
    }
}
