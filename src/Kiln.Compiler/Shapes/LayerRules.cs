namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// The shape rules of the nn layers on concrete sizes (the runtime layers' checks): each is
    /// <see cref="LayerRules{TDim, TCount, TA}"/> read with <see cref="IntDims"/>, the rule the analyzers read on symbolic sizes.
    /// </summary>
    public static class LayerRules
    {
        /// <summary>Linear / F.linear: the input's last dim must be in_features; the output replaces it with out_features.</summary>
        public static int[] Linear(int[] input, int inFeatures, int outFeatures) => LayerRules<int, long, IntDims>.Linear(input, inFeatures, outFeatures);

        /// <summary>
        /// Conv2d: [N, C, H, W] or [C, H, W] input against weight [O, C/groups, kH, kW] with (height, width) pairs of
        /// stride, padding and dilation; the output's shape and the window geometry.
        /// </summary>
        public static int[] Conv2d(int[] input, int[] weight, int[] stride, int[] padding, int[] dilation, int groups, out ConvGeometry g)
        {
            const string op = "conv2d";
            if (weight.Length != 4) throw new KilnException(op, $"{op}: expected 4-D weight [out_channels, in_channels/groups, kH, kW], got {ShapeText.Format(weight)}", KilnErrorKind.Shape);
            g = new ConvGeometry(op, weight[2], weight[3], dilation[0], dilation[1], padding[0], padding[1], stride[0], stride[1]);
            return LayerRules<int, long, IntDims>.Conv2d(input, weight[0], weight[1], g, groups);
        }

        /// <summary>2-D pooling (max_pool2d, avg_pool2d): [N, C, H, W] or [C, H, W] in, the pooled shape out.</summary>
        public static int[] Pool2d(string op, int[] input, ConvGeometry g, bool ceil) => LayerRules<int, long, IntDims>.Pool2d(op, input, g, ceil);

        /// <summary>BatchNorm-style layers: the input's rank must be one of <paramref name="ranks"/> and dim 1 must hold the channels.</summary>
        public static int[] Channels(string typeName, int[] input, int channels, int[] ranks) => LayerRules<int, long, IntDims>.Channels(typeName, input, channels, ranks);

        /// <summary>layer_norm / rms_norm: the input's trailing dims must equal normalized_shape.</summary>
        public static int[] TrailingDims(string op, int[] input, int[] normalizedShape) => LayerRules<int, long, IntDims>.TrailingDims(op, input, normalizedShape);

        /// <summary>Embedding: integer indices of any shape in, the same shape plus embedding_dim out.</summary>
        public static int[] Embedding(int[] indices, int embeddingDim) => LayerRules<int, long, IntDims>.Embedding(indices, embeddingDim);

        /// <summary>LSTM/GRU/RNN: a 2-D or 3-D input whose last dim is input_size; the output's last dim is the width of h.</summary>
        public static int[] Recurrent(string typeName, int[] input, int inputSize, int outputWidth) => LayerRules<int, long, IntDims>.Recurrent(typeName, input, inputSize, outputWidth);

        /// <summary>MultiheadAttention's construction: the model width must split evenly over the heads.</summary>
        public static void AttentionHeads(int embedDim, int numHeads)
        {
            if (embedDim <= 0 || numHeads <= 0) throw new KilnException("MultiheadAttention", $"MultiheadAttention: embed_dim and num_heads must be positive, got {embedDim}, {numHeads}", KilnErrorKind.Shape);
            if (embedDim % numHeads != 0) throw new KilnException("MultiheadAttention", $"MultiheadAttention: embed_dim must be divisible by num_heads (embed_dim={embedDim}, num_heads={numHeads})", KilnErrorKind.Shape);
        }

        /// <summary>MultiheadAttention's query: 2-D or 3-D with embed_dim as its last dim (the output has the query's shape).</summary>
        public static int[] AttentionQuery(int[] query, int embedDim) => LayerRules<int, long, IntDims>.AttentionQuery(query, embedDim);

        /// <summary>nll_loss / cross_entropy with class indices: the target is the input without its class dim (dim 1, or 0 for 1-D input).</summary>
        public static void ClassTarget(string op, int[] input, int[] target) => LayerRules<int, long, IntDims>.ClassTarget(op, input, target);

        /// <summary>Losses between same-shaped tensors (mse, l1, smooth_l1, huber, bce): the sizes must match.</summary>
        public static void SameSize(string op, int[] input, int[] target) => LayerRules<int, long, IntDims>.SameSize(op, input, target);
    }
}
