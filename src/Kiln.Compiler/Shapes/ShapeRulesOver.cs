using System;
using System.Collections.Generic;

namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// The shape rules of the tensor ops, written once over a size algebra: <see cref="ShapeRules"/> reads them on
    /// concrete sizes (the runtime's checks), the analyzers on symbolic ones (<see cref="SymbolicDims"/>). Each rule returns
    /// the output shape or throws <see cref="KilnException"/> naming the op and the shapes, in the same words either way.
    /// </summary>
    /// <typeparam name="TDim">A size.</typeparam>
    /// <typeparam name="TCount">An element count.</typeparam>
    /// <typeparam name="TA">The algebra (a struct, so each reading is compiled on its own).</typeparam>
    public static class ShapeRules<TDim, TCount, TA> where TA : struct, IDimAlgebra<TDim, TCount>
    {
        static TA A => default;

        static bool Is(TDim d, int value) => A.TryValue(d, out int v) && v == value;

        /// <summary>True when both shapes have the same rank and sizes.</summary>
        public static bool SameShape(IReadOnlyList<TDim> a, IReadOnlyList<TDim> b)
        {
            if (a.Count != b.Count) return false;
            for (int i = 0; i < a.Count; i++) if (A.Differ(a[i], b[i])) return false;
            return true;
        }

        /// <summary>Broadcasts two shapes by NumPy/PyTorch rules (align right, 1 stretches).</summary>
        public static TDim[] Broadcast(string op, IReadOnlyList<TDim> a, IReadOnlyList<TDim> b)
        {
            int rank = Math.Max(a.Count, b.Count);
            var result = new TDim[rank];
            for (int i = 0; i < rank; i++)
            {
                TDim da = i < rank - a.Count ? A.Of(1) : a[i - (rank - a.Count)];
                TDim db = i < rank - b.Count ? A.Of(1) : b[i - (rank - b.Count)];
                if (A.Differ(da, db) && !Is(da, 1) && !Is(db, 1))
                    throw new KilnException(op,
                        $"{op}: shapes {ShapeText.Format(a)} and {ShapeText.Format(b)} cannot be broadcast: size {da} and size {db} differ at dimension {i}", KilnErrorKind.Shape);
                result[i] = Is(da, 1) ? db : da;
            }
            return result;
        }

        /// <summary>The element count of a shape; a count past 64 bits is PyTorch's "storage size calculation overflowed".</summary>
        public static TCount Count(IReadOnlyList<TDim> shape)
        {
            TCount n = A.One;
            bool overflow = false;
            for (int i = 0; i < shape.Count; i++)
            {
                // A zero size makes the count zero even past an overflow (PyTorch's rule).
                if (Is(shape[i], 0)) { A.TryMultiply(A.One, shape[i], out n); return n; }
                if (!overflow && !A.TryMultiply(n, shape[i], out n)) overflow = true;
            }
            if (overflow)
                throw new KilnException("numel", $"numel: Storage size calculation overflowed with sizes={ShapeText.Format(shape)} (more than 2^63 elements)", KilnErrorKind.Shape);
            return n;
        }

        /// <summary>Resolves a view/reshape target (at most one -1) against the element count.</summary>
        public static TDim[] Reshape(string op, IReadOnlyList<TDim> shape, IReadOnlyList<TDim> target)
        {
            TCount numel = Count(shape);
            int infer = -1;
            TCount known = A.One;
            var result = new TDim[target.Count];
            for (int i = 0; i < target.Count; i++)
            {
                TDim d = target[i];
                if (Is(d, -1))
                {
                    if (infer >= 0) throw new KilnException(op, $"{op}: only one dimension can be inferred in {ShapeText.Format(target)}", KilnErrorKind.Shape);
                    infer = i;
                }
                else if (A.TryValue(d, out int v) && v < 0) throw new KilnException(op, $"{op}: invalid shape dimension {v} in {ShapeText.Format(target)}", KilnErrorKind.Shape);
                else if (!A.TryMultiply(known, d, out known))
                    throw new KilnException(op, $"{op}: shape {ShapeText.Format(target)} is invalid for input of size {numel}: its size calculation overflowed", KilnErrorKind.Shape);
                result[i] = d;
            }
            if (infer >= 0)
            {
                if (!A.TryDivide(numel, known, out TCount q))
                    throw new KilnException(op, $"{op}: shape {ShapeText.Format(target)} is invalid for input of size {numel} (input shape {ShapeText.Format(shape)})", KilnErrorKind.Shape);
                if (!A.TryDim(q, out result[infer]))
                    throw new KilnException(op, $"{op}: shape {ShapeText.Format(target)} is invalid for input of size {numel}: the inferred dimension would hold {q} elements, more than {int.MaxValue}", KilnErrorKind.Shape);
            }
            else if (!A.Same(known, numel))
                throw new KilnException(op, $"{op}: shape {ShapeText.Format(target)} is invalid for input of size {numel} (input shape {ShapeText.Format(shape)})", KilnErrorKind.Shape);
            return result;
        }

        /// <summary>Shape of <c>expand</c>: -1 keeps a size; new leading dims may be added.</summary>
        public static TDim[] Expand(IReadOnlyList<TDim> shape, IReadOnlyList<TDim> sizes)
        {
            const string op = "expand";
            if (sizes.Count < shape.Count)
                throw new KilnException(op, $"{op}: the number of sizes provided ({sizes.Count}) must be greater or equal to the number of dimensions in the tensor ({shape.Count})", KilnErrorKind.Shape);
            var result = new TDim[sizes.Count];
            int lead = sizes.Count - shape.Count;
            for (int i = 0; i < sizes.Count; i++)
            {
                TDim want = sizes[i];
                if (i < lead)
                {
                    if (A.TryValue(want, out int w) && w < 0) throw new KilnException(op, $"{op}: {ShapeText.Format(shape)} to {ShapeText.Format(sizes)}: -1 is not allowed in a leading, non-existing dimension", KilnErrorKind.Shape);
                    result[i] = want;
                    continue;
                }
                TDim have = shape[i - lead];
                if (Is(want, -1)) want = have;
                if (A.Differ(have, want) && !Is(have, 1))
                    throw new KilnException(op, $"{op}: {ShapeText.Format(shape)} to {ShapeText.Format(sizes)}: the expanded size {want} must match the existing size {have} at non-singleton dimension {i}", KilnErrorKind.Shape);
                result[i] = want;
            }
            return result;
        }

        /// <summary>Checks a permutation and returns the permuted shape.</summary>
        public static TDim[] Permute(IReadOnlyList<TDim> shape, IReadOnlyList<int> dims)
        {
            const string op = "permute";
            if (dims.Count != shape.Count)
                throw new KilnException(op, $"{op}: number of dims {dims.Count} does not match the tensor's {shape.Count} dimensions (shape {ShapeText.Format(shape)})", KilnErrorKind.Shape);
            var seen = new bool[shape.Count];
            var result = new TDim[shape.Count];
            for (int i = 0; i < dims.Count; i++)
            {
                int d = ShapeRules.NormalizeDim(op, dims[i], shape.Count);
                if (seen[d]) throw new KilnException(op, $"{op}: dim {d} appears more than once in {ShapeText.Format(dims)}", KilnErrorKind.Shape);
                seen[d] = true;
                result[i] = shape[d];
            }
            return result;
        }

        /// <summary>transpose: two dims swapped (a scalar or 1-D shape stays as it is).</summary>
        public static TDim[] Transpose(IReadOnlyList<TDim> shape, int dim0, int dim1)
        {
            var r = Copy(shape);
            int d0 = ShapeRules.NormalizeDim("transpose", dim0, r.Length), d1 = ShapeRules.NormalizeDim("transpose", dim1, r.Length);
            if (r.Length > 0) (r[d0], r[d1]) = (r[d1], r[d0]);
            return r;
        }

        /// <summary>unsqueeze: a size-1 dim inserted at <paramref name="dim"/> (which may be the new last one).</summary>
        public static TDim[] Unsqueeze(IReadOnlyList<TDim> shape, int dim)
        {
            int at = ShapeRules.NormalizeDim("unsqueeze", dim, shape.Count + 1);
            var r = new TDim[shape.Count + 1];
            for (int i = 0, j = 0; i < r.Length; i++) r[i] = i == at ? A.Of(1) : shape[j++];
            return r;
        }

        /// <summary>flatten: dims <paramref name="start"/> through <paramref name="end"/> merged into their product (a scalar becomes [1]).</summary>
        public static TDim[] Flatten(IReadOnlyList<TDim> shape, int start, int end)
        {
            const string op = "flatten";
            int n = shape.Count;
            if (n == 0) return new[] { A.Of(1) };
            int s = ShapeRules.NormalizeDim(op, start, n), e = ShapeRules.NormalizeDim(op, end, n);
            if (s > e) throw new KilnException(op, $"{op}: start_dim {start} cannot come after end_dim {end}", KilnErrorKind.Shape);
            var part = new TDim[e - s + 1];
            for (int i = s; i <= e; i++) part[i - s] = shape[i];
            if (!A.TryDim(Count(part), out TDim product))
                throw new KilnException(op, $"{op}: dims {s}..{e} of {ShapeText.Format(shape)} hold more than {int.MaxValue} elements", KilnErrorKind.Shape);
            var r = new TDim[n - (e - s)];
            for (int i = 0; i < s; i++) r[i] = shape[i];
            r[s] = product;
            for (int i = e + 1; i < n; i++) r[i - (e - s)] = shape[i];
            return r;
        }

        /// <summary>torch.matmul's rule: 1-D vectors are promoted and the added dim removed afterwards; batch dims broadcast.</summary>
        public static TDim[] Matmul(IReadOnlyList<TDim> a, IReadOnlyList<TDim> b)
        {
            const string op = "matmul";
            if (a.Count == 0 || b.Count == 0)
                throw new KilnException(op, $"{op}: both arguments need at least 1 dimension, got {ShapeText.Format(a)} and {ShapeText.Format(b)}", KilnErrorKind.Shape);
            TDim k1 = a[a.Count - 1];
            TDim k2 = b.Count == 1 ? b[0] : b[b.Count - 2];
            if (A.Differ(k1, k2))
                throw new KilnException(op, $"{op}: {ShapeText.Format(a)} @ {ShapeText.Format(b)}: inner dimensions {k1} and {k2} differ", KilnErrorKind.Shape);
            var batch = Broadcast(op, Slice(a, 0, Math.Max(0, a.Count - 2)), Slice(b, 0, Math.Max(0, b.Count - 2)));
            var result = new List<TDim>(batch);
            if (a.Count >= 2) result.Add(a[a.Count - 2]);
            if (b.Count >= 2) result.Add(b[b.Count - 1]);
            return result.ToArray();
        }

        /// <summary>bmm: [B, n, k] @ [B, k, m] with equal batch sizes.</summary>
        public static TDim[] Bmm(IReadOnlyList<TDim> a, IReadOnlyList<TDim> b)
        {
            const string op = "bmm";
            if (a.Count != 3 || b.Count != 3)
                throw new KilnException(op, $"{op}: expected 3-D tensors, got {ShapeText.Format(a)} and {ShapeText.Format(b)}", KilnErrorKind.Shape);
            if (A.Differ(a[0], b[0]))
                throw new KilnException(op, $"{op}: {ShapeText.Format(a)} @ {ShapeText.Format(b)}: batch sizes {a[0]} and {b[0]} differ", KilnErrorKind.Shape);
            if (A.Differ(a[2], b[1]))
                throw new KilnException(op, $"{op}: {ShapeText.Format(a)} @ {ShapeText.Format(b)}: inner dimensions {a[2]} and {b[1]} differ", KilnErrorKind.Shape);
            return new[] { a[0], a[1], b[2] };
        }

        /// <summary>Shape of a reduction over <paramref name="dims"/> (all dims when null or empty).</summary>
        public static TDim[] Reduce(string op, IReadOnlyList<TDim> shape, IReadOnlyList<int>? dims, bool keepDim, out bool[] reduced)
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
                    int d = ShapeRules.NormalizeDim(op, d0, shape.Count);
                    if (shape.Count == 0) continue;
                    if (reduced[d]) throw new KilnException(op, $"{op}: dim {d} appears multiple times in the list of dims", KilnErrorKind.Shape);
                    reduced[d] = true;
                }
            }
            var result = new List<TDim>();
            for (int i = 0; i < shape.Count; i++)
            {
                if (!reduced[i]) result.Add(shape[i]);
                else if (keepDim) result.Add(A.Of(1));
            }
            return result.ToArray();
        }

        /// <summary>cat: all shapes equal except along <paramref name="dim"/>, whose sizes add.</summary>
        public static TDim[] Cat(IReadOnlyList<TDim[]> shapes, int dim)
        {
            const string op = "cat";
            if (shapes.Count == 0) throw new KilnException(op, $"{op}: expected a non-empty list of tensors", KilnErrorKind.Shape);
            TDim[]? first = null;
            foreach (var s in shapes)
            {
                // PyTorch skips legacy empty 1-D tensors of shape [0].
                if (s.Length == 1 && Is(s[0], 0) && shapes.Count > 1) continue;
                first = s; break;
            }
            if (first == null) return Copy(shapes[0]);
            if (first.Length == 0) throw new KilnException(op, $"{op}: zero-dimensional tensor cannot be concatenated", KilnErrorKind.Shape);
            int d = ShapeRules.NormalizeDim(op, dim, first.Length);
            var result = Copy(first);
            result[d] = A.Of(0);
            foreach (var s in shapes)
            {
                if (s.Length == 1 && Is(s[0], 0) && first.Length != 1) continue;
                if (s.Length != first.Length)
                    throw new KilnException(op, $"{op}: tensors must have the same number of dimensions: got {ShapeText.FormatAll(shapes)}", KilnErrorKind.Shape);
                for (int i = 0; i < s.Length; i++)
                    if (i != d && A.Differ(s[i], first[i]))
                        throw new KilnException(op, $"{op}: sizes of tensors must match except in dimension {d}: got {ShapeText.FormatAll(shapes)} (size {first[i]} and {s[i]} differ at dimension {i})", KilnErrorKind.Shape);
                result[d] = A.Add(result[d], s[d]);
            }
            return result;
        }

        /// <summary>stack: all shapes equal; a new dim of their number inserted at <paramref name="dim"/>.</summary>
        public static TDim[] Stack(IReadOnlyList<TDim[]> shapes, int dim)
        {
            const string op = "stack";
            if (shapes.Count == 0) throw new KilnException(op, $"{op}: expected a non-empty list of tensors", KilnErrorKind.Shape);
            var first = shapes[0];
            foreach (var s in shapes)
                if (!SameShape(s, first))
                    throw new KilnException(op, $"{op}: expects each tensor to be equal size, but got {ShapeText.FormatAll(shapes)}", KilnErrorKind.Shape);
            int d = ShapeRules.NormalizeDim(op, dim, first.Length + 1);
            var result = new List<TDim>(first);
            result.Insert(d, A.Of(shapes.Count));
            return result.ToArray();
        }

        /// <summary>repeat: the tiled shape; there may be more repeats than dims.</summary>
        public static TDim[] Repeat(IReadOnlyList<TDim> shape, IReadOnlyList<int> repeats)
        {
            const string op = "repeat";
            if (repeats.Count < shape.Count)
                throw new KilnException(op, $"{op}: number of repeat dims ({repeats.Count}) cannot be smaller than the number of tensor dims ({shape.Count})", KilnErrorKind.Shape);
            int lead = repeats.Count - shape.Count;
            var r = new TDim[repeats.Count];
            for (int i = 0; i < r.Length; i++)
            {
                if (repeats[i] < 0) throw new KilnException(op, $"{op}: repeats cannot be negative, got {repeats[i]}", KilnErrorKind.Shape);
                r[i] = i < lead ? A.Of(repeats[i]) : A.Times(shape[i - lead], repeats[i]);
            }
            return r;
        }

        internal static TDim[] Copy(IReadOnlyList<TDim> s)
        {
            var r = new TDim[s.Count];
            for (int i = 0; i < r.Length; i++) r[i] = s[i];
            return r;
        }

        static TDim[] Slice(IReadOnlyList<TDim> s, int start, int end)
        {
            var r = new TDim[end - start];
            for (int i = start; i < end; i++) r[i - start] = s[i];
            return r;
        }
    }
}
