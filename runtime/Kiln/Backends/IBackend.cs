using Kiln.Kernels.Elementwise;

namespace Kiln.Backends;

/// <summary>
/// What a device does for the tensor core: the kernels behind an op once its shapes, dtypes and output are settled. The
/// CPU and CUDA implement it; a <see cref="Tensor"/> reaches its own through <see cref="Tensor.Backend"/>, so an op is
/// written once over this interface instead of branching on the device; autograd recording wraps the op around it.
/// Row kernels work on contiguous [rows, length] data in the compute type (<see cref="Kernels.TypeDispatch.ComputeType"/>).
/// </summary>
internal interface IBackend
{
    /// <summary>y = op(x), x broadcast to y's shape; y in the compute type of its dtype.</summary>
    void Unary<TOp>(Tensor y, Tensor x, TOp op) where TOp : struct, IUnaryOp;

    /// <summary>y = op(a, b), both broadcast to y's shape.</summary>
    void Binary<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryOp;

    /// <summary>y (bool) = op(a, b), both broadcast to y's shape.</summary>
    void Compare<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, ICompareOp;

    /// <summary>y = cond ? a : b, all broadcast to y's shape (y, a and b of one dtype).</summary>
    void Where(Tensor y, Tensor cond, Tensor a, Tensor b);

    /// <summary>y[r] = the sum of row r of x.</summary>
    void RowSum(Tensor x, Tensor y, long rows, long length);

    /// <summary>y[r] = the product of row r of x.</summary>
    void RowProd(Tensor x, Tensor y, long rows, long length);

    /// <summary>The largest (or smallest) value of each row and its first index (NaN wins, as PyTorch).</summary>
    void RowExtreme(Tensor x, Tensor values, Tensor indices, long rows, long length, bool max);

    /// <summary>y = softmax (or log-softmax) of each row of x·scale.</summary>
    void RowSoftmax(Tensor x, Tensor y, long rows, int length, bool log, float scale);

    /// <summary>Each row of x replaced by its running sum, in place.</summary>
    void RowCumSum(Tensor x, long rows, long length);

    /// <summary>index_select: slices of contiguous <paramref name="src"/> along <paramref name="dim"/> picked by a contiguous int64 1-D index (negative indices wrap; out of range is an error naming <paramref name="op"/>).</summary>
    void IndexSelect(string op, Tensor result, Tensor src, Tensor index, int dim);

    /// <summary>gather: result[i] = x[i with dim replaced by index[i]] for a contiguous int64 index of result's shape (no wrap-around).</summary>
    void Gather(string op, Tensor result, Tensor x, Tensor index, int dim);

    /// <summary>scatter / scatter_add into <paramref name="work"/> (in its compute type): work[i with dim replaced by index[i]] = (or +=) src[i].</summary>
    void Scatter(string op, Tensor work, Tensor src, Tensor index, int dim, bool add);

    /// <summary>
    /// C[b] = alpha·A[b]·B[b] + beta·C[b] for every batch index, in the operands' own type where the device has such a
    /// kernel (a new tensor; <paramref name="bias"/> broadcast into it first), else null.
    /// </summary>
    Tensor? GemmInOwnType(Tensor a, Tensor b, int[] batch, int n, int m, int k, double alpha, double beta, Tensor? bias);

    /// <summary>
    /// C[b] = alpha·A[b]·B[b] + beta·C[b] for every batch index: a [batch..., n, k], b [batch..., k, m] with any strides
    /// (transposed or expanded operands are not copied), c contiguous [batch..., n, m], all in the compute type.
    /// </summary>
    void BatchedGemm(Tensor a, Tensor b, Tensor c, int[] batch, int n, int m, int k, double alpha, double beta);

    /// <summary>tril / triu: a copy of x with the values above (lower) or below (upper) diagonal <paramref name="diagonal"/> of the last two dims zeroed.</summary>
    Tensor Triangle(Tensor x, int diagonal, bool lower);

    /// <summary>im2col of contiguous x [N, C, H, W] into cols [N, C·kH·kW, OH·OW] (windows <paramref name="g"/>).</summary>
    void Im2Col(Tensor x, Tensor cols, Kiln.Compiler.Shapes.ConvGeometry g, int oh, int ow);

    /// <summary>col2im: contiguous cols [N, C·kH·kW, OH·OW] summed into <paramref name="image"/> [N, C, H, W] (overwritten).</summary>
    void Col2Im(Tensor cols, Tensor image, Kiln.Compiler.Shapes.ConvGeometry g, int oh, int ow);

    /// <summary>A 2-D convolution of contiguous x, weight and bias (shapes and groups in <paramref name="s"/>): a new [N, O, OH, OW] tensor.</summary>
    Tensor Conv2d(Tensor x, Tensor w, Tensor? b, Kernels.Conv.ConvKernel.Shape s);

    /// <summary>dx, dweight, dbias of <see cref="Conv2d"/> for contiguous x, w and grad; only the requested ones (others null).</summary>
    Tensor?[] Conv2dBackward(Tensor x, Tensor w, bool hasBias, Tensor grad, Kernels.Conv.ConvKernel.Shape s, bool needX, bool needW, bool needB);

    /// <summary>2-D max pool of contiguous [N, C, H, W] <paramref name="x"/> into y and the int64 positions (h·W + w) of the maxima.</summary>
    void MaxPool2d(Tensor x, Tensor y, Tensor indices, Kiln.Compiler.Shapes.ConvGeometry g);

    /// <summary>The input gradient of a max pool: each (contiguous) output gradient added at its saved position.</summary>
    Tensor MaxPool2dBackward(Tensor grad, Tensor indices, int[] inputShape);

    /// <summary>A compiled model's Linear with activation and dropout in the GEMM epilogue (float32; shapes checked).</summary>
    (Tensor Output, Tensor? PreActivation) LinearEpilogue(Tensor x, Tensor w, Tensor? b, Kernels.Gemm.GemmActivation activation, float[]? multiplier, bool keepPreActivation);

    /// <summary>The gradients of <see cref="LinearEpilogue"/> (ReLU gated by <paramref name="output"/> when given).</summary>
    (Tensor? Input, Tensor Weight, Tensor? Bias) LinearEpilogueBackward(Tensor x, Tensor w, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput);

    /// <summary>A compiled model's LayerNorm over the last dim with its statistics kept (<paramref name="produce"/>: the CPU group run inside its pass).</summary>
    (Tensor Output, Tensor Mean, Tensor Rstd) CompiledLayerNorm(NN.LayerNorm layer, Tensor x, System.Action<long, long>? produce);

    /// <summary>The gradients of <see cref="CompiledLayerNorm"/>.</summary>
    (Tensor Input, Tensor? Weight, Tensor? Bias) CompiledLayerNormBackward(NN.LayerNorm layer, Tensor x, Tensor mean, Tensor rstd, Tensor grad);

    /// <summary>A compiled model's RMSNorm over the last dim with its row 1/rms kept (<paramref name="produce"/>: as for <see cref="CompiledLayerNorm"/>).</summary>
    (Tensor Output, Tensor Rstd) CompiledRmsNorm(NN.RMSNorm layer, Tensor x, double eps, System.Action<long, long>? produce);

    /// <summary>The gradients of <see cref="CompiledRmsNorm"/>: the input's and the weight's (null without one).</summary>
    (Tensor Input, Tensor? Weight) CompiledRmsNormBackward(NN.RMSNorm layer, Tensor x, Tensor rstd, Tensor grad);

    /// <summary>
    /// A compiled model's BatchNorm forward with the per-channel mean and 1/σ it used kept: the batch's (<paramref name="useBatch"/>;
    /// in <paramref name="training"/> the running statistics updated as the eager op does) or the running ones.
    /// </summary>
    (Tensor Output, Tensor Mean, Tensor Rstd) CompiledBatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool useBatch, bool training, double momentum, double eps);

    /// <summary>The gradients of <see cref="CompiledBatchNorm"/>: the input's (when <paramref name="needInput"/>), the weight's and the bias's.</summary>
    (Tensor? Input, Tensor? Weight, Tensor? Bias) CompiledBatchNormBackward(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, bool batchStatistics, bool needInput);

    /// <summary>Cross entropy (mean over kept targets) of contiguous float32 rows [n, classes] and int64 targets, keeping each row's log-sum-exp.</summary>
    (Tensor Loss, Tensor Lse, long Count) CrossEntropyRows(Tensor rows, Tensor target, long ignoreIndex);

    /// <summary>The rows' gradient of <see cref="CrossEntropyRows"/>.</summary>
    Tensor CrossEntropyRowsBackward(Tensor rows, Tensor target, Tensor lse, long count, Tensor grad, long ignoreIndex);

    // Fused ops a device may lack: null (or false) means it has no kernel for them, and the op is recorded as a
    // composition of the kernels it has, whose gradients come from the parts' rules.

    /// <summary>A row statistic (mean, variance, standard deviation, p-norm) of each row into y; false where the device has no kernel for it.</summary>
    bool RowStatistic(RowStatistic stat, Tensor x, Tensor y, long rows, long length, double parameter);

    /// <summary>all/any over <paramref name="dims"/> as the device's own kernel; null where it composes them from a count of nonzeros.</summary>
    Tensor? AllAny(Tensor x, string op, int[]? dims, bool keepDim, bool all);

    /// <summary>A sum the device has a faster path for (an integer total in blocks, float32 leading dims); null for the general row sum.</summary>
    Tensor? SumFastPath(Tensor x, int[]? dims, bool keepDim, DType resultType);

    /// <summary>Streaming-softmax attention that never stores the L×S probabilities; null where the device composes it.</summary>
    Tensor? Attention(Tensor q, Tensor k, Tensor v, Tensor? additiveMask, bool causal, double scale, bool grouped);

    /// <summary>Layer norm as one fused op over the trailing <paramref name="width"/> elements; null where the device composes it.</summary>
    Tensor? LayerNorm(Tensor x, int width, Tensor? weight, Tensor? bias, double eps);

    /// <summary>
    /// RMS norm over the trailing <paramref name="width"/> elements as one unrecorded pass (nothing asks for a gradient);
    /// null where the device composes it.
    /// </summary>
    Tensor? RmsNorm(Tensor x, int width, Tensor? weight, double eps);

    /// <summary>
    /// Batch norm over [N, C, *] as one fused op (arguments checked; see <see cref="Tensor.BatchNormOp"/>), updating the
    /// running statistics in training; null where the device composes it.
    /// </summary>
    Tensor? BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training, double momentum, double eps);

    /// <summary>One LSTM layer direction over the whole sequence (arguments checked; see <see cref="Tensor.LstmLayerOp"/>), recorded for backward.</summary>
    Tensor LstmLayer(Tensor proj, Tensor h0, Tensor c0, Tensor whh, Tensor? whr, bool reverse, Tensor? lengths);

    /// <summary>One GRU layer direction over the whole sequence (arguments checked; see <see cref="Tensor.GruLayerOp"/>), recorded for backward.</summary>
    Tensor GruLayer(Tensor proj, Tensor h0, Tensor whh, Tensor? bhh, bool reverse, Tensor? lengths);

    /// <summary>One fused SGD update of contiguous p (momentum buffer <paramref name="buf"/> when momentum is on).</summary>
    void Sgd(Tensor p, Tensor grad, Tensor? buf, SgdStep step);

    /// <summary>One fused Adam/AdamW update (<paramref name="vmax"/> for AMSGrad).</summary>
    void Adam(Tensor p, Tensor grad, Tensor m, Tensor v, Tensor? vmax, AdamStep step);

    /// <summary>One fused RMSprop update.</summary>
    void RmsProp(Tensor p, Tensor grad, Tensor sq, Tensor? gradAvg, Tensor? buf, RmsPropStep step);

    /// <summary>One fused Adagrad update.</summary>
    void Adagrad(Tensor p, Tensor grad, Tensor sum, AdagradStep step);
}
