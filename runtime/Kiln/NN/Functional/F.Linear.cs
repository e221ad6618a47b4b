using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>y = x·Wᵀ + b over the last dim of <paramref name="input"/> (any leading dims); weight [out, in], bias [out].</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        if (weight.Dim != 2)
            throw new KilnException("linear", $"linear: weight must be 2-D [out_features, in_features], got {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        LayerRules.Linear(input.ShapeArray, weight.Size(1), weight.Size(0));
        // Named here rather than by the GEMM inside (addmm): the user called a Linear.
        if (input.DType != weight.DType && !Autocast.IsEnabled(input.Device.Type))
            throw new KilnException("linear", $"linear: expected the input to have the weight's dtype {weight.DType}, but got {input.DType}"
                + (input.DType.IsFloatingPoint() ? $"; convert one side with .To(DType.{weight.DType})" : $"; an integer input needs .To(DType.{weight.DType}) (indices go to an Embedding instead)"), KilnErrorKind.DType);
        if (Bf16Decode(input, weight, bias) is { } fast) return fast;
        using var wt = weight.T;
        if (input.Dim == 2)
            return bias is null ? input.Matmul(wt) : Tensor.Addmm(bias, input, wt);
        // Leading dims fold into rows so the whole batch is one GEMM.
        var outShape = (int[])input.ShapeArray.Clone();
        outShape[^1] = weight.Size(0);
        using var flat = input.Reshape(-1, input.Size(-1));
        using var y = bias is null ? flat.Matmul(wt) : Tensor.Addmm(bias, flat, wt);
        return y.Reshape(outShape);
    }

    /// <summary>
    /// A bfloat16 weight with no gradient to record (decoding, a prompt's prefill): the weight read as stored, the rows and
    /// bias in float32, the result cast back to the weight's dtype. Null when the case does not apply.
    /// </summary>
    /// <remarks>
    /// Converting the weight to float32 for the general GEMM cost more than the product (256 × 2048 → 768 on 1 thread:
    /// 13.1 ms that way; 7.1 ms streaming the bf16 weight through the few-rows kernel; 4.6 ms blocked, the weight widened
    /// as its panels are packed). <see cref="Kernels.Gemm.Sgemm.MultiplyBf16Weight"/> picks between the last two by rows,
    /// and is handed the bf16 rows as well, so CPUs with AVX512_BF16 multiply bf16 by bf16 without widening either.
    /// </remarks>
    static unsafe Tensor? Bf16Decode(Tensor input, Tensor weight, Tensor? bias)
    {
        if (weight.DType != DType.BFloat16 || input.DType != DType.BFloat16 || input.Device.Type != DeviceType.Cpu || !weight.IsContiguous) return null;
        if (GradMode.Enabled && (input.RequiresGrad || weight.RequiresGrad || bias?.RequiresGrad == true)) return null;
        if (!input.IsContiguous)
        {
            // A view (the prompt's last position, narrowed for the head) copied in bfloat16 goes through the dot-product
            // kernels; the widening path below would multiply it by float32 tiles (8 × 768 → 32000: 2.7 ms of a prompt).
            using var dense = input.Contiguous();
            return Bf16Decode(dense, weight, bias);
        }
        int n = weight.Size(0), k = weight.Size(1);
        long rows = input.Numel / Math.Max(1, k);
        if (rows == 0 || rows > int.MaxValue) return null;
        using var b = bias?.To(DType.Float32).Contiguous();
        var epilogue = new Kernels.Gemm.GemmEpilogue { ColumnBias = b is null ? null : b.Ptr<float>(), Ld = n };
        var outShape = (int[])input.ShapeArray.Clone();
        outShape[^1] = n;
        // Rows the dot-product kernels take as stored need no float32 copy (a prompt's q, k and v each widened the same
        // 256 × 768 rows again: 0.1–0.2 ms a product; a batch-8 decode step widened its rows 85 times).
        bool widen = !(input.IsContiguous && k > 0 && Kernels.Gemm.Sgemm.TakesBf16RowsAsStored((int)rows, n, k));
        if (rows * Math.Max(k, n) <= ScratchFloats && input.IsContiguous && Kernels.Elementwise.Bf16Elementwise.Enabled)
        {
            // A decode step's product: the widened rows and the float result in this thread's buffers, only the result a
            // tensor (three tensors and two conversion ops cost 3.4 µs a call, 84 calls a step of a 12-layer Llama).
            float* xs = widen ? (float*)(_bf16Rows ??= new()).Get(rows * k * sizeof(float)) : null;
            float* ys = (float*)(_bf16Result ??= new()).Get(rows * n * sizeof(float));
            if (widen) Kernels.Elementwise.Bf16Elementwise.Widen(input.Ptr<ushort>(), 1, xs, (int)(rows * k));
            Kernels.Gemm.Sgemm.MultiplyBf16Weight((int)rows, n, k, xs, k, weight.Ptr<ushort>(), ys, n, epilogue, input.Ptr<ushort>());
            var result = Tensor.Empty(outShape, DType.BFloat16);
            Kernels.Elementwise.Bf16Elementwise.Round(ys, result.Ptr<ushort>(), 1, (int)(rows * n));
            return result;
        }
        using var x = widen ? input.Reshape(-1, k).To(DType.Float32).Contiguous() : null;
        using var y = Tensor.Empty(new[] { (int)rows, n }, DType.Float32);
        Kernels.Gemm.Sgemm.MultiplyBf16Weight((int)rows, n, k, x is null ? null : x.Ptr<float>(), k, weight.Ptr<ushort>(), y.Ptr<float>(), n, epilogue, input.IsContiguous ? input.Ptr<ushort>() : null);
        using var shaped = y.Reshape(outShape);
        return shaped.To(DType.BFloat16);
    }

    /// <summary>Largest operand or result (in floats) a bfloat16 product keeps in thread buffers rather than tensors (1 MiB:
    /// a batch-8 decode step's vocabulary head).</summary>
    const long ScratchFloats = 1 << 18;
    [ThreadStatic] static Memory.ThreadScratch? _bf16Rows, _bf16Result;

    /// <summary>Zeroes elements with probability <paramref name="p"/> and scales the rest by 1/(1-p) when <paramref name="training"/>.</summary>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        if (p < 0 || p > 1) throw new KilnException("dropout", $"dropout: probability has to be between 0 and 1, but got {p}");
        if (!training || p == 0) return input;
        if (p == 1) return input * 0.0;
        if (input.Device.Type == DeviceType.Cpu && input.DType == DType.Float32 && input.IsContiguous)
        {
            // One pass: the mask drawn and applied together, kept only for a backward (recorded as the same product).
            bool recorded = GradMode.Enabled && (input.RequiresGrad || (input.TraceInput && GradMode.Tracing));
            var y = Tensor.DropoutApply(input, p, generator, recorded, out var kept);
            using (kept) return recorded ? Tensor.Record("mul", y, null, input, kept!) : y;
        }
        using var mask = Tensor.DropoutMask(input.ShapeArray, p, input.DType, generator);
        // Drawn on the host (the same Philox stream, so the same mask on every device), then sent to the input's device
        // (on the CPU an alias of it).
        using var onDevice = mask.To(input.Device);
        return input * onDevice;
    }

    /// <summary>Rows of <paramref name="weight"/> [num, dim] picked by integer <paramref name="indices"/>; rows at <paramref name="paddingIdx"/> get no gradient.</summary>
    public static Tensor Embedding(Tensor indices, Tensor weight, int? paddingIdx = null)
    {
        if (weight.Dim != 2) throw new KilnException("embedding", $"embedding: weight must be 2-D, got {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        if (indices.DType.IsFloatingPoint() || indices.DType == DType.Bool)
            throw new KilnException("embedding", $"embedding: expected indices of an integer type (Long or Int), got {indices.DType}", KilnErrorKind.DType);
        var outShape = new int[indices.Dim + 1];
        for (int i = 0; i < indices.Dim; i++) outShape[i] = indices.Size(i);
        outShape[^1] = weight.Size(1);
        using var flat = indices.Reshape(-1);
        int num = weight.Size(0);
        using (var lo = flat.Lt(0)) using (var hi = flat.Ge(num)) using (var bad = lo.Any()) using (var bad2 = hi.Any())
            if (bad.Item<bool>() || bad2.Item<bool>())
                throw new KilnException("embedding", $"embedding: index out of range in self (indices must lie in [0, {num}), weight {ShapeText.Format(weight.ShapeArray)})", KilnErrorKind.Index);
        using var rows = weight.IndexSelect(0, flat);
        Tensor picked = rows;
        if (paddingIdx is int pad && weight.RequiresGrad && GradMode.Enabled && !GradMode.Tracing)
        {
            // Same values, but the padding rows' contribution is cut from the graph.
            int pi = pad < 0 ? pad + num : pad;
            using var isPad = flat.Eq(pi).Unsqueeze(1);
            using var frozen = rows.Detach();
            picked = Tensor.Where(isPad, frozen, rows);
        }
        var r = picked.Reshape(outShape);
        if (!ReferenceEquals(picked, rows)) picked.Dispose();
        return r;
    }

    /// <summary>One-hot encoding of int64 class indices: shape + [numClasses], int64 (numClasses -1 = max + 1).</summary>
    public static Tensor OneHot(Tensor indices, int numClasses = -1)
    {
        using var scope = Tensor.Scope();
        if (indices.DType != DType.Int64) throw new KilnException("one_hot", $"one_hot is only applicable to index tensor (int64), got {indices.DType}", KilnErrorKind.DType);
        if (numClasses < 0)
        {
            if (indices.Numel == 0) throw new KilnException("one_hot", "one_hot: can not infer total number of classes from empty tensor");
            using var mx = indices.Max();
            numClasses = (int)mx.Item<long>() + 1;
        }
        using (var mn = indices.Numel > 0 ? indices.Min() : Tensor.Scalar(0L))
        using (var mx = indices.Numel > 0 ? indices.Max() : Tensor.Scalar(0L))
            if (mn.Item<long>() < 0 || mx.Item<long>() >= numClasses)
                throw new KilnException("one_hot", $"one_hot: class values must be in [0, {numClasses}), got values in [{mn.Item<long>()}, {mx.Item<long>()}]", KilnErrorKind.Shape);
        var shape = new int[indices.Dim + 1];
        for (int i = 0; i < indices.Dim; i++) shape[i] = indices.Size(i);
        shape[^1] = numClasses;
        using var zeros = Tensor.Zeros(shape, DType.Int64, indices.Device);
        using var idx = indices.Unsqueeze(-1);
        return scope.Keep(zeros.Scatter(-1, idx, 1.0));
    }

    /// <summary>
    /// Zeroes whole channels of [N, C, L] (or [C, L]) with probability <paramref name="p"/> and scales the rest by 1/(1-p)
    /// (<c>F.dropout1d</c>); the identity when not <paramref name="training"/>.
    /// </summary>
    public static Tensor Dropout1d(Tensor input, double p = 0.5, bool training = true, Generator? generator = null) =>
        ChannelDropout("dropout1d", input, p, training, generator, 1);

    /// <summary>
    /// Zeroes whole channels of [N, C, H, W] (or [C, H, W]) with probability <paramref name="p"/> and scales the rest by
    /// 1/(1-p) (<c>F.dropout2d</c>); the identity when not <paramref name="training"/>.
    /// </summary>
    public static Tensor Dropout2d(Tensor input, double p = 0.5, bool training = true, Generator? generator = null) =>
        ChannelDropout("dropout2d", input, p, training, generator, 2);

    /// <summary>
    /// Zeroes whole channels of [N, C, D, H, W] (or [C, D, H, W]) with probability <paramref name="p"/> and scales the rest
    /// by 1/(1-p) (<c>F.dropout3d</c>); the identity when not <paramref name="training"/>.
    /// </summary>
    public static Tensor Dropout3d(Tensor input, double p = 0.5, bool training = true, Generator? generator = null) =>
        ChannelDropout("dropout3d", input, p, training, generator, 3);

    /// <summary>Channel dropout over inputs with <paramref name="spatial"/> dims after the channel dim, batched or not.</summary>
    internal static Tensor ChannelDropout(string op, Tensor input, double p, bool training, Generator? generator, int spatial)
    {
        if (p < 0 || p > 1) throw new KilnException(op, $"{op}: dropout probability has to be between 0 and 1, but got {p}");
        if (input.Dim != spatial + 1 && input.Dim != spatial + 2)
            throw new KilnException(op, $"{op}: expected {spatial + 1}D or {spatial + 2}D input [N, C, {(spatial == 1 ? "L" : spatial == 2 ? "H, W" : "D, H, W")}] (got shape {ShapeText.Format(input.ShapeArray)})", KilnErrorKind.Shape);
        if (!training || p == 0) return input;
        var maskShape = (int[])input.ShapeArray.Clone();
        for (int i = input.Dim == spatial + 2 ? 2 : 1; i < maskShape.Length; i++) maskShape[i] = 1;
        using var hostDraw = Tensor.Rand(maskShape, input.DType, generator);
        using var draw = hostDraw.To(input.Device);
        using var keep = draw.Ge(p);
        using var mask = keep.To(input.DType);
        using var scaled = p == 1 ? mask.To(mask.DType) : mask.Mul(1.0 / (1 - p));
        return input.Mul(scaled);
    }

    /// <summary>
    /// y = x1ᵀ·A·x2 + b for each output feature (<c>F.bilinear</c>): x1 [*, in1], x2 [*, in2], weight [out, in1, in2].
    /// </summary>
    public static Tensor Bilinear(Tensor input1, Tensor input2, Tensor weight, Tensor? bias = null)
    {
        const string op = "bilinear";
        if (weight.Dim != 3 || input1.Dim < 1 || input1.Size(-1) != weight.Size(1) || input2.Size(-1) != weight.Size(2)
            || !Kiln.Compiler.Shapes.ShapeRules.SameShape(input1.ShapeArray[..^1], input2.ShapeArray[..^1]))
            throw new KilnException(op, $"{op}: inputs {ShapeText.Format(input1.ShapeArray)} and {ShapeText.Format(input2.ShapeArray)} do not fit weight {ShapeText.Format(weight.ShapeArray)} [out, in1, in2] (same leading dims, last dims in1 and in2)", KilnErrorKind.Shape);
        int o = weight.Size(0), i1 = weight.Size(1), i2 = weight.Size(2);
        var lead = input1.ShapeArray[..^1];
        using var x1 = input1.Reshape(-1, i1);
        using var x2 = input2.Reshape(-1, i2);
        // x1·(A as [in1, out·in2]) gives each row's x1ᵀA for every output, then the dot with x2.
        using var arranged = weight.Permute(1, 0, 2);
        using var flat = arranged.Reshape(i1, o * i2);
        using var left = x1.Matmul(flat);
        using var grouped = left.Reshape(-1, o, i2);
        using var right = x2.Unsqueeze(1);
        using var product = grouped * right;
        using var summed = product.Sum(-1);
        using var withBias = bias is null ? null : summed + bias;
        return (withBias ?? summed).Reshape([.. lead, o]);
    }
}
