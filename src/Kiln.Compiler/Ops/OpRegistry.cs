using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Ops.Pointwise;
using Kiln.Compiler.Shapes;

namespace Kiln.Compiler.Ops
{
    /// <summary>
    /// Every op of the tensor core, declared once with its shape rule. The eager runtime calls the same
    /// <see cref="ShapeRules"/> functions these entries name, so runtime errors and (later) build-time
    /// diagnostics read alike; derivative rules join these entries with autograd.
    /// </summary>
    public static class OpRegistry
    {
        static readonly Dictionary<string, OpDef> Ops = new Dictionary<string, OpDef>();

        /// <summary>All declared ops.</summary>
        public static IEnumerable<OpDef> All => Ops.Values;

        /// <summary>The declaration of <paramref name="name"/>, or null.</summary>
        public static OpDef? Find(string name) => Ops.TryGetValue(name, out var d) ? d : null;

        static void Add(string name, OpKind kind, int arity, ShapeRule rule) => Ops[name] = new OpDef(name, kind, arity, rule);

        static int[] Same(IReadOnlyList<int[]> s, OpArgs a) => (int[])s[0].Clone();

        static int[] BroadcastAll(string op, IReadOnlyList<int[]> s)
        {
            int[] r = s[0];
            for (int i = 1; i < s.Count; i++) r = ShapeRules.Broadcast(op, r, s[i]);
            return r;
        }

        static int[] Insert(int[] shape, int at, int size)
        {
            var l = shape.ToList();
            l.Insert(at, size);
            return l.ToArray();
        }

        static OpRegistry()
        {
            foreach (var op in new[] { "add", "sub", "mul", "div", "maximum", "minimum", "pow", "atan2", "remainder" })
                Add(op, OpKind.Elementwise, 2, (s, a) => ShapeRules.Broadcast(op, s[0], s[1]));
            foreach (var op in new[] { "eq", "ne", "lt", "le", "gt", "ge" })
                Add(op, OpKind.Comparison, 2, (s, a) => ShapeRules.Broadcast(op, s[0], s[1]));
            Add("where", OpKind.Elementwise, 3, (s, a) => BroadcastAll("where", s));
            Add("masked_fill", OpKind.Elementwise, 2, (s, a) => Same(s, a));
            foreach (var unary in UnaryOps.All)
                if (unary.TensorMethod || unary.Name == "gelu") Add(unary.Name, OpKind.Elementwise, 1, Same);
            foreach (var op in new[] { "softplus", "clamp", "to" })
                Add(op, OpKind.Elementwise, 1, Same);
            foreach (var op in new[] { "sum", "mean", "prod", "var", "std", "norm", "logsumexp", "all", "any", "max", "min", "argmax", "argmin" })
                Add(op, OpKind.Reduction, 1, (s, a) =>
                    ShapeRules.Reduce(op, s[0], a.Dims ?? (a.Dim is int d ? new[] { d } : null), a.KeepDim, out _));
            foreach (var op in new[] { "softmax", "log_softmax", "cumsum" })
                Add(op, OpKind.AlongDim, 1, (s, a) => { ShapeRules.NormalizeDim(op, a.Dim ?? 0, s[0].Length); return Same(s, a); });
            Add("matmul", OpKind.LinearAlgebra, 2, (s, a) => ShapeRules.Matmul(s[0], s[1]));
            Add("bmm", OpKind.LinearAlgebra, 2, (s, a) => ShapeRules.Bmm(s[0], s[1]));
            Add("outer", OpKind.LinearAlgebra, 2, (s, a) => new[] { s[0][0], s[1][0] });
            Add("addmm", OpKind.LinearAlgebra, 3, (s, a) =>
            {
                var r = ShapeRules.Matmul(s[1], s[2]);
                ShapeRules.Broadcast("addmm", s[0], r);
                return r;
            });
            Add("view", OpKind.View, 1, (s, a) => ShapeRules.Reshape("view", s[0], a.Sizes!));
            Add("reshape", OpKind.View, 1, (s, a) => ShapeRules.Reshape("reshape", s[0], a.Sizes!));
            Add("expand", OpKind.View, 1, (s, a) => ShapeRules.Expand(s[0], a.Sizes!));
            Add("permute", OpKind.View, 1, (s, a) => ShapeRules.Permute(s[0], a.Sizes!));
            Add("transpose", OpKind.View, 1, (s, a) =>
            {
                var r = (int[])s[0].Clone();
                int d0 = ShapeRules.NormalizeDim("transpose", a.Dim ?? 0, r.Length), d1 = ShapeRules.NormalizeDim("transpose", a.Dim1 ?? 1, r.Length);
                if (r.Length > 0) { int t = r[d0]; r[d0] = r[d1]; r[d1] = t; }
                return r;
            });
            Add("unsqueeze", OpKind.View, 1, (s, a) => Insert(s[0], ShapeRules.NormalizeDim("unsqueeze", a.Dim ?? 0, s[0].Length + 1), 1));
            Add("select", OpKind.View, 1, (s, a) =>
            {
                int d = ShapeRules.NormalizeDim("select", a.Dim ?? 0, s[0].Length);
                return s[0].Where((_, i) => i != d).ToArray();
            });
            Add("narrow", OpKind.View, 1, (s, a) =>
            {
                var r = (int[])s[0].Clone();
                ShapeRules.Narrow(r, a.Dim ?? 0, a.Start ?? 0, a.Length ?? 0);
                r[ShapeRules.NormalizeDim("narrow", a.Dim ?? 0, r.Length)] = a.Length ?? 0;
                return r;
            });
            Add("index_select", OpKind.Indexing, 2, (s, a) =>
            {
                var r = (int[])s[0].Clone();
                if (r.Length > 0) r[ShapeRules.NormalizeDim("index_select", a.Dim ?? 0, r.Length)] = (int)ShapeRules.Numel(s[1]);
                return r;
            });
            Add("gather", OpKind.Indexing, 2, (s, a) => (int[])s[1].Clone());
            Add("scatter", OpKind.Indexing, 3, Same);
            Add("scatter_add", OpKind.Indexing, 3, Same);
            Add("cat", OpKind.Join, -1, (s, a) => ShapeRules.Cat(s, a.Dim ?? 0));
            Add("stack", OpKind.Join, -1, (s, a) => ShapeRules.Stack(s, a.Dim ?? 0));
            Add("repeat", OpKind.Join, 1, (s, a) => ShapeRules.Repeat(s[0], a.Sizes!));
            Add("im2col", OpKind.Indexing, 1, (s, a) => ConvGeometry.Im2ColShape("im2col", s[0], ConvGeometry.FromArgs("im2col", a.Sizes!)));
            Add("col2im", OpKind.Indexing, 1, (s, a) =>
                ConvGeometry.Col2ImShape("col2im", s[0], a.Sizes![0], a.Sizes[1], ConvGeometry.FromArgs("col2im", a.Sizes, 2)));
            Add("sdpa", OpKind.LinearAlgebra, -1, (s, a) =>
            {
                if (s[0].Length < 2 || s[1].Length < 2 || s[2].Length < 2)
                    throw new KilnException("sdpa", "sdpa: query, key and value need at least 2 dims [..., L, E]", KilnErrorKind.Shape);
                var batch = ShapeRules.Broadcast("sdpa", ShapeRules.Broadcast("sdpa", s[0].Take(s[0].Length - 2).ToArray(), s[1].Take(s[1].Length - 2).ToArray()),
                    s[2].Take(s[2].Length - 2).ToArray());
                return batch.Concat(new[] { s[0][s[0].Length - 2], s[2][s[2].Length - 1] }).ToArray();
            });
            Add("conv2d", OpKind.LinearAlgebra, -1, (s, a) =>
            {
                var g = ConvGeometry.FromArgs("conv2d", a.Sizes!);
                if (s[0].Length != 4 || s[1].Length != 4) throw new KilnException("conv2d", "conv2d: expected 4-D input and weight");
                var (oh, ow) = g.Output("conv2d", s[0][2], s[0][3]);
                return new[] { s[0][0], s[1][0], oh, ow };
            });
            Add("max_pool2d", OpKind.Indexing, 2, (s, a) =>
            {
                // Args: the 8 geometry numbers, then 1 for ceil mode.
                if (s[0].Length != 4) throw new KilnException("max_pool2d", "max_pool2d: expected a 4-D input [N, C, H, W]", KilnErrorKind.Shape);
                var (oh, ow) = ConvGeometry.FromArgs("max_pool2d", a.Sizes!).Output("max_pool2d", s[0][2], s[0][3], a.Sizes![8] == 1);
                return new[] { s[0][0], s[0][1], oh, ow };
            });
            Add("gru_layer", OpKind.LinearAlgebra, -1, (s, a) =>
            {
                if (s[0].Length != 3 || s[0][2] % 3 != 0) throw new KilnException("gru_layer", "gru_layer: expected the input projection [T, N, 3*hidden]", KilnErrorKind.Shape);
                return new[] { s[0][0], s[0][1], s[0][2] / 3 };
            });
            Add("layer_norm", OpKind.Reduction, -1, (s, a) => (int[])s[0].Clone());
            Add("lstm_layer", OpKind.LinearAlgebra, -1, (s, a) =>
            {
                if (s[0].Length != 3 || s[0][2] % 4 != 0) throw new KilnException("lstm_layer", "lstm_layer: expected the input projection [T, N, 4*hidden]", KilnErrorKind.Shape);
                // Output: each step's h (the width of h0) then c (hidden).
                return new[] { s[0][0], s[0][1], s[1][s[1].Length - 1] + s[0][2] / 4 };
            });
            Add("tril", OpKind.Elementwise, 1, Same);
            Add("triu", OpKind.Elementwise, 1, Same);
        }
    }
}
