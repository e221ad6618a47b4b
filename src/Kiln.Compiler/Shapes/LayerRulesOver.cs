using System;

namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// The shape rules of the nn layers, written once over a size algebra: what input a layer accepts and what it
    /// returns, with the error text the runtime throws. <see cref="LayerRules"/> reads them on concrete sizes (the
    /// layers' checks); the analyzers read them on symbolic sizes, so both say the same words.
    /// </summary>
    /// <typeparam name="TDim">A size.</typeparam>
    /// <typeparam name="TCount">An element count.</typeparam>
    /// <typeparam name="TA">The algebra.</typeparam>
    public static class LayerRules<TDim, TCount, TA> where TA : struct, IDimAlgebra<TDim, TCount>
    {
        static TA A => default;

        static TDim[] With(TDim[] shape, int at, TDim size)
        {
            var y = (TDim[])shape.Clone();
            y[at] = size;
            return y;
        }

        /// <summary>Linear / F.linear: the input's last dim must be in_features; the output replaces it with out_features.</summary>
        public static TDim[] Linear(TDim[] input, TDim inFeatures, TDim outFeatures)
        {
            if (input.Length == 0 || A.Differ(input[input.Length - 1], inFeatures))
                throw new KilnException("linear", $"linear: mat1 and mat2 shapes cannot be multiplied (input {ShapeText.Format(input)}, weight {ShapeText.Format(new[] { outFeatures, inFeatures })}: input's last dim must be in_features={inFeatures})", KilnErrorKind.Shape);
            return With(input, input.Length - 1, outFeatures);
        }

        /// <summary>
        /// Conv2d: [N, C, H, W] or [C, H, W] input against a weight [out_channels, in_channels/groups, kH, kW] with the
        /// window <paramref name="g"/>; the output's shape.
        /// </summary>
        public static TDim[] Conv2d(TDim[] input, TDim outChannels, TDim inPerGroup, ConvGeometry g, int groups)
        {
            const string op = "conv2d";
            var weight = new[] { outChannels, inPerGroup, A.Of(g.KH), A.Of(g.KW) };
            bool unbatched = input.Length == 3;
            if (input.Length != 4 && !unbatched)
                throw new KilnException(op, $"{op}: expected 3-D (unbatched) or 4-D (batched) input, but got input of size: {ShapeText.Format(input)}", KilnErrorKind.Shape);
            var x = unbatched ? new[] { A.Of(1), input[0], input[1], input[2] } : input;
            if (groups <= 0) throw new KilnException(op, $"{op}: non-positive groups is not supported (groups={groups})", KilnErrorKind.Shape);
            var channels = A.Times(inPerGroup, groups);
            if (A.Differ(x[1], channels))
                throw new KilnException(op, $"{op}: Given groups={groups}, weight of size {ShapeText.Format(weight)}, expected input{ShapeText.Format(x)} to have {channels} channels, but got {x[1]} channels instead", KilnErrorKind.Shape);
            if (A.TryValue(outChannels, out int o) && o % groups != 0) throw new KilnException(op, $"{op}: out_channels ({o}) must be divisible by groups ({groups})", KilnErrorKind.Shape);
            var (oh, ow) = Window(op, g, x[2], x[3], ceil: false);
            return unbatched ? new[] { outChannels, oh, ow } : new[] { x[0], outChannels, oh, ow };
        }

        /// <summary>Output height and width of the window <paramref name="g"/> over <paramref name="h"/> x <paramref name="w"/>; an empty output is an error.</summary>
        public static (TDim H, TDim W) Window(string op, ConvGeometry g, TDim h, TDim w, bool ceil)
        {
            TDim oh = A.Window(h, g.KH, g.DH, g.PH, g.SH, ceil), ow = A.Window(w, g.KW, g.DW, g.PW, g.SW, ceil);
            if (A.TryValue(oh, out int vh) && vh <= 0 || A.TryValue(ow, out int vw) && vw <= 0)
                throw new KilnException(op, $"{op}: Given input size per channel: ({h} x {w}). Calculated output size per channel: ({oh} x {ow}). Output size is too small (kernel ({g.KH}, {g.KW}), dilation ({g.DH}, {g.DW}), padding ({g.PH}, {g.PW}), stride ({g.SH}, {g.SW}))", KilnErrorKind.Shape);
            return (oh, ow);
        }

        /// <summary>2-D pooling (max_pool2d, avg_pool2d): [N, C, H, W] or [C, H, W] in, the pooled shape out.</summary>
        public static TDim[] Pool2d(string op, TDim[] input, ConvGeometry g, bool ceil)
        {
            if (input.Length != 4 && input.Length != 3)
                throw new KilnException(op, $"{op}: expected 3D or 4D input (got shape {ShapeText.Format(input)})", KilnErrorKind.Shape);
            if (g.PH * 2 > g.KH || g.PW * 2 > g.KW)
                throw new KilnException(op, $"{op}: pad should be at most half of effective kernel size, but got pad=({g.PH}, {g.PW}), kernel_size=({g.KH}, {g.KW})", KilnErrorKind.Shape);
            int n = input.Length;
            var (oh, ow) = Window(op, g, input[n - 2], input[n - 1], ceil);
            var y = (TDim[])input.Clone();
            y[n - 2] = oh;
            y[n - 1] = ow;
            return y;
        }

        /// <summary>BatchNorm-style layers: the input's rank must be one of <paramref name="ranks"/> and dim 1 must hold the channels.</summary>
        public static TDim[] Channels(string typeName, TDim[] input, TDim channels, int[] ranks)
        {
            if (Array.IndexOf(ranks, input.Length) < 0)
                throw new KilnException(typeName, $"{typeName}: expected {string.Join(" or ", ranks)}D input (got {input.Length}D input)", KilnErrorKind.Shape);
            if (A.Differ(input[1], channels))
                throw new KilnException(typeName, $"{typeName}: expected input with {channels} channels in dim 1, got shape {ShapeText.Format(input)}", KilnErrorKind.Shape);
            return (TDim[])input.Clone();
        }

        /// <summary>layer_norm / rms_norm: the input's trailing dims must equal normalized_shape.</summary>
        public static TDim[] TrailingDims(string op, TDim[] input, TDim[] normalizedShape)
        {
            int k = normalizedShape.Length;
            bool ok = k > 0 && k <= input.Length;
            for (int i = 0; ok && i < k; i++) ok = !A.Differ(input[input.Length - k + i], normalizedShape[i]);
            if (!ok)
                throw new KilnException(op, $"{op}: Given normalized_shape={ShapeText.Format(normalizedShape)}, expected input with shape [*, {string.Join(", ", normalizedShape)}], but got input of size {ShapeText.Format(input)}", KilnErrorKind.Shape);
            return (TDim[])input.Clone();
        }

        /// <summary>Embedding: integer indices of any shape in, the same shape plus embedding_dim out.</summary>
        public static TDim[] Embedding(TDim[] indices, TDim embeddingDim)
        {
            var y = new TDim[indices.Length + 1];
            indices.CopyTo(y, 0);
            y[indices.Length] = embeddingDim;
            return y;
        }

        /// <summary>LSTM/GRU/RNN: a 2-D or 3-D input whose last dim is input_size; the output's last dim is the width of h.</summary>
        public static TDim[] Recurrent(string typeName, TDim[] input, TDim inputSize, TDim outputWidth)
        {
            if (input.Length != 2 && input.Length != 3)
                throw new KilnException(typeName, $"{typeName}: Expected input to be 2D or 3D, got {input.Length}D instead (shape {ShapeText.Format(input)})", KilnErrorKind.Shape);
            if (A.Differ(input[input.Length - 1], inputSize))
                throw new KilnException(typeName, $"{typeName}: input.size(-1) must be equal to input_size. Expected {inputSize}, got {input[input.Length - 1]}", KilnErrorKind.Shape);
            return With(input, input.Length - 1, outputWidth);
        }

        /// <summary>MultiheadAttention's query: 2-D or 3-D with embed_dim as its last dim (the output has the query's shape).</summary>
        public static TDim[] AttentionQuery(TDim[] query, TDim embedDim)
        {
            if (query.Length != 2 && query.Length != 3)
                throw new KilnException("MultiheadAttention", $"MultiheadAttention: query should be unbatched 2D or batched 3D tensor but received {query.Length}-D query tensor", KilnErrorKind.Shape);
            if (A.Differ(query[query.Length - 1], embedDim))
                throw new KilnException("MultiheadAttention", $"MultiheadAttention: was expecting embedding dimension of {embedDim}, but got {query[query.Length - 1]} (query {ShapeText.Format(query)})", KilnErrorKind.Shape);
            return (TDim[])query.Clone();
        }

        /// <summary>nll_loss / cross_entropy with class indices: the target is the input without its class dim (dim 1, or 0 for 1-D input).</summary>
        public static void ClassTarget(string op, TDim[] input, TDim[] target)
        {
            int classDim = input.Length == 1 ? 0 : 1;
            var expected = new TDim[Math.Max(0, input.Length - 1)];
            for (int i = 0, j = 0; i < input.Length; i++) if (i != classDim) expected[j++] = input[i];
            if (!ShapeRules<TDim, TCount, TA>.SameShape(expected, target))
                throw new KilnException(op, $"{op}: expected target of shape {ShapeText.Format(expected)} for input {ShapeText.Format(input)}, got {ShapeText.Format(target)}", KilnErrorKind.Shape);
        }

        /// <summary>Losses between same-shaped tensors (mse, l1, smooth_l1, huber, bce): the sizes must match.</summary>
        public static void SameSize(string op, TDim[] input, TDim[] target)
        {
            if (!ShapeRules<TDim, TCount, TA>.SameShape(input, target))
                throw new KilnException(op, $"{op}: Target size ({ShapeText.Format(target)}) must be the same as input size ({ShapeText.Format(input)})", KilnErrorKind.Shape);
        }
    }
}
