using System;
using System.Collections.Generic;

namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// The shape rules of Kiln's ops on concrete sizes: the runtime calls them before every op. Each one is
    /// <see cref="ShapeRules{TDim, TCount, TA}"/> read with <see cref="IntDims"/>, the same rule the analyzers read on
    /// symbolic sizes, so both report the same words. Each rule returns the output shape or throws
    /// <see cref="KilnException"/> naming the op and the shapes.
    /// </summary>
    public static class ShapeRules
    {
        /// <summary>Number of elements of a shape (1 for a scalar).</summary>
        /// <exception cref="KilnException">The product does not fit in 64 bits (PyTorch's "storage size calculation overflowed").</exception>
        public static long Numel(IReadOnlyList<int> shape) => ShapeRules<int, long, IntDims>.Count(shape);

        /// <summary>Wraps a possibly negative dim into [0, rank), as PyTorch does.</summary>
        public static int NormalizeDim(string op, int dim, int rank)
        {
            int r = Math.Max(rank, 1); // a scalar accepts dim 0 and -1
            if (dim < -r || dim >= r)
                throw new KilnException(op, $"{op}: dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {dim})", KilnErrorKind.Index);
            return dim < 0 ? dim + r : dim;
        }

        /// <summary>Shape of squeezing/unsqueezing helpers and the like need only NormalizeDim; this checks an index.</summary>
        public static int NormalizeIndex(string op, long index, int size, int dim)
        {
            if (index < -size || index >= size)
                throw new KilnException(op, $"{op}: index {index} is out of bounds for dimension {dim} with size {size}", KilnErrorKind.Shape);
            return (int)(index < 0 ? index + size : index);
        }

        /// <summary>narrow: checks [start, start+length) against the dim (negative start counts from the end) and returns the start.</summary>
        public static long Narrow(IReadOnlyList<int> shape, int dim, long start, int length)
        {
            const string op = "narrow";
            int d = NormalizeDim(op, dim, shape.Count);
            if (start < 0) start += shape[d];
            // Compared without adding start + length, which a huge start overflows past the check.
            if (start < 0 || length < 0 || start > shape[d] || length > shape[d] - start)
                throw new KilnException(op, $"{op}: start ({start}) + length ({length}) exceeds dimension size ({shape[d]}) of shape {ShapeText.Format(shape)}", KilnErrorKind.Shape);
            return start;
        }

        /// <summary>Broadcasts two shapes by NumPy/PyTorch rules (align right, 1 stretches).</summary>
        public static int[] Broadcast(string op, IReadOnlyList<int> a, IReadOnlyList<int> b) => ShapeRules<int, long, IntDims>.Broadcast(op, a, b);

        /// <summary>Shape of <c>expand</c>: -1 keeps a size; new leading dims may be added.</summary>
        public static int[] Expand(IReadOnlyList<int> shape, IReadOnlyList<int> sizes) => ShapeRules<int, long, IntDims>.Expand(shape, sizes);

        /// <summary>Resolves a view/reshape target (at most one -1) against the element count.</summary>
        public static int[] Reshape(string op, IReadOnlyList<int> shape, IReadOnlyList<int> target) => ShapeRules<int, long, IntDims>.Reshape(op, shape, target);

        /// <summary>Checks a permutation and returns the permuted shape.</summary>
        public static int[] Permute(IReadOnlyList<int> shape, IReadOnlyList<int> dims) => ShapeRules<int, long, IntDims>.Permute(shape, dims);

        /// <summary>torch.matmul's rule: 1-D vectors are promoted and the added dim removed afterwards; batch dims broadcast.</summary>
        public static int[] Matmul(IReadOnlyList<int> a, IReadOnlyList<int> b) => ShapeRules<int, long, IntDims>.Matmul(a, b);

        /// <summary>bmm: [B, n, k] @ [B, k, m] with equal batch sizes.</summary>
        public static int[] Bmm(IReadOnlyList<int> a, IReadOnlyList<int> b) => ShapeRules<int, long, IntDims>.Bmm(a, b);

        /// <summary>Shape of a reduction over <paramref name="dims"/> (all dims when null or empty).</summary>
        public static int[] Reduce(string op, IReadOnlyList<int> shape, IReadOnlyList<int>? dims, bool keepDim, out bool[] reduced) =>
            ShapeRules<int, long, IntDims>.Reduce(op, shape, dims, keepDim, out reduced);

        /// <summary>
        /// rope (rotary position embedding, x·cos + rotate_half(x)·sin): x's last dim pairs its halves, so it is even; cos
        /// and sin broadcast to x's shape without widening it. The result has x's shape.
        /// </summary>
        public static int[] Rope(IReadOnlyList<int> x, IReadOnlyList<int> cos, IReadOnlyList<int> sin)
        {
            if (x.Count == 0 || x[x.Count - 1] % 2 != 0)
                throw new KilnException("rope", $"rope: x's last dim must be even (its two halves rotate together), got shape {ShapeText.Format(x)}", KilnErrorKind.Shape);
            foreach (var (name, table) in new[] { ("cos", cos), ("sin", sin) })
                if (table.Count > x.Count || !SameShape(Broadcast("rope", x, table), x))
                    throw new KilnException("rope", $"rope: {name} of shape {ShapeText.Format(table)} must broadcast to x's shape {ShapeText.Format(x)}", KilnErrorKind.Shape);
            var r = new int[x.Count];
            for (int i = 0; i < r.Length; i++) r[i] = x[i];
            return r;
        }

        /// <summary>
        /// sdpa (scaled dot-product attention): q [..., L, E], k [..., S, E], v [..., S, Ev] give [batch..., L, Ev], the batch
        /// dims broadcasting q's, k's and v's. With <paramref name="grouped"/> (grouped-query attention, PyTorch's
        /// <c>enable_gqa</c>) k and v may have fewer heads (dim -3) than q, a divisor of its count: query head h reads
        /// key/value head h / <paramref name="group"/>. <paramref name="group"/> is 1 when nothing is grouped.
        /// </summary>
        public static int[] Attention(IReadOnlyList<int> q, IReadOnlyList<int> k, IReadOnlyList<int> v, bool grouped, out int group)
        {
            const string op = "sdpa";
            if (q.Count < 2 || k.Count < 2 || v.Count < 2)
                throw new KilnException(op, $"{op}: query, key and value need at least 2 dims [..., L, E]; got {ShapeText.Format(q)}, {ShapeText.Format(k)}, {ShapeText.Format(v)}", KilnErrorKind.Shape);
            int e = q[q.Count - 1], s = k[k.Count - 2];
            if (k[k.Count - 1] != e)
                throw new KilnException(op, $"{op}: query's last dim ({e}) must equal key's ({k[k.Count - 1]}); shapes {ShapeText.Format(q)} and {ShapeText.Format(k)}", KilnErrorKind.Shape);
            if (v[v.Count - 2] != s)
                throw new KilnException(op, $"{op}: key and value must have the same sequence length; shapes {ShapeText.Format(k)} and {ShapeText.Format(v)}", KilnErrorKind.Shape);
            group = 1;
            int[] qb = Leading(q, 2), kb = Leading(k, 2), vb = Leading(v, 2);
            if (grouped && q.Count >= 3 && k.Count >= 3 && v.Count >= 3 && (k[k.Count - 3] != q[q.Count - 3] || v[v.Count - 3] != q[q.Count - 3]))
            {
                int hq = q[q.Count - 3], hk = k[k.Count - 3], hv = v[v.Count - 3];
                if (hk != hv || hk == 0 || hq % hk != 0)
                    throw new KilnException(op, $"{op}: with grouped-query attention key and value need one head count that divides the query's; got {hq} query, {hk} key and {hv} value heads (shapes {ShapeText.Format(q)}, {ShapeText.Format(k)}, {ShapeText.Format(v)})", KilnErrorKind.Shape);
                group = hq / hk;
                // The head dims are matched by the grouping; the dims before them broadcast.
                qb = Leading(q, 3); kb = Leading(k, 3); vb = Leading(v, 3);
            }
            var batch = Broadcast(op, Broadcast(op, qb, kb), vb);
            var r = new int[batch.Length + (group > 1 ? 3 : 2)];
            batch.CopyTo(r, 0);
            if (group > 1) r[r.Length - 3] = q[q.Count - 3];
            r[r.Length - 2] = q[q.Count - 2];
            r[r.Length - 1] = v[v.Count - 1];
            return r;
        }

        static int[] Leading(IReadOnlyList<int> shape, int drop)
        {
            var r = new int[shape.Count - drop];
            for (int i = 0; i < r.Length; i++) r[i] = shape[i];
            return r;
        }

        /// <summary>cat: all shapes equal except along <paramref name="dim"/>.</summary>
        public static int[] Cat(IReadOnlyList<int[]> shapes, int dim) => ShapeRules<int, long, IntDims>.Cat(shapes, dim);

        /// <summary>stack: all shapes equal; a new dim inserted at <paramref name="dim"/>.</summary>
        public static int[] Stack(IReadOnlyList<int[]> shapes, int dim) => ShapeRules<int, long, IntDims>.Stack(shapes, dim);

        /// <summary>repeat: the tiled shape; there may be more repeats than dims.</summary>
        public static int[] Repeat(IReadOnlyList<int> shape, IReadOnlyList<int> repeats) => ShapeRules<int, long, IntDims>.Repeat(shape, repeats);

        /// <summary>transpose: two dims swapped.</summary>
        public static int[] Transpose(IReadOnlyList<int> shape, int dim0, int dim1) => ShapeRules<int, long, IntDims>.Transpose(shape, dim0, dim1);

        /// <summary>unsqueeze: a size-1 dim inserted at <paramref name="dim"/>.</summary>
        public static int[] Unsqueeze(IReadOnlyList<int> shape, int dim) => ShapeRules<int, long, IntDims>.Unsqueeze(shape, dim);

        /// <summary>flatten: dims <paramref name="start"/> through <paramref name="end"/> merged into one.</summary>
        public static int[] Flatten(IReadOnlyList<int> shape, int start, int end) => ShapeRules<int, long, IntDims>.Flatten(shape, start, end);

        /// <summary>True when both shapes have the same dims.</summary>
        public static bool SameShape(IReadOnlyList<int> a, IReadOnlyList<int> b) => ShapeRules<int, long, IntDims>.SameShape(a, b);
    }
}
