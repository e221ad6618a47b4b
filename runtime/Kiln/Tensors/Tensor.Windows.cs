using System;
using Kiln.Compiler.Shapes;

namespace Kiln;

// Windows and diagonals picked out of a tensor (unfold, diagonal, diag_embed) and tensor_split. They are composed of
// index_select and scatter with a computed index, so their gradients (index_add, gather) and device support are those ops'.
// PyTorch returns views for unfold and diagonal; these are copies with the same values and gradients.
public sealed partial class Tensor
{
    /// <summary>
    /// Sliding windows of <paramref name="size"/> elements every <paramref name="step"/> along <paramref name="dim"/>
    /// (<c>Tensor.unfold</c>): that dim becomes the window count, and a new last dim of <paramref name="size"/> holds each window.
    /// </summary>
    public Tensor Unfold(int dim, int size, int step)
    {
        const string op = "unfold";
        int d = ShapeRules.NormalizeDim(op, dim, Math.Max(Dim, 1));
        int length = Dim == 0 ? 1 : _shape[d];
        if (size < 0 || size > length)
            throw new KilnException(op, $"{op}: maximum size for tensor at dimension {d} is {length} but size is {size} (shape {ShapeText.Format(_shape)})", KilnErrorKind.Shape);
        if (step <= 0) throw new KilnException(op, $"{op}: step is {step} but must be > 0", KilnErrorKind.Shape);
        if (Dim == 0) return Reshape(size);
        int windows = (length - size) / step + 1;
        var picks = new long[(long)windows * size];
        for (int w = 0, at = 0; w < windows; w++)
            for (int k = 0; k < size; k++) picks[at++] = (long)w * step + k;
        using var hostIndex = From(picks, picks.Length);
        using var index = hostIndex.To(Device);
        using var picked = IndexSelect(d, index);                  // [.., windows·size, ..]
        using var split = picked.Unflatten(d, windows, size);      // [.., windows, size, ..]
        return split.Movedim(d + 1, -1);
    }

    /// <summary>
    /// The diagonal at <paramref name="offset"/> of the planes spanned by <paramref name="dim1"/> and <paramref name="dim2"/>
    /// (<c>torch.diagonal</c>): both dims are removed and the diagonal becomes the last dim.
    /// </summary>
    public Tensor Diagonal(int offset = 0, int dim1 = 0, int dim2 = 1)
    {
        const string op = "diagonal";
        if (Dim < 2) throw new KilnException(op, $"{op}: expected a tensor of at least 2 dimensions, got shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        int a = ShapeRules.NormalizeDim(op, dim1, Dim), b = ShapeRules.NormalizeDim(op, dim2, Dim);
        if (a == b) throw new KilnException(op, $"{op}: dim1 and dim2 cannot be identical, got {a} and {b}", KilnErrorKind.Shape);
        int rows = _shape[a], cols = _shape[b];
        int row0 = offset >= 0 ? 0 : -offset, col0 = offset >= 0 ? offset : 0;
        int length = Math.Max(0, Math.Min(rows - row0, cols - col0));
        var order = new int[Dim];
        for (int i = 0, at = 0; i < Dim; i++) if (i != a && i != b) order[at++] = i;
        order[^2] = a; order[^1] = b;
        using var moved = Permute(order);
        using var planes = moved.Flatten(Dim - 2, Dim - 1);       // [.., rows·cols]
        var picks = new long[length];
        for (int k = 0; k < length; k++) picks[k] = (long)(row0 + k) * cols + col0 + k;
        using var hostIndex = From(picks, length);
        using var index = hostIndex.To(Device);
        return planes.IndexSelect(Dim - 2, index);
    }

    /// <summary>
    /// Square matrices with the last dim's values on the diagonal at <paramref name="offset"/>, placed at dims
    /// <paramref name="dim1"/> and <paramref name="dim2"/> of the result (<c>torch.diag_embed</c>).
    /// </summary>
    public Tensor DiagEmbed(int offset = 0, int dim1 = -2, int dim2 = -1)
    {
        const string op = "diag_embed";
        int rank = Dim + 1;
        int a = ShapeRules.NormalizeDim(op, dim1, rank), b = ShapeRules.NormalizeDim(op, dim2, rank);
        if (a == b) throw new KilnException(op, $"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}", KilnErrorKind.Shape);
        if (Dim == 0) throw new KilnException(op, $"{op}: expected a tensor of at least 1 dimension, got a scalar", KilnErrorKind.Shape);
        int n = _shape[^1], m = n + Math.Abs(offset);
        int row0 = offset >= 0 ? 0 : -offset, col0 = offset >= 0 ? offset : 0;
        var picks = new long[n];
        for (int k = 0; k < n; k++) picks[k] = (long)(row0 + k) * m + col0 + k;
        using var hostIndex = From(picks, n);
        using var index = hostIndex.To(Device);
        var flatShape = (int[])_shape.Clone();
        flatShape[^1] = m * m;
        using var zeros = Zeros(flatShape, DType, Device);
        using var placed = zeros.IndexCopy(Dim - 1, index, this);   // [.., m·m]
        using var square = placed.Unflatten(Dim - 1, m, m);         // [.., rows, cols]: rows at rank-2, cols at rank-1
        // Move rows to a and columns to b, the batch dims keeping their order in the remaining places.
        var order = new int[rank];
        for (int i = 0, batch = 0; i < rank; i++) order[i] = i == a ? rank - 2 : i == b ? rank - 1 : batch++;
        return square.Permute(order);
    }

    /// <summary>
    /// <paramref name="sections"/> views along <paramref name="dim"/>, the first (size % sections) one longer than the rest
    /// (<c>torch.tensor_split</c> with a count; unlike <see cref="Chunk"/>, always exactly that many).
    /// </summary>
    public Tensor[] TensorSplit(int sections, int dim = 0)
    {
        const string op = "tensor_split";
        if (sections <= 0) throw new KilnException(op, $"{op}: number of sections must be larger than 0, got {sections}", KilnErrorKind.Shape);
        int d = ShapeRules.NormalizeDim(op, dim, Dim);
        int size = _shape[d], small = size / sections, extra = size % sections;
        var r = new Tensor[sections];
        for (int i = 0, at = 0; i < sections; i++)
        {
            int length = small + (i < extra ? 1 : 0);
            r[i] = Narrow(d, at, length);
            at += length;
        }
        return r;
    }

    /// <summary>
    /// Views between the split points <paramref name="indices"/> along <paramref name="dim"/> (<c>torch.tensor_split</c> with
    /// indices: [2, 5] gives [:2], [2:5], [5:]); points past the end give empty views.
    /// </summary>
    public Tensor[] TensorSplit(int[] indices, int dim = 0)
    {
        int d = ShapeRules.NormalizeDim("tensor_split", dim, Dim);
        int size = _shape[d];
        var r = new Tensor[indices.Length + 1];
        int start = 0;
        for (int i = 0; i <= indices.Length; i++)
        {
            int stop = i < indices.Length ? indices[i] : size;
            if (stop < 0) stop += size;
            stop = Math.Clamp(stop, 0, size);
            int from = Math.Min(start, size);
            r[i] = Narrow(d, from, Math.Max(0, stop - from));
            start = stop; // Python slicing: [3:1] is empty and the next part starts at 1
        }
        return r;
    }
}
