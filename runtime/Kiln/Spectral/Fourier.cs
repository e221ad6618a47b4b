using System;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Spectral;

namespace Kiln;

/// <summary>
/// Discrete Fourier transforms (<c>torch.fft</c>): <see cref="Fft(ComplexTensor, int?, int, string)"/>/<see cref="Ifft"/> of complex signals,
/// <see cref="Rfft"/>/<see cref="Irfft"/> of real ones (the half spectrum), <see cref="Hfft"/>/<see cref="Ihfft"/>, their 2-D
/// and n-D forms, <see cref="Fftfreq"/>, <see cref="Rfftfreq"/>, <see cref="Fftshift"/>, <see cref="Ifftshift"/>, and
/// <see cref="Stft"/>/<see cref="Istft"/>. Complex values are <see cref="ComplexTensor"/>s. <c>n</c> zero-pads or cuts the signal;
/// <c>norm</c> is "backward" (the default: the inverse divides by n), "ortho" (both by √n) or "forward" (the forward
/// divides). Transforms run on the host (mixed radix 4/2/3/5, Bluestein for a large prime factor) in the signal's
/// precision — float32 rows in float32 as PyTorch's pocketfft does, eight at a time in vector lanes; float64 in float64 —
/// and are differentiable: the backward of a transform is the transform of the opposite sign.
/// </summary>
public static class Fourier
{
    /// <summary>The one-dimensional DFT along <paramref name="dim"/> (<c>torch.fft.fft</c>).</summary>
    public static ComplexTensor Fft(ComplexTensor x, int? n = null, int dim = -1, string norm = "backward") => Transform("fft", x, n, dim, norm, inverse: false);

    /// <summary>The DFT of a real signal (<c>torch.fft.fft</c> of a real tensor): the full spectrum.</summary>
    public static ComplexTensor Fft(Tensor x, int? n = null, int dim = -1, string norm = "backward")
    {
        using var scope = Tensor.Scope();
        return ComplexTensor.Kept(scope, Fft(ComplexTensor.FromReal(x), n, dim, norm));
    }

    /// <summary>The inverse DFT (<c>torch.fft.ifft</c>).</summary>
    public static ComplexTensor Ifft(ComplexTensor x, int? n = null, int dim = -1, string norm = "backward") => Transform("ifft", x, n, dim, norm, inverse: true);

    /// <summary>The DFT of a real signal's non-negative frequencies: n/2 + 1 bins (<c>torch.fft.rfft</c>).</summary>
    public static ComplexTensor Rfft(Tensor x, int? n = null, int dim = -1, string norm = "backward")
    {
        RequireReal("rfft", x);
        int d = ShapeRules.NormalizeDim("rfft", dim, x.Dim);
        int length = n ?? x.Size(d);
        if (length < 1) throw new KilnException("rfft", $"rfft: invalid number of data points ({length}) specified", KilnErrorKind.Shape);
        double scale = Scale("rfft", norm, length, inverse: false);
        using var scope = Tensor.Scope();   // a cut or zero-padded copy of the signal
        var fitted = Fit(x, d, length);
        return ComplexTensor.Kept(scope, ComplexTensor.ViewAsComplex(RealToComplex(fitted, d, scale)));
    }

    /// <summary>
    /// The real signal of length <paramref name="n"/> (default 2·(bins − 1)) whose half spectrum is <paramref name="x"/>
    /// (<c>torch.fft.irfft</c>): the other half is the mirrored conjugate; the imaginary parts of the zero and Nyquist
    /// bins have no effect.
    /// </summary>
    public static Tensor Irfft(ComplexTensor x, int? n = null, int dim = -1, string norm = "backward")
    {
        int d = ShapeRules.NormalizeDim("irfft", dim, x.Dim);
        int length = n ?? 2 * (x.Size(d) - 1);
        if (length < 1) throw new KilnException("irfft", $"irfft: invalid number of data points ({length}) specified", KilnErrorKind.Shape);
        using var scope = Tensor.Scope();
        var half = Fit(x.AsReal, d, length / 2 + 1);
        int mirrored = length - (length / 2 + 1);
        var pairs = half;
        if (mirrored > 0)
        {
            var tail = ComplexTensor.ViewAsComplex(half.Narrow(d, 1, mirrored).Flip(d)).Conj();
            pairs = Tensor.Cat([half, tail.AsReal], d);
        }
        var signal = Transform("irfft", ComplexTensor.ViewAsComplex(pairs), length, d, norm, inverse: true);
        return scope.Keep(signal.Real);
    }

    /// <summary>The real spectrum of a Hermitian-symmetric signal given by its first half (<c>torch.fft.hfft</c>).</summary>
    public static Tensor Hfft(ComplexTensor x, int? n = null, int dim = -1, string norm = "backward")
    {
        using var scope = Tensor.Scope();
        return scope.Keep(Irfft(x.Conj(), n, dim, Swap(norm)));
    }

    /// <summary>The inverse of <see cref="Hfft"/> for a real signal: n/2 + 1 bins (<c>torch.fft.ihfft</c>).</summary>
    public static ComplexTensor Ihfft(Tensor x, int? n = null, int dim = -1, string norm = "backward")
    {
        using var scope = Tensor.Scope();
        return ComplexTensor.Kept(scope, Rfft(x, n, dim, Swap(norm)).Conj());
    }

    /// <summary>The 2-D DFT over <paramref name="dims"/> (default the last two) (<c>torch.fft.fft2</c>).</summary>
    public static ComplexTensor Fft2(ComplexTensor x, int[]? s = null, int[]? dims = null, string norm = "backward") => Fftn(x, s, dims ?? [-2, -1], norm);

    /// <summary>The 2-D inverse DFT (<c>torch.fft.ifft2</c>).</summary>
    public static ComplexTensor Ifft2(ComplexTensor x, int[]? s = null, int[]? dims = null, string norm = "backward") => Ifftn(x, s, dims ?? [-2, -1], norm);

    /// <summary>The 2-D DFT of a real signal, halved along the last dim (<c>torch.fft.rfft2</c>).</summary>
    public static ComplexTensor Rfft2(Tensor x, int[]? s = null, int[]? dims = null, string norm = "backward") => Rfftn(x, s, dims ?? [-2, -1], norm);

    /// <summary>The inverse of <see cref="Rfft2"/> (<c>torch.fft.irfft2</c>).</summary>
    public static Tensor Irfft2(ComplexTensor x, int[]? s = null, int[]? dims = null, string norm = "backward") => Irfftn(x, s, dims ?? [-2, -1], norm);

    /// <summary>The DFT over several dims (every dim by default) (<c>torch.fft.fftn</c>).</summary>
    public static ComplexTensor Fftn(ComplexTensor x, int[]? s = null, int[]? dims = null, string norm = "backward")
    {
        var (ds, sizes) = Dims("fftn", x.Dim, x.ShapeArray, s, dims);
        using var scope = Tensor.Scope();
        for (int i = 0; i < ds.Length; i++) x = Fft(x, sizes[i], ds[i], norm);
        return ComplexTensor.Kept(scope, x);
    }

    /// <summary>The inverse DFT over several dims (<c>torch.fft.ifftn</c>).</summary>
    public static ComplexTensor Ifftn(ComplexTensor x, int[]? s = null, int[]? dims = null, string norm = "backward")
    {
        var (ds, sizes) = Dims("ifftn", x.Dim, x.ShapeArray, s, dims);
        using var scope = Tensor.Scope();
        for (int i = 0; i < ds.Length; i++) x = Ifft(x, sizes[i], ds[i], norm);
        return ComplexTensor.Kept(scope, x);
    }

    /// <summary>The n-D DFT of a real signal: a real transform along the last of <paramref name="dims"/>, full ones along the rest (<c>torch.fft.rfftn</c>).</summary>
    public static ComplexTensor Rfftn(Tensor x, int[]? s = null, int[]? dims = null, string norm = "backward")
    {
        var (ds, sizes) = Dims("rfftn", x.Dim, x.ShapeArray, s, dims);
        using var scope = Tensor.Scope();
        var y = Rfft(x, sizes[^1], ds[^1], norm);
        for (int i = 0; i < ds.Length - 1; i++) y = Fft(y, sizes[i], ds[i], norm);
        return ComplexTensor.Kept(scope, y);
    }

    /// <summary>The inverse of <see cref="Rfftn"/> (<c>torch.fft.irfftn</c>); the last size defaults to 2·(bins − 1).</summary>
    public static Tensor Irfftn(ComplexTensor x, int[]? s = null, int[]? dims = null, string norm = "backward")
    {
        var shape = x.ShapeArray;
        var (ds, sizes) = Dims("irfftn", x.Dim, shape, s, dims);
        if (s is null) sizes[^1] = 2 * (shape[ds[^1]] - 1);
        using var scope = Tensor.Scope();
        for (int i = 0; i < ds.Length - 1; i++) x = Ifft(x, sizes[i], ds[i], norm);
        return scope.Keep(Irfft(x, sizes[^1], ds[^1], norm));
    }

    /// <summary>The sample frequencies of an n-point DFT with spacing <paramref name="d"/> (<c>torch.fft.fftfreq</c>).</summary>
    public static Tensor Fftfreq(int n, double d = 1, DType dtype = DType.Float32)
    {
        var f = new double[n];
        for (int i = 0; i < n; i++) f[i] = (i < (n + 1) / 2 ? i : i - n) / (d * n);
        return Tensor.From(f, n).To(dtype);
    }

    /// <summary>The non-negative sample frequencies of <see cref="Rfft"/> (<c>torch.fft.rfftfreq</c>).</summary>
    public static Tensor Rfftfreq(int n, double d = 1, DType dtype = DType.Float32)
    {
        var f = new double[n / 2 + 1];
        for (int i = 0; i < f.Length; i++) f[i] = i / (d * n);
        return Tensor.From(f, f.Length).To(dtype);
    }

    /// <summary>Moves the zero frequency to the centre of <paramref name="dims"/> (every dim by default) (<c>torch.fft.fftshift</c>).</summary>
    public static Tensor Fftshift(Tensor x, int[]? dims = null) => Shift(x, dims, inverse: false);

    /// <summary>The inverse of <see cref="Fftshift"/> (<c>torch.fft.ifftshift</c>).</summary>
    public static Tensor Ifftshift(Tensor x, int[]? dims = null) => Shift(x, dims, inverse: true);

    /// <summary>
    /// The short-time Fourier transform (<c>torch.stft(..., return_complex=True)</c>) of [L] or [B, L]: frames of
    /// <paramref name="nFft"/> every <paramref name="hopLength"/> samples (default nFft/4), each times the window
    /// (<paramref name="window"/> of <paramref name="winLength"/>, centred in nFft; ones when null), transformed; with
    /// <paramref name="center"/> the signal is first padded by nFft/2 on both sides (<paramref name="padMode"/>, "reflect"
    /// by default). Gives [(B,) bins, frames], bins = nFft/2 + 1 when <paramref name="onesided"/>.
    /// </summary>
    public static ComplexTensor Stft(Tensor x, int nFft, int? hopLength = null, int? winLength = null, Tensor? window = null, bool center = true,
        string padMode = "reflect", bool normalized = false, bool onesided = true)
    {
        const string op = "stft";
        RequireReal(op, x);
        if (x.Dim is not (1 or 2)) throw new KilnException(op, $"{op}: expected a 1-D or 2-D signal, got {ShapeText.Format(x.ShapeArray)}", KilnErrorKind.Shape);
        using var scope = Tensor.Scope();   // the padded signal, the frames and the spectrum go when it returns
        var (hop, w) = FrameSettings(op, nFft, hopLength, winLength, window, x.DType, x.Device);
        var signal = x.Dim == 1 ? x.Unsqueeze(0) : x;
        // Centring pads by n_fft/2 on both sides. A copying mode needs no padded copy: its positions are composed with
        // the frames' so one gather reads every frame from the signal (its gradient adds the mirrored samples back).
        NN.PadMap? padded = null;
        if (center && padMode == "constant") signal = NN.F.Pad(signal, [nFft / 2, nFft / 2], padMode);
        else if (center) padded = NN.PadMap.For("pad", padMode, signal.ShapeArray, 1, nFft / 2, nFft / 2);
        int length = padded?.Length ?? signal.Size(1);
        if (length < nFft)
            throw new KilnException(op, $"{op}: the signal ({length} samples{(center ? " after padding" : "")}) is shorter than n_fft = {nFft}", KilnErrorKind.Shape);
        // The frames gathered into a dense [B, frames, nFft] (an index_select: elementwise work over the overlapping
        // unfold view walks it slowly), differentiable as a gather.
        int count = (length - nFft) / hop + 1;
        var frames = signal.IndexSelect(1, FramePositions(count, nFft, hop, padded, signal.Device)).Reshape(signal.Size(0), count, nFft);
        frames = frames * w;
        var spectrum = onesided ? Rfft(frames, null, -1, normalized ? "ortho" : "backward") : Fft(frames, null, -1, normalized ? "ortho" : "backward");
        var bins = ComplexTensor.ViewAsComplex(spectrum.AsReal.Transpose(1, 2));   // [B, bins, frames]
        return ComplexTensor.Kept(scope, x.Dim == 1 ? ComplexTensor.ViewAsComplex(bins.AsReal.Squeeze(0)) : bins);
    }

    /// <summary>
    /// The inverse of <see cref="Stft"/> (<c>torch.istft</c>): each frame of <paramref name="x"/> [(B,) bins, frames] back
    /// to n_fft samples (one-sided when bins = n_fft/2 + 1), times the window, overlap-added and divided by the summed
    /// squared window; with <paramref name="center"/> the n_fft/2 padding is cut off. <paramref name="length"/> trims or
    /// zero-pads the result. The window's overlap must not vanish anywhere kept (PyTorch's NOLA condition).
    /// </summary>
    public static Tensor Istft(ComplexTensor x, int nFft, int? hopLength = null, int? winLength = null, Tensor? window = null, bool center = true,
        bool normalized = false, bool? onesided = null, int? length = null)
    {
        const string op = "istft";
        if (x.Dim is not (2 or 3)) throw new KilnException(op, $"{op}: expected a [bins, frames] or [B, bins, frames] spectrum, got {ShapeText.Format(x.ShapeArray)}", KilnErrorKind.Shape);
        using var scope = Tensor.Scope();   // the frames, the overlap-added signal and its envelope go when it returns
        var (hop, w) = FrameSettings(op, nFft, hopLength, winLength, window, x.AsReal.DType, x.AsReal.Device);
        var spectrum = x.Dim == 2 ? ComplexTensor.ViewAsComplex(x.AsReal.Unsqueeze(0)) : x;
        int bins = spectrum.Size(1), count = spectrum.Size(2), batch = spectrum.Size(0);
        bool half = onesided ?? bins != nFft;
        if (bins != (half ? nFft / 2 + 1 : nFft))
            throw new KilnException(op, $"{op}: {bins} frequency bins do not match n_fft = {nFft} ({(half ? nFft / 2 + 1 : nFft)} expected{(half ? ", one-sided" : "")})", KilnErrorKind.Shape);
        var perFrame = ComplexTensor.ViewAsComplex(spectrum.AsReal.Transpose(1, 2));   // [B, frames, bins]
        string norm = normalized ? "ortho" : "backward";
        var frames = half ? Irfft(perFrame, nFft, -1, norm) : Ifft(perFrame, nFft, -1, norm).Real;   // [B, frames, nFft]
        var dtype = frames.DType;
        int total = nFft + hop * (count - 1);
        var positions = FramePositions(count, nFft, hop, null, frames.Device);
        var signal = Tensor.Zeros([batch, total], dtype, frames.Device).IndexAdd(1, positions, (frames * w).Reshape(batch, -1));
        Tensor envelope;
        using (Autograd.NoGrad())
        {
            using var squares = (w * w).Expand(count, nFft).Contiguous();
            envelope = Tensor.Zeros([total], dtype, frames.Device).IndexAdd(0, positions, squares.Reshape(-1));
        }
        int start = center ? nFft / 2 : 0;
        int end = length is { } l ? start + l : center ? total - nFft / 2 : total;
        int kept = Math.Min(end, total) - start;
        if (kept < 0) kept = 0;
        using (var window2 = envelope.Narrow(0, start, kept))
        using (var low = window2.Abs().Min())
            if (kept > 0 && low.To(DType.Float64).Item<double>() < 1e-11)
                throw new KilnException(op, $"{op}: the window overlap-add sums to ~0 somewhere (the NOLA condition fails): try another window or a smaller hop_length");
        var y = signal.Narrow(1, start, kept) / envelope.Narrow(0, start, kept);
        if (length is { } wanted && wanted > kept) y = NN.F.Pad(y, [0, wanted - kept]);
        return scope.Keep(x.Dim == 2 ? y.Squeeze(0) : y);
    }

    /// <summary>
    /// Stft's and Istft's shared settings, checked: the hop (n_fft/4 by default) and the window (ones when null) in
    /// <paramref name="dtype"/>, zero-padded on both sides from win_length to n_fft.
    /// </summary>
    static (int Hop, Tensor Window) FrameSettings(string op, int nFft, int? hopLength, int? winLength, Tensor? window, DType dtype, Device device)
    {
        int hop = hopLength ?? nFft / 4, win = winLength ?? nFft;
        if (nFft < 1 || hop < 1 || win < 1 || win > nFft)
            throw new KilnException(op, $"{op}: expected 0 < win_length <= n_fft and hop_length > 0, got n_fft={nFft}, hop_length={hop}, win_length={win}");
        if (window is not null && (window.Dim != 1 || window.Size(0) != win))
            throw new KilnException(op, $"{op}: expected a 1-D window of {win} samples, got {ShapeText.Format(window.ShapeArray)}", KilnErrorKind.Shape);
        var w = (window ?? Tensor.Ones([win], dtype, device)).To(dtype);
        if (win < nFft) w = NN.F.Pad(w, [(nFft - win) / 2, nFft - win - (nFft - win) / 2]);
        return (hop, w);
    }

    /// <summary>
    /// The sample index of each point of each frame, [count·nFft] int64 (frame f's point j at f·hop + j, read through
    /// <paramref name="padded"/> when the frames are cut from a padded signal): Stft gathers by it, Istft overlap-adds by
    /// it. Their ops' backwards read it: the recorded op pins it, so the callers' scopes may let it go.
    /// </summary>
    static unsafe Tensor FramePositions(int count, int nFft, int hop, NN.PadMap? padded, Device device)
    {
        // Filled in place: a managed array of this size would land on the large-object heap every call.
        using var host = Tensor.Empty([count * nFft], DType.Int64);
        long* positions = host.Ptr<long>();
        for (int f = 0; f < count; f++)
        {
            long start = (long)f * hop, source = start;
            long* frame = positions + (long)f * nFft;
            if (padded is { } map && !map.Straight(start, nFft, out source))
                for (int j = 0; j < nFft; j++) frame[j] = map.Source(start + j);   // a frame reaching into the padding
            else
                for (int j = 0; j < nFft; j++) frame[j] = source + j;
        }
        return host.To(device);
    }

    // ---- the transform -------------------------------------------------------------------------------------------

    /// <summary>A complex DFT along one dim after fitting it to <paramref name="n"/> points, scaled as <paramref name="norm"/> asks.</summary>
    static ComplexTensor Transform(string op, ComplexTensor x, int? n, int dim, string norm, bool inverse)
    {
        RequireReal(op, x.AsReal);
        int d = ShapeRules.NormalizeDim(op, dim, x.Dim);
        int length = n ?? x.Size(d);
        if (length < 1) throw new KilnException(op, $"{op}: invalid number of data points ({length}) specified", KilnErrorKind.Shape);
        double scale = Scale(op, norm, length, inverse);
        using var scope = Tensor.Scope();
        var fitted = Fit(x.AsReal, d, length);
        return ComplexTensor.Kept(scope, ComplexTensor.ViewAsComplex(Dft(fitted, d, inverse ? 1 : -1, scale)));
    }

    static double Scale(string op, string norm, int length, bool inverse) => norm switch
    {
        "backward" => inverse ? 1.0 / length : 1,
        "forward" => inverse ? 1 : 1.0 / length,
        "ortho" => 1 / Math.Sqrt(length),
        _ => throw new KilnException(op, $"{op}: invalid normalization mode '{norm}' (backward, forward or ortho)"),
    };

    /// <summary>A tensor (a signal, or pairs) cut or zero-padded to <paramref name="n"/> along dim <paramref name="d"/>.</summary>
    static Tensor Fit(Tensor pairs, int d, int n)
    {
        int have = pairs.Size(d);
        if (n == have) return pairs;
        if (n < have) return pairs.Narrow(d, 0, n);
        var shape = (int[])pairs.ShapeArray.Clone();
        shape[d] = n - have;
        return Tensor.Cat([pairs, Tensor.Zeros(shape, pairs.DType, pairs.Device)], d);
    }

    /// <summary>scale·Σ_j x_j·e^{sign·2πi·jk/n} along dim <paramref name="d"/> of pairs [..., 2], as one autograd node.</summary>
    static Tensor Dft(Tensor pairs, int d, int sign, double scale) =>
        Autograd.Function("fft_c2c", [pairs], () => DftOnHost(pairs, d, sign, scale), grad => [Dft(grad, d, -sign, scale)]);

    static unsafe Tensor DftOnHost(Tensor pairs, int d, int sign, double scale)
    {
        using var noGrad = Autograd.NoGrad();
        using var host = pairs.Cpu();
        using var moved = host.Movedim(d, -2);          // [..., n, 2], the transform's points adjacent
        using var dense = moved.Contiguous();
        int n = dense.Size(-2);
        long rows = n == 0 ? 0 : dense.Numel / (2L * n);
        var result = Tensor.Empty(dense.ShapeArray, dense.DType);
        if (dense.DType == DType.Float32) FftRows.Complex(dense.Ptr<float>(), result.Ptr<float>(), rows, n, sign > 0, scale);
        else FftRows.Complex(dense.Ptr<double>(), result.Ptr<double>(), rows, n, sign > 0, scale);
        using (result)
        {
            using var back = result.Movedim(-2, d);
            using var placed = back.Contiguous();
            return placed.To(pairs.Device);
        }
    }

    /// <summary>
    /// The half spectrum [..., n/2 + 1, 2] (along <paramref name="d"/>) of a real signal already fitted to n points, as one
    /// autograd node: its backward pads the gradient's bins to n with zeros, runs the inverse-sign transform and keeps the
    /// real part (the adjoint of "embed as complex, transform, keep the first half").
    /// </summary>
    static Tensor RealToComplex(Tensor x, int d, double scale) =>
        Autograd.Function("fft_r2c", [x], () => RealToComplexOnHost(x, d, scale), grad =>
        {
            int n = x.Size(d);
            var full = Fit(grad, d, n);
            return [Dft(full, d, 1, scale).Select(-1, 0)];
        });

    static unsafe Tensor RealToComplexOnHost(Tensor x, int d, double scale)
    {
        using var noGrad = Autograd.NoGrad();
        using var host = x.Cpu();
        using var moved = host.Movedim(d, -1);
        using var dense = moved.Contiguous();
        int n = dense.Size(-1);
        long rows = n == 0 ? 0 : dense.Numel / n;
        var shape = dense.ShapeArray[..^1];
        var result = Tensor.Empty([.. shape, n / 2 + 1, 2], dense.DType);
        if (dense.DType == DType.Float32) FftRows.Real(dense.Ptr<float>(), result.Ptr<float>(), rows, n, scale);
        else FftRows.Real(dense.Ptr<double>(), result.Ptr<double>(), rows, n, scale);
        using (result)
        {
            using var back = result.Movedim(-2, d);
            using var placed = back.Contiguous();
            return placed.To(x.Device);
        }
    }

    static (int[] Dims, int[] Sizes) Dims(string op, int rank, int[] shape, int[]? s, int[]? dims)
    {
        int[] ds;
        if (dims is not null) ds = Array.ConvertAll(dims, v => ShapeRules.NormalizeDim(op, v, rank));
        else if (s is not null) { ds = new int[s.Length]; for (int i = 0; i < ds.Length; i++) ds[i] = rank - s.Length + i; }
        else { ds = new int[rank]; for (int i = 0; i < rank; i++) ds[i] = i; }
        if (ds.Length == 0) throw new KilnException(op, $"{op}: no dims to transform");
        if (s is not null && s.Length != ds.Length) throw new KilnException(op, $"{op}: s has {s.Length} sizes for {ds.Length} dims", KilnErrorKind.Shape);
        var sizes = new int[ds.Length];
        for (int i = 0; i < ds.Length; i++) sizes[i] = s is null || s[i] == -1 ? shape[ds[i]] : s[i];
        return (ds, sizes);
    }

    static Tensor Shift(Tensor x, int[]? dims, bool inverse)
    {
        int[] ds;
        if (dims is not null) ds = dims;
        else { ds = new int[x.Dim]; for (int i = 0; i < ds.Length; i++) ds[i] = i; }
        var y = x;
        foreach (int dim in ds)
        {
            int size = x.Size(dim);
            y = y.Roll(inverse ? -(size / 2) : size / 2, dim);
        }
        return y;
    }

    static string Swap(string norm) => norm switch { "backward" => "forward", "forward" => "backward", _ => norm };

    static void RequireReal(string op, Tensor x)
    {
        if (x.DType is not (DType.Float32 or DType.Float64))
            throw new KilnException(op, $"{op}: expected a float32 or float64 tensor, got {x.DType}", KilnErrorKind.DType);
    }
}
