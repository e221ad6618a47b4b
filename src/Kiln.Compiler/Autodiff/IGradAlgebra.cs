using System.Collections.Generic;
using Kiln.Compiler.Ops.Pointwise;

namespace Kiln.Compiler.Autodiff
{
    /// <summary>
    /// The ops a derivative rule may use, over an opaque value type: the eager runtime implements it with
    /// tensors, the kernel compiler with C# expressions. A rule written against this interface is the one
    /// declaration of that op's derivative; pointwise ops need only the elementwise part, <see cref="IScalarAlgebra{T}"/>.
    /// </summary>
    public interface IGradAlgebra<T> : IScalarAlgebra<T> where T : class
    {
        /// <summary>The value's shape.</summary>
        int[] Shape(T x);
        /// <summary>cond ? a : b, with cond a bool value.</summary>
        T Where(T cond, T a, T b);
        /// <summary>Zeros where mask is true.</summary>
        T MaskedZero(T a, T mask);
        /// <summary>Converts to the dtype of <paramref name="like"/>.</summary>
        T CastLike(T a, T like);
        /// <summary>Sum over dims.</summary>
        T Sum(T a, int[] dims, bool keepDim);
        /// <summary>Sums broadcast dims away so the result has <paramref name="shape"/>.</summary>
        T SumTo(T a, int[] shape);
        /// <summary>Broadcast view to a shape.</summary>
        T Expand(T a, int[] shape);
        /// <summary>Same values, another shape.</summary>
        T Reshape(T a, int[] shape);
        /// <summary>Reorders dims.</summary>
        T Permute(T a, int[] dims);
        /// <summary>Swaps two dims.</summary>
        T Transpose(T a, int d0, int d1);
        /// <summary>Inserts a size-1 dim.</summary>
        T Unsqueeze(T a, int dim);
        /// <summary>torch.matmul.</summary>
        T Matmul(T a, T b);
        /// <summary>Whether a 2-D value lies transposed in memory (column-major: a transposed view of a row-major one).</summary>
        bool IsTransposedInMemory(T a);
        /// <summary>Cumulative sum along a dim.</summary>
        T CumSum(T a, int dim);
        /// <summary>Reverses along a dim (for cumsum's backward).</summary>
        T Flip(T a, int dim);
        /// <summary>The slice [start, start+length) of a dim.</summary>
        T Narrow(T a, int dim, int start, int length);
        /// <summary>Elements start, start+step, ... (<paramref name="length"/> of them) along a dim (a strided slice).</summary>
        T SliceStep(T a, int dim, int start, int step, int length);
        /// <summary>Zeros of <paramref name="shape"/> with <paramref name="src"/> written into dim's [start, start+len) (slicing's backward).</summary>
        T PadSlice(T src, int[] shape, int dim, int start, int step);
        /// <summary>Concatenation along a dim.</summary>
        T Cat(IReadOnlyList<T> parts, int dim);
        /// <summary>The rope op, x·cos + rotate_half(x)·sin over the last dim (its own backward is a rope).</summary>
        T Rope(T x, T cos, T sin);
        /// <summary>Index of a dim, removing it.</summary>
        T Select(T a, int dim, int index);
        /// <summary>Values picked along a dim by an index.</summary>
        T Gather(T a, int dim, T index);
        /// <summary>Zeros of <paramref name="shape"/> plus src scattered-added at index along dim.</summary>
        T ScatterAddInto(int[] shape, T like, int dim, T index, T src);
        /// <summary>Zeros of <paramref name="shape"/> plus src rows added at index along dim (index_select's backward).</summary>
        T IndexAddInto(int[] shape, T like, int dim, T index, T src);
        /// <summary>The value with the positions written by a scatter (index along dim) set to zero.</summary>
        T ScatterZero(T a, int dim, T index);
        /// <summary>Softmax along a dim.</summary>
        T Softmax(T a, int dim);
        /// <summary>Lower triangle.</summary>
        T Tril(T a, int diagonal);

        /// <summary>unfold (im2col) with the window <paramref name="geometry"/>.</summary>
        T Im2Col(T a, Shapes.ConvGeometry geometry);

        /// <summary>fold (col2im) into a <paramref name="height"/> x <paramref name="width"/> image.</summary>
        T Col2Im(T a, int height, int width, Shapes.ConvGeometry geometry);

        /// <summary>Gradients of input, weight and bias of a fused 2-D convolution; only the requested ones.</summary>
        T?[] Conv2dBackward(T x, T weight, bool hasBias, T grad, Shapes.ConvGeometry geometry, int groups, bool needX, bool needW, bool needB);

        /// <summary>
        /// Gradient of a fused 2-D max pool: each output gradient added at its saved input position
        /// (<paramref name="indices"/>: h·W + w within the plane) of an input of <paramref name="inputShape"/>.
        /// </summary>
        T MaxPool2dBackward(T grad, T indices, int[] inputShape);

        /// <summary>Gradients of x, weight and bias of a fused layer norm over rows of length <paramref name="d"/>.</summary>
        T?[] LayerNormBackward(T x, T? weight, bool hasBias, T mean, T rstd, T grad, int d);

        /// <summary>
        /// The gradient of one-input pointwise op <paramref name="op"/> by one fused loop where the algebra has it (eager
        /// tensors, nothing recorded); null to evaluate the op's rule term by term.
        /// </summary>
        T? FusedUnaryBackward(string op, T? input, T? output, T grad);

        /// <summary>
        /// Both gradients of two-input pointwise op <paramref name="op"/> by one fused loop where the algebra has it (eager
        /// tensors of the gradient's shape, nothing recorded): [da, db], null where not needed; null to evaluate the rules.
        /// Operands the rules do not read are null.
        /// </summary>
        T?[]? FusedBinaryBackward(string op, T? a, T? b, T? output, T grad, bool needA, bool needB);

        /// <summary>
        /// The gradient of a softmax (or, with <paramref name="log"/>, log-softmax) along <paramref name="dim"/> from its
        /// output, by one fused row pass where the algebra has it; null to evaluate the rule.
        /// </summary>
        T? FusedSoftmaxBackward(T grad, T output, int dim, bool log);

        /// <summary>Gradients of x and weight of a fused RMS norm over rows of length <paramref name="d"/> from each row's 1/rms (formed with <paramref name="eps"/>).</summary>
        T?[] RmsNormBackward(T x, T? weight, T rstd, T grad, int d, double eps);

        /// <summary>
        /// Gradients of x, weight and bias of a fused batch norm over [N, C, *] from its per-channel mean and 1/σ
        /// (<paramref name="batchStatistics"/>: they were the batch's own, formed with <paramref name="eps"/>).
        /// </summary>
        T?[] BatchNormBackward(T x, T? weight, bool hasBias, T mean, T rstd, T grad, bool batchStatistics, double eps);

        /// <summary>Gradients of the input projection, h0, W_hh and b_hh (null without a bias) of a fused GRU layer direction.</summary>
        T?[] GruLayerBackward(T h0, T weightHh, bool hasBias, T saved, T output, T grad, bool reverse, T? lengths);

        /// <summary>Gradients of the input projection, h0, c0, W_hh and W_hr (null without a projection) of a fused LSTM layer direction.</summary>
        T?[] LstmLayerBackward(T h0, T c0, T weightHh, T? weightHr, T gates, T output, T grad, bool reverse, T? lengths);

        /// <summary>Gradients of q, k and v of streaming attention, recomputed from the saved log-sum-exp.</summary>
        T[] AttentionBackward(T q, T k, T v, T lse, T? mask, T output, T grad, double scale, bool causal);
        /// <summary>Upper triangle.</summary>
        T Triu(T a, int diagonal);
    }
}
