using System;
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

        /// <summary>Declares an op whose rule reads arguments of type <typeparamref name="TArgs"/>.</summary>
        static void Add<TArgs>(string name, OpKind kind, int arity, Func<IReadOnlyList<int[]>, TArgs, int[]> rule) where TArgs : OpArgs =>
            Ops[name] = new OpDef(name, kind, arity, typeof(TArgs), (s, a) => rule(s, OpArgs.Of<TArgs>(name, a)));

        /// <summary>Declares an op without arguments.</summary>
        static void Add(string name, OpKind kind, int arity, Func<IReadOnlyList<int[]>, int[]> rule) =>
            Ops[name] = new OpDef(name, kind, arity, typeof(NoArgs), (s, a) => rule(s));

        static int[] Same(IReadOnlyList<int[]> s) => (int[])s[0].Clone();

        static int[] BroadcastAll(string op, IReadOnlyList<int[]> s)
        {
            int[] r = s[0];
            for (int i = 1; i < s.Count; i++) r = ShapeRules.Broadcast(op, r, s[i]);
            return r;
        }

        static OpRegistry()
        {
            foreach (var binary in BinaryOps.All)
                Add(binary.Name, OpKind.Elementwise, 2, s => ShapeRules.Broadcast(binary.Name, s[0], s[1]));
            foreach (var op in new[] { "eq", "ne", "lt", "le", "gt", "ge" })
                Add(op, OpKind.Comparison, 2, s => ShapeRules.Broadcast(op, s[0], s[1]));
            Add("where", OpKind.Elementwise, 3, s => BroadcastAll("where", s));
            Add("masked_fill", OpKind.Elementwise, 2, Same);
            foreach (var unary in UnaryOps.All)
                if (unary.TensorMethod) Add(unary.Name, OpKind.Elementwise, 1, Same);
            Add<GeluArgs>("gelu", OpKind.Elementwise, 1, (s, a) => Same(s));
            Add<SoftplusArgs>("softplus", OpKind.Elementwise, 1, (s, a) => Same(s));
            Add<ClampArgs>("clamp", OpKind.Elementwise, 1, (s, a) => Same(s));
            Add("to", OpKind.Elementwise, 1, Same);
            foreach (var op in new[] { "sum", "mean", "prod", "var", "std", "norm", "logsumexp", "all", "any", "max", "min", "argmax", "argmin" })
                Add<ReduceArgs>(op, OpKind.Reduction, 1, (s, a) => ShapeRules.Reduce(op, s[0], a.Dims, a.KeepDim, out _));
            foreach (var op in new[] { "softmax", "log_softmax", "cumsum" })
                Add<DimArgs>(op, OpKind.AlongDim, 1, (s, a) => { ShapeRules.NormalizeDim(op, a.Dim, s[0].Length); return Same(s); });
            Add("matmul", OpKind.LinearAlgebra, 2, s => ShapeRules.Matmul(s[0], s[1]));
            Add("bmm", OpKind.LinearAlgebra, 2, s => ShapeRules.Bmm(s[0], s[1]));
            Add("outer", OpKind.LinearAlgebra, 2, s => new[] { s[0][0], s[1][0] });
            Add<AddmmArgs>("addmm", OpKind.LinearAlgebra, 3, (s, a) =>
            {
                var r = ShapeRules.Matmul(s[1], s[2]);
                ShapeRules.Broadcast("addmm", s[0], r);
                return r;
            });
            Add<SizesArgs>("view", OpKind.View, 1, (s, a) => ShapeRules.Reshape("view", s[0], a.Sizes));
            Add<SizesArgs>("reshape", OpKind.View, 1, (s, a) => ShapeRules.Reshape("reshape", s[0], a.Sizes));
            Add<SizesArgs>("expand", OpKind.View, 1, (s, a) => ShapeRules.Expand(s[0], a.Sizes));
            Add<PermuteArgs>("permute", OpKind.View, 1, (s, a) => ShapeRules.Permute(s[0], a.Dims));
            Add<TransposeArgs>("transpose", OpKind.View, 1, (s, a) => ShapeRules.Transpose(s[0], a.Dim0, a.Dim1));
            Add<DimArgs>("unsqueeze", OpKind.View, 1, (s, a) => ShapeRules.Unsqueeze(s[0], a.Dim));
            Add<SelectArgs>("select", OpKind.View, 1, (s, a) =>
            {
                int d = ShapeRules.NormalizeDim("select", a.Dim, s[0].Length);
                ShapeRules.NormalizeIndex("select", a.Index, s[0][d], d);
                return s[0].Where((_, i) => i != d).ToArray();
            });
            Add<NarrowArgs>("narrow", OpKind.View, 1, (s, a) =>
            {
                var r = Same(s);
                ShapeRules.Narrow(r, a.Dim, a.Start, a.Length);
                r[ShapeRules.NormalizeDim("narrow", a.Dim, r.Length)] = a.Length;
                return r;
            });
            Add<DimArgs>("index_select", OpKind.Indexing, 2, (s, a) =>
            {
                var r = Same(s);
                if (r.Length > 0) r[ShapeRules.NormalizeDim("index_select", a.Dim, r.Length)] = (int)ShapeRules.Numel(s[1]);
                return r;
            });
            Add<DimArgs>("gather", OpKind.Indexing, 2, (s, a) => (int[])s[1].Clone());
            Add<DimArgs>("scatter", OpKind.Indexing, 3, (s, a) => Same(s));
            Add<DimArgs>("scatter_add", OpKind.Indexing, 3, (s, a) => Same(s));
            Add<DimArgs>("cat", OpKind.Join, -1, (s, a) => ShapeRules.Cat(s, a.Dim));
            Add<DimArgs>("stack", OpKind.Join, -1, (s, a) => ShapeRules.Stack(s, a.Dim));
            Add<SizesArgs>("repeat", OpKind.Join, 1, (s, a) => ShapeRules.Repeat(s[0], a.Sizes));
            Add<Im2ColArgs>("im2col", OpKind.Indexing, 1, (s, a) => ConvGeometry.Im2ColShape("im2col", s[0], a.Geometry));
            Add<Col2ImArgs>("col2im", OpKind.Indexing, 1, (s, a) => ConvGeometry.Col2ImShape("col2im", s[0], a.Height, a.Width, a.Geometry));
            Add<AttentionArgs>("sdpa", OpKind.LinearAlgebra, -1, (s, a) => ShapeRules.Attention(s[0], s[1], s[2], a.Grouped, out _));
            Add<ConvArgs>("conv2d", OpKind.LinearAlgebra, -1, (s, a) =>
            {
                if (s[0].Length != 4 || s[1].Length != 4) throw new KilnException("conv2d", "conv2d: expected 4-D input and weight", KilnErrorKind.Shape);
                var (oh, ow) = a.Geometry.Output("conv2d", s[0][2], s[0][3]);
                return new[] { s[0][0], s[1][0], oh, ow };
            });
            Add<PoolArgs>("max_pool2d", OpKind.Indexing, 2, (s, a) =>
            {
                if (s[0].Length != 4) throw new KilnException("max_pool2d", "max_pool2d: expected a 4-D input [N, C, H, W]", KilnErrorKind.Shape);
                var (oh, ow) = a.Geometry.Output("max_pool2d", s[0][2], s[0][3], a.CeilMode);
                return new[] { s[0][0], s[0][1], oh, ow };
            });
            Add<GruArgs>("gru_layer", OpKind.LinearAlgebra, -1, (s, a) =>
            {
                if (s[0].Length != 3 || s[0][2] % 3 != 0) throw new KilnException("gru_layer", "gru_layer: expected the input projection [T, N, 3*hidden]", KilnErrorKind.Shape);
                return new[] { s[0][0], s[0][1], s[0][2] / 3 };
            });
            Add<NormalizationArgs>("layer_norm", OpKind.Reduction, -1, (s, a) => Same(s));
            Add<NormalizationArgs>("rms_norm", OpKind.Reduction, -1, (s, a) => Same(s));
            Add<BatchNormArgs>("batch_norm", OpKind.Reduction, -1, (s, a) => Same(s));
            Add<MseLossArgs>("mse_loss", OpKind.Reduction, 2, (s, a) =>
            {
                if (!ShapeRules.SameShape(s[0], s[1]))
                    throw new KilnException("mse_loss", $"mse_loss: input {ShapeText.Format(s[0])} and target {ShapeText.Format(s[1])} differ in shape", KilnErrorKind.Shape);
                return new int[0];
            });
            Add<LstmArgs>("lstm_layer", OpKind.LinearAlgebra, -1, (s, a) =>
            {
                if (s[0].Length != 3 || s[0][2] % 4 != 0) throw new KilnException("lstm_layer", "lstm_layer: expected the input projection [T, N, 4*hidden]", KilnErrorKind.Shape);
                // Output: each step's h (the width of h0) then c (hidden).
                return new[] { s[0][0], s[0][1], s[1][s[1].Length - 1] + s[0][2] / 4 };
            });
            Add("rope", OpKind.Elementwise, 3, s => ShapeRules.Rope(s[0], s[1], s[2]));
            Add<DiagonalArgs>("tril", OpKind.Elementwise, 1, (s, a) => Same(s));
            Add<DiagonalArgs>("triu", OpKind.Elementwise, 1, (s, a) => Same(s));
        }
    }
}
