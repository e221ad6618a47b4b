using System;
using System.Collections.Generic;

namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// The shape rules of Kiln's ops, written once. The eager runtime calls them before every op and the
    /// analyzers call them at build time, so both report the same words. Each rule returns the output
    /// shape or throws <see cref="KilnException"/> naming the op and the shapes.
    /// </summary>
    public static class ShapeRules
    {
        /// <summary>Number of elements of a shape (1 for a scalar).</summary>
        /// <exception cref="KilnException">The product does not fit in 64 bits (PyTorch's "storage size calculation overflowed").</exception>
        public static long Numel(IReadOnlyList<int> shape)
        {
            long n = 1;
            bool overflow = false;
            for (int i = 0; i < shape.Count; i++)
            {
                int d = shape[i];
                if (d == 0) return 0;
                // Sizes are never negative on a live tensor; a negative one is rejected by the op that builds it.
                if (d > 0 && n > long.MaxValue / d) overflow = true;
                else n *= d;
            }
            if (overflow)
                throw new KilnException("numel", $"numel: Storage size calculation overflowed with sizes={ShapeText.Format(shape)} (more than 2^63 elements)", KilnErrorKind.Shape);
            return n;
        }

        /// <summary>Wraps a possibly negative dim into [0, rank), as PyTorch does.</summary>
        public static int NormalizeDim(string op, int dim, int rank)
        {
            int r = Math.Max(rank, 1); // a scalar accepts dim 0 and -1
            if (dim < -r || dim >= r)
                throw new KilnException(op, $"{op}: dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {dim})", KilnErrorKind.Index);
            return dim < 0 ? dim + r : dim;
        }

        /// <summary>Broadcasts two shapes by NumPy/PyTorch rules (align right, 1 stretches).</summary>
        public static int[] Broadcast(string op, IReadOnlyList<int> a, IReadOnlyList<int> b)
        {
            int rank = Math.Max(a.Count, b.Count);
            var result = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                int da = i < rank - a.Count ? 1 : a[i - (rank - a.Count)];
                int db = i < rank - b.Count ? 1 : b[i - (rank - b.Count)];
                if (da != db && da != 1 && db != 1)
                    throw new KilnException(op,
                        $"{op}: shapes {ShapeText.Format(a)} and {ShapeText.Format(b)} cannot be broadcast: size {da} and size {db} differ at dimension {i}", KilnErrorKind.Shape);
                result[i] = da == 1 ? db : da;
            }
            return result;
        }

        /// <summary>Shape of <c>expand</c>: -1 keeps a size; new leading dims may be added.</summary>
        public static int[] Expand(IReadOnlyList<int> shape, IReadOnlyList<int> sizes)
        {
            const string op = "expand";
            if (sizes.Count < shape.Count)
                throw new KilnException(op, $"{op}: the number of sizes provided ({sizes.Count}) must be greater or equal to the number of dimensions in the tensor ({shape.Count})", KilnErrorKind.Shape);
            var result = new int[sizes.Count];
            int lead = sizes.Count - shape.Count;
            for (int i = 0; i < sizes.Count; i++)
            {
                int want = sizes[i];
                if (i < lead)
                {
                    if (want < 0) throw new KilnException(op, $"{op}: {ShapeText.Format(shape)} to {ShapeText.Format(sizes)}: -1 is not allowed in a leading, non-existing dimension", KilnErrorKind.Shape);
                    result[i] = want;
                    continue;
                }
                int have = shape[i - lead];
                if (want == -1) want = have;
                if (have != want && have != 1)
                    throw new KilnException(op, $"{op}: {ShapeText.Format(shape)} to {ShapeText.Format(sizes)}: the expanded size {want} must match the existing size {have} at non-singleton dimension {i}", KilnErrorKind.Shape);
                result[i] = want;
            }
            return result;
        }

        /// <summary>Resolves a view/reshape target (at most one -1) against the element count.</summary>
        public static int[] Reshape(string op, IReadOnlyList<int> shape, IReadOnlyList<int> target)
        {
            long numel = Numel(shape);
            int infer = -1;
            long known = 1;
            var result = new int[target.Count];
            for (int i = 0; i < target.Count; i++)
            {
                int d = target[i];
                if (d == -1)
                {
                    if (infer >= 0) throw new KilnException(op, $"{op}: only one dimension can be inferred in {ShapeText.Format(target)}", KilnErrorKind.Shape);
                    infer = i;
                }
                else if (d < 0) throw new KilnException(op, $"{op}: invalid shape dimension {d} in {ShapeText.Format(target)}", KilnErrorKind.Shape);
                else if (d > 0 && known > long.MaxValue / d)
                    throw new KilnException(op, $"{op}: shape {ShapeText.Format(target)} is invalid for input of size {numel}: its size calculation overflowed", KilnErrorKind.Shape);
                else known *= d;
                result[i] = d;
            }
            if (infer >= 0)
            {
                if (known == 0 || numel % known != 0)
                    throw new KilnException(op, $"{op}: shape {ShapeText.Format(target)} is invalid for input of size {numel} (input shape {ShapeText.Format(shape)})", KilnErrorKind.Shape);
                if (numel / known > int.MaxValue)
                    throw new KilnException(op, $"{op}: shape {ShapeText.Format(target)} is invalid for input of size {numel}: the inferred dimension would hold {numel / known} elements, more than {int.MaxValue}", KilnErrorKind.Shape);
                result[infer] = (int)(numel / known);
            }
            else if (known != numel)
                throw new KilnException(op, $"{op}: shape {ShapeText.Format(target)} is invalid for input of size {numel} (input shape {ShapeText.Format(shape)})", KilnErrorKind.Shape);
            return result;
        }

        /// <summary>Checks a permutation and returns the permuted shape.</summary>
        public static int[] Permute(IReadOnlyList<int> shape, IReadOnlyList<int> dims)
        {
            const string op = "permute";
            if (dims.Count != shape.Count)
                throw new KilnException(op, $"{op}: number of dims {dims.Count} does not match the tensor's {shape.Count} dimensions (shape {ShapeText.Format(shape)})", KilnErrorKind.Shape);
            var seen = new bool[shape.Count];
            var result = new int[shape.Count];
            for (int i = 0; i < dims.Count; i++)
            {
                int d = NormalizeDim(op, dims[i], shape.Count);
                if (seen[d]) throw new KilnException(op, $"{op}: dim {d} appears more than once in {ShapeText.Format(dims)}", KilnErrorKind.Shape);
                seen[d] = true;
                result[i] = shape[d];
            }
            return result;
        }

        /// <summary>
        /// torch.matmul's rule: 1-D vectors are promoted and the added dim removed afterwards; batch dims broadcast.
        /// </summary>
        public static int[] Matmul(IReadOnlyList<int> a, IReadOnlyList<int> b)
        {
            const string op = "matmul";
            if (a.Count == 0 || b.Count == 0)
                throw new KilnException(op, $"{op}: both arguments need at least 1 dimension, got {ShapeText.Format(a)} and {ShapeText.Format(b)}", KilnErrorKind.Shape);
            int k1 = a[a.Count - 1];
            int k2 = b.Count == 1 ? b[0] : b[b.Count - 2];
            if (k1 != k2)
                throw new KilnException(op, $"{op}: {ShapeText.Format(a)} @ {ShapeText.Format(b)}: inner dimensions {k1} and {k2} differ", KilnErrorKind.Shape);
            var batchA = Slice(a, 0, Math.Max(0, a.Count - 2));
            var batchB = Slice(b, 0, Math.Max(0, b.Count - 2));
            var batch = Broadcast(op, batchA, batchB);
            var result = new List<int>(batch);
            if (a.Count >= 2) result.Add(a[a.Count - 2]);
            if (b.Count >= 2) result.Add(b[b.Count - 1]);
            return result.ToArray();
        }

        /// <summary>bmm: [B, n, k] @ [B, k, m] with equal batch sizes.</summary>
        public static int[] Bmm(IReadOnlyList<int> a, IReadOnlyList<int> b)
        {
            const string op = "bmm";
            if (a.Count != 3 || b.Count != 3)
                throw new KilnException(op, $"{op}: expected 3-D tensors, got {ShapeText.Format(a)} and {ShapeText.Format(b)}", KilnErrorKind.Shape);
            if (a[0] != b[0])
                throw new KilnException(op, $"{op}: {ShapeText.Format(a)} @ {ShapeText.Format(b)}: batch sizes {a[0]} and {b[0]} differ", KilnErrorKind.Shape);
            if (a[2] != b[1])
                throw new KilnException(op, $"{op}: {ShapeText.Format(a)} @ {ShapeText.Format(b)}: inner dimensions {a[2]} and {b[1]} differ", KilnErrorKind.Shape);
            return new[] { a[0], a[1], b[2] };
        }

        /// <summary>Shape of a reduction over <paramref name="dims"/> (all dims when null or empty).</summary>
        public static int[] Reduce(string op, IReadOnlyList<int> shape, IReadOnlyList<int>? dims, bool keepDim, out bool[] reduced)
        {
            reduced = new bool[shape.Count];
            if (dims == null || dims.Count == 0)
            {
                for (int i = 0; i < reduced.Length; i++) reduced[i] = true;
            }
            else
            {
                foreach (int d0 in dims)
                {
                    int d = NormalizeDim(op, d0, shape.Count);
                    if (shape.Count == 0) continue;
                    if (reduced[d]) throw new KilnException(op, $"{op}: dim {d} appears multiple times in the list of dims", KilnErrorKind.Shape);
                    reduced[d] = true;
                }
            }
            var result = new List<int>();
            for (int i = 0; i < shape.Count; i++)
            {
                if (!reduced[i]) result.Add(shape[i]);
                else if (keepDim) result.Add(1);
            }
            return result.ToArray();
        }

        /// <summary>cat: all shapes equal except along <paramref name="dim"/>.</summary>
        public static int[] Cat(IReadOnlyList<int[]> shapes, int dim)
        {
            const string op = "cat";
            if (shapes.Count == 0) throw new KilnException(op, $"{op}: expected a non-empty list of tensors", KilnErrorKind.Shape);
            int[]? first = null;
            foreach (var s in shapes)
            {
                // PyTorch skips legacy empty 1-D tensors of shape [0].
                if (s.Length == 1 && s[0] == 0 && shapes.Count > 1) continue;
                first = s; break;
            }
            if (first == null) return (int[])shapes[0].Clone();
            if (first.Length == 0) throw new KilnException(op, $"{op}: zero-dimensional tensor cannot be concatenated", KilnErrorKind.Shape);
            int d = NormalizeDim(op, dim, first.Length);
            var result = (int[])first.Clone();
            result[d] = 0;
            foreach (var s in shapes)
            {
                if (s.Length == 1 && s[0] == 0 && first.Length != 1) continue;
                if (s.Length != first.Length)
                    throw new KilnException(op, $"{op}: tensors must have the same number of dimensions: got {ShapeText.FormatAll(shapes)}", KilnErrorKind.Shape);
                for (int i = 0; i < s.Length; i++)
                    if (i != d && s[i] != first[i])
                        throw new KilnException(op, $"{op}: sizes of tensors must match except in dimension {d}: got {ShapeText.FormatAll(shapes)} (size {first[i]} and {s[i]} differ at dimension {i})", KilnErrorKind.Shape);
                result[d] += s[d];
            }
            return result;
        }

        /// <summary>stack: all shapes equal; a new dim inserted at <paramref name="dim"/>.</summary>
        public static int[] Stack(IReadOnlyList<int[]> shapes, int dim)
        {
            const string op = "stack";
            if (shapes.Count == 0) throw new KilnException(op, $"{op}: expected a non-empty list of tensors", KilnErrorKind.Shape);
            var first = shapes[0];
            foreach (var s in shapes)
                if (!SameShape(s, first))
                    throw new KilnException(op, $"{op}: expects each tensor to be equal size, but got {ShapeText.FormatAll(shapes)}", KilnErrorKind.Shape);
            int d = NormalizeDim(op, dim, first.Length + 1);
            var result = new List<int>(first);
            result.Insert(d, shapes.Count);
            return result.ToArray();
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

        /// <summary>repeat: the tiled shape; there may be more repeats than dims.</summary>
        public static int[] Repeat(IReadOnlyList<int> shape, IReadOnlyList<int> repeats)
        {
            const string op = "repeat";
            if (repeats.Count < shape.Count)
                throw new KilnException(op, $"{op}: number of repeat dims ({repeats.Count}) cannot be smaller than the number of tensor dims ({shape.Count})", KilnErrorKind.Shape);
            int lead = repeats.Count - shape.Count;
            var r = new int[repeats.Count];
            for (int i = 0; i < r.Length; i++)
            {
                if (repeats[i] < 0) throw new KilnException(op, $"{op}: repeats cannot be negative, got {repeats[i]}", KilnErrorKind.Shape);
                r[i] = repeats[i] * (i < lead ? 1 : shape[i - lead]);
            }
            return r;
        }

        /// <summary>True when both shapes have the same dims.</summary>
        public static bool SameShape(IReadOnlyList<int> a, IReadOnlyList<int> b)
        {
            if (a.Count != b.Count) return false;
            for (int i = 0; i < a.Count; i++) if (a[i] != b[i]) return false;
            return true;
        }

        static int[] Slice(IReadOnlyList<int> s, int start, int end)
        {
            var r = new int[end - start];
            for (int i = start; i < end; i++) r[i - start] = s[i];
            return r;
        }
    }
}
