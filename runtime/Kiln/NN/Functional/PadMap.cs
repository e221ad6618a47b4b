using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

/// <summary>
/// Where each position of a dim padded in a copying mode ("reflect", "replicate", "circular") reads from in the unpadded
/// dim, after PyTorch's checks of the padding against the size. <see cref="F.Pad"/> picks by it; Fourier.Stft composes it
/// with its frame positions so one gather reads every padded frame from the signal.
/// </summary>
internal readonly struct PadMap
{
    enum Kind { Reflect, Replicate, Circular }

    readonly Kind _kind;
    readonly int _size, _left;

    PadMap(Kind kind, int size, int left, int right)
    {
        _kind = kind;
        _size = size;
        _left = left;
        Length = size + left + right;
    }

    /// <summary>The padded length.</summary>
    public int Length { get; }

    /// <summary>The map for dim <paramref name="dim"/> of <paramref name="shape"/> padded by (<paramref name="left"/>, <paramref name="right"/>).</summary>
    public static PadMap For(string op, string mode, int[] shape, int dim, int left, int right)
    {
        int size = shape[dim];
        var kind = mode switch
        {
            "reflect" => Kind.Reflect,
            "replicate" => Kind.Replicate,
            "circular" => Kind.Circular,
            _ => throw new KilnException(op, $"{op}: unknown padding mode '{mode}' (expected constant, reflect, replicate or circular)"),
        };
        if (left < 0 || right < 0) throw new KilnException(op, $"{op}: negative padding is only supported in constant mode");
        if (kind == Kind.Reflect && (left >= size || right >= size))
            throw new KilnException(op, $"{op}: Padding size should be less than the corresponding input dimension, but got: padding ({left}, {right}) at dimension {dim} of input {ShapeText.Format(shape)}", KilnErrorKind.Shape);
        if (kind == Kind.Circular && (left > size || right > size))
            throw new KilnException(op, $"{op}: Padding value causes wrapping around more than once (padding ({left}, {right}), size {size})", KilnErrorKind.Shape);
        return new PadMap(kind, size, left, right);
    }

    /// <summary>The unpadded position that padded position <paramref name="j"/> copies.</summary>
    public long Source(long j)
    {
        long s = j - _left;
        return _kind switch
        {
            Kind.Reflect => s < 0 ? -s : s >= _size ? 2L * (_size - 1) - s : s,
            Kind.Replicate => Math.Clamp(s, 0, _size - 1),
            _ => ((s % _size) + _size) % _size,
        };
    }

    /// <summary>
    /// Whether padded positions [<paramref name="start"/>, start + <paramref name="n"/>) all lie in the unpadded middle, and
    /// where they start there: such a run copies straight, with no per-position mapping.
    /// </summary>
    public bool Straight(long start, int n, out long source)
    {
        source = start - _left;
        return source >= 0 && source + n <= _size;
    }

    /// <summary>Every position's source, as an int64 host tensor (built in place: no managed array per call).</summary>
    public unsafe Tensor Positions()
    {
        var index = Tensor.Empty([Length], DType.Int64);
        long* p = index.Ptr<long>();
        for (int j = 0; j < Length; j++) p[j] = Source(j);
        return index;
    }
}
