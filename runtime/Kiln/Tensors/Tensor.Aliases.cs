namespace Kiln;

// PyTorch's other spellings of existing operations, so code ported from Python reads the same. Each forwards to the one
// implementation.
public sealed partial class Tensor
{
    /// <summary>Swaps two dims (<c>torch.swapaxes</c>, the same as <see cref="Transpose"/>).</summary>
    public Tensor Swapaxes(int axis0, int axis1) => Transpose(axis0, axis1);

    /// <summary>Swaps two dims (<c>torch.swapdims</c>, the same as <see cref="Transpose"/>).</summary>
    public Tensor Swapdims(int dim0, int dim1) => Transpose(dim0, dim1);

    /// <summary>Moves one dim (<c>torch.moveaxis</c>, the same as <see cref="Movedim"/>).</summary>
    public Tensor Moveaxis(int source, int destination) => Movedim(source, destination);

    /// <summary>A broadcast view with <paramref name="shape"/> (<c>torch.broadcast_to</c>); -1 keeps a size.</summary>
    public Tensor BroadcastTo(params int[] shape) => Expand(shape);

    /// <summary>Reshaped to <paramref name="other"/>'s shape (<c>reshape_as</c>).</summary>
    public Tensor ReshapeAs(Tensor other) => Reshape(other._shape);

    /// <summary>A view with <paramref name="other"/>'s shape (<c>view_as</c>).</summary>
    public Tensor ViewAs(Tensor other) => View(other._shape);

    /// <summary>Converted to <paramref name="other"/>'s dtype (<c>type_as</c>).</summary>
    public Tensor TypeAs(Tensor other) => To(other.DType);

    /// <summary>Zeros of <paramref name="shape"/> with this tensor's dtype and device (<c>new_zeros</c>).</summary>
    public Tensor NewZeros(params int[] shape) => Zeros(shape, DType, Device);

    /// <summary>Ones of <paramref name="shape"/> with this tensor's dtype and device (<c>new_ones</c>).</summary>
    public Tensor NewOnes(params int[] shape) => Ones(shape, DType, Device);

    /// <summary><paramref name="value"/> in <paramref name="shape"/> with this tensor's dtype and device (<c>new_full</c>).</summary>
    public Tensor NewFull(int[] shape, double value) => Full(shape, value, DType, Device);

    /// <summary>An uninitialised tensor of <paramref name="shape"/> with this tensor's dtype and device (<c>new_empty</c>).</summary>
    public Tensor NewEmpty(params int[] shape) => Empty(shape, DType, Device);

    /// <summary>max(x, <paramref name="min"/>) (<c>clamp_min</c>).</summary>
    public Tensor ClampMin(double min) => Clamp(min, null);

    /// <summary>min(x, <paramref name="max"/>) (<c>clamp_max</c>).</summary>
    public Tensor ClampMax(double max) => Clamp(null, max);

    /// <summary>The same as <see cref="Clamp(double?, double?)"/> (<c>torch.clip</c>).</summary>
    public Tensor Clip(double? min = null, double? max = null) => Clamp(min, max);

    /// <summary>Splits into views with the given sizes along a dim (<c>split_with_sizes</c>).</summary>
    public Tensor[] SplitWithSizes(int[] sizes, int dim = 0) => Split(sizes, dim);

    /// <summary>The p-norm of the difference (<c>torch.dist</c>).</summary>
    public Tensor Dist(Tensor other, double p = 2)
    {
        using var difference = Sub(other);
        return difference.Norm(p);
    }

    /// <summary>Rows sorted ascending along dim 0 (<c>torch.msort</c>).</summary>
    public Tensor Msort()
    {
        var (values, indices) = Sort(0);
        indices.Dispose();
        return values;
    }

    /// <summary>True where the element is +inf (<c>torch.isposinf</c>).</summary>
    public Tensor Isposinf() => DType.IsFloatingPoint() ? Eq(double.PositiveInfinity) : Full(_shape, 0, DType.Bool, Device);

    /// <summary>True where the element is -inf (<c>torch.isneginf</c>).</summary>
    public Tensor Isneginf() => DType.IsFloatingPoint() ? Eq(double.NegativeInfinity) : Full(_shape, 0, DType.Bool, Device);
}
