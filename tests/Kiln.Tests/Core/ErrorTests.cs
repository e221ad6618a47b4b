using System;
using Kiln;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>Bad input raises KilnException naming the op and the shapes, never an index or null exception.</summary>
public class ErrorTests
{
    static KilnException Throws(Action a) => Assert.Throws<KilnException>(a);

    [Fact]
    public void MatmulInnerMismatchNamesOpAndShapes()
    {
        var e = Throws(() => Tensor.Zeros(64, 784).Matmul(Tensor.Zeros(128, 10)));
        Assert.Equal("matmul", e.Op);
        Assert.Equal("matmul: [64, 784] @ [128, 10]: inner dimensions 784 and 128 differ", e.Message);
    }

    [Fact]
    public void FlipRepeatedOrOutOfRangeDims()
    {
        Assert.Equal("flip: dim 1 appears multiple times in the list of dims", Throws(() => Tensor.Zeros(2, 3).Flip(1, -1)).Message);
        Assert.Equal(KilnErrorKind.Index, Throws(() => Tensor.Zeros(2, 3).Flip(0, 2)).Kind);
        Assert.Equal(KilnErrorKind.Index, Throws(() => Tensor.Scalar(1.0).Flip(1)).Kind);
    }

    [Fact]
    public void BroadcastMismatch()
    {
        var e = Throws(() => _ = Tensor.Zeros(2, 3) + Tensor.Zeros(4));
        Assert.Equal("add: shapes [2, 3] and [4] cannot be broadcast: size 3 and size 4 differ at dimension 1", e.Message);
    }

    [Fact]
    public void BatchBroadcastMismatchInMatmul()
    {
        var e = Throws(() => Tensor.Zeros(2, 3, 4).Matmul(Tensor.Zeros(5, 4, 2)));
        Assert.StartsWith("matmul: shapes [2] and [5] cannot be broadcast", e.Message);
    }

    [Fact]
    public void ReshapeSizeMismatch()
    {
        var e = Throws(() => Tensor.Zeros(2, 6).Reshape(5, -1));
        Assert.Equal("reshape: shape [5, -1] is invalid for input of size 12 (input shape [2, 6])", e.Message);
        Assert.Contains("only one dimension can be inferred", Throws(() => Tensor.Zeros(4).View(-1, -1)).Message);
        Assert.Contains("invalid for input of size 12", Throws(() => Tensor.Zeros(3, 4).View(5, 2)).Message);
    }

    [Fact]
    public void ViewOfIncompatibleStridesSuggestsReshape()
    {
        var e = Throws(() => Tensor.Zeros(3, 4).T.View(12));
        Assert.Contains("Use .Reshape(...) instead", e.Message);
    }

    [Fact]
    public void IndexOutOfRange()
    {
        Assert.Equal("select: index 3 is out of bounds for dimension 0 with size 3", Throws(() => Tensor.Zeros(3, 2).Select(0, 3)).Message);
        Assert.Equal("index_select: index 5 is out of bounds for dimension 0 with size 3",
            Throws(() => Tensor.Zeros(3, 2).IndexSelect(0, Tensor.From(new long[] { 0, 5 }, 2))).Message);
        Assert.Equal("gather: index -4 is out of bounds for dimension 1 with size 2",
            Throws(() => Tensor.Zeros(3, 2).Gather(1, Tensor.From(new long[] { -4, 0, 1 }, 3, 1))).Message);
        Assert.Contains("too many indices", Throws(() => _ = Tensor.Zeros(3)[0, 1]).Message);
        Assert.Contains("dimension out of range (expected to be in range of [-2, 1], but got 2)", Throws(() => Tensor.Zeros(3, 2).Sum(2)).Message);
    }

    [Fact]
    public void DTypeMismatches()
    {
        Assert.Equal("matmul: expected both operands to have the same dtype, but got float32 != float64",
            Throws(() => Tensor.Zeros(2, 2).Matmul(Tensor.Zeros(new[] { 2, 2 }, DType.Float64))).Message);
        Assert.Contains("could not infer output dtype", Throws(() => Tensor.Zeros(new[] { 3 }, DType.Int64).Mean()).Message);
        Assert.Contains("index tensor of dtype int64 or int32", Throws(() => Tensor.Zeros(3).IndexSelect(0, Tensor.Zeros(1))).Message);
        Assert.Contains("can't be cast", Throws(() => Tensor.Zeros(new[] { 3 }, DType.Int64).Add_(Tensor.Ones(3))).Message);
        Assert.Contains("bool", Throws(() => Tensor.Where(Tensor.Zeros(3), Tensor.Zeros(3), Tensor.Zeros(3))).Message);
        Assert.Contains("subtraction", Throws(() => Tensor.Zeros(new[] { 3 }, DType.Bool).Sub(Tensor.Zeros(new[] { 3 }, DType.Bool))).Message);
    }

    [Fact]
    public void DeviceErrorsAreClear()
    {
        var e = Throws(() => Tensor.Zeros(2).To(Device.Cuda()));
        Assert.Contains("cuda:0", e.Message);
    }

    [Fact]
    public void CatAndStackShapes()
    {
        Assert.StartsWith("cat: sizes of tensors must match except in dimension 0: got [2, 3], [2, 4]",
            Throws(() => Tensor.Cat(Tensor.Zeros(2, 3), Tensor.Zeros(2, 4))).Message);
        Assert.StartsWith("stack: expects each tensor to be equal size", Throws(() => Tensor.Stack(new[] { Tensor.Zeros(2), Tensor.Zeros(3) })).Message);
    }

    [Fact]
    public void InPlaceCannotGrow()
    {
        var e = Throws(() => Tensor.Zeros(3).Add_(Tensor.Zeros(2, 3)));
        Assert.Equal("add_: output with shape [3] doesn't match the broadcast shape [2, 3]", e.Message);
    }

    [Fact]
    public void ItemNeedsOneElement() =>
        Assert.Contains("a Tensor with 3 elements cannot be converted to a scalar", Throws(() => Tensor.Zeros(3).Item<float>()).Message);

    [Fact]
    public void BadCreationArguments()
    {
        Assert.Contains("negative dimension", Throws(() => Tensor.Zeros(2, -1)).Message);
        Assert.Contains("cannot fill shape", Throws(() => Tensor.From(new float[] { 1, 2, 3 }, 2, 2)).Message);
        Assert.Contains("step must be nonzero", Throws(() => Tensor.Arange(0, 5, 0)).Message);
    }

    [Fact]
    public void DisposedTensorThrowsObjectDisposed()
    {
        var t = Tensor.Ones(3);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Sum());
    }
}
