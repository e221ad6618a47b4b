using Kiln.Compiler.Shapes;

namespace Kiln.Kernels;

/// <summary>Walks every position of an index tensor, giving offsets into a strided tensor.</summary>
internal struct IndexWalk
{
    readonly int[] _shape;
    readonly int[] _pos;
    public readonly long Count;

    public IndexWalk(int[] shape)
    {
        _shape = shape;
        _pos = new int[shape.Length];
        Count = ShapeRules.Numel(shape);
    }

    public void Next()
    {
        for (int i = _shape.Length - 1; i >= 0; i--)
        {
            if (++_pos[i] < _shape[i]) return;
            _pos[i] = 0;
        }
    }

    /// <summary>Offset of the current position in a tensor with these strides, with dim <paramref name="dim"/> replaced by <paramref name="at"/>.</summary>
    public long Offset(long[] strides, int dim, long at)
    {
        long o = 0;
        for (int i = 0; i < _pos.Length; i++) o += (i == dim ? at : _pos[i]) * strides[i];
        return o;
    }
}
