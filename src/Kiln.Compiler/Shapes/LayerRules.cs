using System;
using System.Linq;

namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// The shape rules of the nn layers: what input a layer accepts and what it returns, with the error text the
    /// runtime throws. The runtime layers call these for their checks and the build-time analyzers call them on
    /// symbolic shapes, so both say the same words.
    /// </summary>
    public static class LayerRules
    {
        /// <summary>Linear / F.linear: the input's last dim must be in_features; the output replaces it with out_features.</summary>
        public static int[] Linear(int[] input, int inFeatures, int outFeatures)
        {
            if (input.Length == 0 || input[input.Length - 1] != inFeatures)
                throw new KilnException("linear", $"linear: mat1 and mat2 shapes cannot be multiplied (input {ShapeText.Format(input)}, weight {ShapeText.Format(new[] { outFeatures, inFeatures })}: input's last dim must be in_features={inFeatures})", KilnErrorKind.Shape);
            var y = (int[])input.Clone();
            y[y.Length - 1] = outFeatures;
            return y;
        }

        /// <summary>
        /// Conv2d: [N, C, H, W] or [C, H, W] input against weight [O, C/groups, kH, kW] with (height, width) pairs of
        /// stride, padding and dilation; the output's shape and the window geometry.
        /// </summary>
        public static int[] Conv2d(int[] input, int[] weight, int[] stride, int[] padding, int[] dilation, int groups, out ConvGeometry g)
        {
            const string op = "conv2d";
            if (weight.Length != 4) throw new KilnException(op, $"{op}: expected 4-D weight [out_channels, in_channels/groups, kH, kW], got {ShapeText.Format(weight)}", KilnErrorKind.Shape);
            g = new ConvGeometry(op, weight[2], weight[3], dilation[0], dilation[1], padding[0], padding[1], stride[0], stride[1]);
            bool unbatched = input.Length == 3;
            if (input.Length != 4 && !unbatched)
                throw new KilnException(op, $"{op}: expected 3-D (unbatched) or 4-D (batched) input, but got input of size: {ShapeText.Format(input)}", KilnErrorKind.Shape);
            var x = unbatched ? new[] { 1 }.Concat(input).ToArray() : input;
            if (groups <= 0) throw new KilnException(op, $"{op}: non-positive groups is not supported (groups={groups})", KilnErrorKind.Shape);
            if (x[1] != weight[1] * groups)
                throw new KilnException(op, $"{op}: Given groups={groups}, weight of size {ShapeText.Format(weight)}, expected input{ShapeText.Format(x)} to have {weight[1] * groups} channels, but got {x[1]} channels instead", KilnErrorKind.Shape);
            if (weight[0] % groups != 0) throw new KilnException(op, $"{op}: out_channels ({weight[0]}) must be divisible by groups ({groups})", KilnErrorKind.Shape);
            var (oh, ow) = g.Output(op, x[2], x[3]);
            return unbatched ? new[] { weight[0], oh, ow } : new[] { x[0], weight[0], oh, ow };
        }

        /// <summary>2-D pooling (max_pool2d, avg_pool2d): [N, C, H, W] or [C, H, W] in, the pooled shape out.</summary>
        public static int[] Pool2d(string op, int[] input, ConvGeometry g, bool ceil)
        {
            if (input.Length != 4 && input.Length != 3)
                throw new KilnException(op, $"{op}: expected 3D or 4D input (got shape {ShapeText.Format(input)})", KilnErrorKind.Shape);
            if (g.PH * 2 > g.KH || g.PW * 2 > g.KW)
                throw new KilnException(op, $"{op}: pad should be at most half of effective kernel size, but got pad=({g.PH}, {g.PW}), kernel_size=({g.KH}, {g.KW})", KilnErrorKind.Shape);
            int n = input.Length;
            var (oh, ow) = g.Output(op, input[n - 2], input[n - 1], ceil);
            var y = (int[])input.Clone();
            y[n - 2] = oh;
            y[n - 1] = ow;
            return y;
        }

        /// <summary>BatchNorm-style layers: the input's rank must be one of <paramref name="ranks"/> and dim 1 must hold the channels.</summary>
        public static int[] Channels(string typeName, int[] input, int channels, int[] ranks)
        {
            if (Array.IndexOf(ranks, input.Length) < 0)
                throw new KilnException(typeName, $"{typeName}: expected {string.Join(" or ", ranks)}D input (got {input.Length}D input)", KilnErrorKind.Shape);
            if (input[1] != channels)
                throw new KilnException(typeName, $"{typeName}: expected input with {channels} channels in dim 1, got shape {ShapeText.Format(input)}", KilnErrorKind.Shape);
            return (int[])input.Clone();
        }

        /// <summary>layer_norm / rms_norm: the input's trailing dims must equal normalized_shape.</summary>
        public static int[] TrailingDims(string op, int[] input, int[] normalizedShape)
        {
            int k = normalizedShape.Length;
            bool ok = k > 0 && k <= input.Length;
            for (int i = 0; ok && i < k; i++) ok = input[input.Length - k + i] == normalizedShape[i];
            if (!ok)
                throw new KilnException(op, $"{op}: Given normalized_shape={ShapeText.Format(normalizedShape)}, expected input with shape [*, {string.Join(", ", normalizedShape)}], but got input of size {ShapeText.Format(input)}", KilnErrorKind.Shape);
            return (int[])input.Clone();
        }

        /// <summary>Embedding: integer indices of any shape in, the same shape plus embedding_dim out.</summary>
        public static int[] Embedding(int[] indices, int embeddingDim) => indices.Concat(new[] { embeddingDim }).ToArray();

        /// <summary>LSTM/GRU/RNN: a 2-D or 3-D input whose last dim is input_size; the output's last dim is the width of h.</summary>
        public static int[] Recurrent(string typeName, int[] input, int inputSize, int outputWidth)
        {
            if (input.Length != 2 && input.Length != 3)
                throw new KilnException(typeName, $"{typeName}: Expected input to be 2D or 3D, got {input.Length}D instead (shape {ShapeText.Format(input)})", KilnErrorKind.Shape);
            if (input[input.Length - 1] != inputSize)
                throw new KilnException(typeName, $"{typeName}: input.size(-1) must be equal to input_size. Expected {inputSize}, got {input[input.Length - 1]}", KilnErrorKind.Shape);
            var y = (int[])input.Clone();
            y[y.Length - 1] = outputWidth;
            return y;
        }

        /// <summary>MultiheadAttention's construction: the model width must split evenly over the heads.</summary>
        public static void AttentionHeads(int embedDim, int numHeads)
        {
            if (embedDim <= 0 || numHeads <= 0) throw new KilnException("MultiheadAttention", $"MultiheadAttention: embed_dim and num_heads must be positive, got {embedDim}, {numHeads}", KilnErrorKind.Shape);
            if (embedDim % numHeads != 0) throw new KilnException("MultiheadAttention", $"MultiheadAttention: embed_dim must be divisible by num_heads (embed_dim={embedDim}, num_heads={numHeads})", KilnErrorKind.Shape);
        }

        /// <summary>MultiheadAttention's query: 2-D or 3-D with embed_dim as its last dim (the output has the query's shape).</summary>
        public static int[] AttentionQuery(int[] query, int embedDim)
        {
            if (query.Length != 2 && query.Length != 3)
                throw new KilnException("MultiheadAttention", $"MultiheadAttention: query should be unbatched 2D or batched 3D tensor but received {query.Length}-D query tensor", KilnErrorKind.Shape);
            if (query[query.Length - 1] != embedDim)
                throw new KilnException("MultiheadAttention", $"MultiheadAttention: was expecting embedding dimension of {embedDim}, but got {query[query.Length - 1]} (query {ShapeText.Format(query)})", KilnErrorKind.Shape);
            return (int[])query.Clone();
        }

        /// <summary>nll_loss / cross_entropy with class indices: the target is the input without its class dim (dim 1, or 0 for 1-D input).</summary>
        public static void ClassTarget(string op, int[] input, int[] target)
        {
            int classDim = input.Length == 1 ? 0 : 1;
            var expected = new int[Math.Max(0, input.Length - 1)];
            for (int i = 0, j = 0; i < input.Length; i++) if (i != classDim) expected[j++] = input[i];
            if (!ShapeRules.SameShape(expected, target))
                throw new KilnException(op, $"{op}: expected target of shape {ShapeText.Format(expected)} for input {ShapeText.Format(input)}, got {ShapeText.Format(target)}", KilnErrorKind.Shape);
        }

        /// <summary>Losses between same-shaped tensors (mse, l1, smooth_l1, huber, bce): the sizes must match.</summary>
        public static void SameSize(string op, int[] input, int[] target)
        {
            if (!ShapeRules.SameShape(input, target))
                throw new KilnException(op, $"{op}: Target size ({ShapeText.Format(target)}) must be the same as input size ({ShapeText.Format(input)})", KilnErrorKind.Shape);
        }
    }
}
