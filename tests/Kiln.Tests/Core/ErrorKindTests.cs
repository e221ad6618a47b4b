using System.IO;
using Kiln.IO;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>Each kind of mistake carries its <see cref="KilnErrorKind"/>, so a caller can catch some and not others.</summary>
public class ErrorKindTests
{
    static KilnErrorKind KindOf(System.Action action) => Assert.ThrowsAny<KilnException>(action).Kind;

    [Fact]
    public void ShapeMismatchesAreShapeErrors()
    {
        Assert.Equal(KilnErrorKind.Shape, KindOf(() => Tensor.Zeros(64, 784).Matmul(Tensor.Zeros(128, 10))));
        Assert.Equal(KilnErrorKind.Shape, KindOf(() => Tensor.Zeros(2, 3).Add(Tensor.Zeros(4))));
        Assert.Equal(KilnErrorKind.Shape, KindOf(() => Tensor.Zeros(2, 3).View(4, 2)));
    }

    [Fact]
    public void DTypeIndexStateAndArgumentErrorsSayWhichTheyAre()
    {
        Assert.Equal(KilnErrorKind.DType, KindOf(() => Tensor.Zeros(3).MaskedFill(Tensor.Zeros(3), 1)));
        Assert.Equal(KilnErrorKind.Index, KindOf(() => Tensor.Zeros(2, 3).Sum([5])));
        var leaf = Tensor.Zeros(2).RequiresGrad_();
        Assert.Equal(KilnErrorKind.State, KindOf(() => leaf.Add_(1)));
        Assert.Equal(KilnErrorKind.Argument, KindOf(() => Tensor.Zeros(2).Gelu("fast")));
    }

    [Fact]
    public void MalformedFilesAreFormatErrors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kiln-kind-{System.Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        try { Assert.Equal(KilnErrorKind.Format, KindOf(() => SafeTensors.Load(path))); }
        finally { File.Delete(path); }
    }
}
