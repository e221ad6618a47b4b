using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static void AddSignal(Dictionary<string, Op> t)
    {
        // ONNX's windows (opset 17); Hamming's coefficients are 25/46 and 21/46, not torch's 0.54 and 0.46.
        t["HannWindow"] = c => One(Tensor.HannWindow(WindowSize(c), c.Int("periodic", 1) != 0, OutputType(c)));
        t["HammingWindow"] = c => One(Tensor.HammingWindow(WindowSize(c), c.Int("periodic", 1) != 0, 25.0 / 46, 21.0 / 46, OutputType(c)));
        t["BlackmanWindow"] = c => One(Tensor.BlackmanWindow(WindowSize(c), c.Int("periodic", 1) != 0, OutputType(c)));
        t["DFT"] = c =>
        {
            var x = c.In(0);
            int axis = c.Axis(c.Int("axis", 1), x.Dim);
            if (axis == x.Dim - 1) throw c.Error("axis names the last dim, which holds the real and imaginary parts");
            int? length = c.Optional(1) is { } l ? checked((int)c.Longs(l)[0]) : null;
            return One(Dft(c, x, axis, length, c.Int("inverse", 0) != 0, c.Int("onesided", 0) != 0));
        };
        t["STFT"] = c =>
        {
            // Frames of the signal [batch, length, 1 or 2] every frame_step samples, each times the window, then its DFT:
            // [batch, frames, bins, 2].
            var signal = c.In(0);
            if (signal.Dim != 3) throw c.Error($"signal [{string.Join(", ", signal.ShapeArray)}] should be [batch, length, 1 or 2]");
            int step = checked((int)c.Longs(c.In(1))[0]);
            var window = c.Optional(2);
            int frameLength = c.Optional(3) is { } fl ? checked((int)c.Longs(fl)[0]) : window?.Size(0) ?? throw c.Error("needs a window or a frame_length");
            if (window is not null && window.Size(0) != frameLength) throw c.Error($"window of {window.Size(0)} for frames of {frameLength}");
            if (step < 1 || frameLength < 1 || frameLength > signal.Size(1)) throw c.Error($"frame_step {step} and frame_length {frameLength} for a signal of {signal.Size(1)}");
            var frames = signal.Unfold(1, frameLength, step).Movedim(-1, 2);   // [batch, frames, frameLength, 1|2]
            if (window is not null) frames = frames * window.To(signal.DType).Reshape(frameLength, 1);
            return One(Dft(c, frames, 2, null, false, c.Int("onesided", 1) != 0));
        };
        t["MelWeightMatrix"] = c =>
        {
            int bins = checked((int)c.Longs(c.In(0))[0]), dftLength = checked((int)c.Longs(c.In(1))[0]);
            long sampleRate = c.Longs(c.In(2))[0];
            double low = c.In(3).To(DType.Float64).Item<double>(), high = c.In(4).To(DType.Float64).Item<double>();
            if (bins < 1 || dftLength < 1 || sampleRate < 1) throw c.Error($"num_mel_bins {bins}, dft_length {dftLength} and sample_rate {sampleRate} must be positive");
            return One(MelWeights(bins, dftLength, sampleRate, low, high).To(OutputType(c)));
        };
    }

    static int WindowSize(NodeContext c)
    {
        long n = c.Longs(c.In(0))[0];
        return n is >= 1 and <= int.MaxValue ? (int)n : throw c.Error($"size {n} is not a positive window length");
    }

    static DType OutputType(NodeContext c) =>
        OnnxTensor.DTypeOf((int)c.Int("output_datatype", 1)) ?? throw c.Unsupported($"output_datatype {c.Int("output_datatype", 1)}");

    /// <summary>
    /// The discrete Fourier transform along <paramref name="axis"/> of x [..., 1 or 2] (real, or real and imaginary in the
    /// last dim), zero-padded or cut to <paramref name="length"/>; inverse divides by the length; one-sided keeps the first
    /// length/2 + 1 bins. ONNX's layout is <see cref="ComplexTensor"/>'s, so this is Kiln's <see cref="Fourier"/> transform.
    /// </summary>
    static Tensor Dft(NodeContext c, Tensor x, int axis, int? length, bool inverse, bool onesided)
    {
        int parts = x.Size(x.Dim - 1);
        if (parts is not (1 or 2)) throw c.Error($"the last dim is {parts}: 1 for a real signal, 2 for a complex one");
        if (onesided && inverse) throw c.Unsupported("an inverse one-sided DFT");
        var pairs = parts == 2 ? x : Tensor.Cat([x, Tensor.ZerosLike(x)], x.Dim - 1);
        var z = ComplexTensor.ViewAsComplex(pairs.DType is DType.Float32 or DType.Float64 ? pairs : pairs.To(DType.Float32));
        var y = inverse ? Fourier.Ifft(z, length, axis) : Fourier.Fft(z, length, axis);
        var result = onesided ? y.AsReal.Narrow(axis, 0, y.Size(axis) / 2 + 1) : y.AsReal;
        return result.To(x.DType);
    }

    /// <summary>ONNX's triangular mel filters: [dft_length/2 + 1, bins], with its reference's integer bin edges.</summary>
    static Tensor MelWeights(int bins, int dftLength, long sampleRate, double low, double high)
    {
        int spectrum = dftLength / 2 + 1;
        double lowMel = 2595 * Math.Log10(1 + low / 700), highMel = 2595 * Math.Log10(1 + high / 700);
        double step = (highMel - lowMel) / (bins + 2);
        var edges = new long[bins + 2];
        for (int i = 0; i < edges.Length; i++)
        {
            double hz = 700 * (Math.Pow(10, (i * step + lowMel) / 2595) - 1);
            edges[i] = (long)Math.Floor((dftLength + 1) * hz / sampleRate);
        }
        var w = new double[spectrum * bins];
        void Set(long j, int i, double v)
        {
            if (j >= 0 && j < spectrum) w[j * bins + i] = v;
        }
        for (int i = 0; i < bins; i++)
        {
            long left = edges[i], center = edges[i + 1], right = edges[i + 2];
            if (center == left) Set(center, i, 1);
            else for (long j = left; j <= center; j++) Set(j, i, (double)(j - left) / (center - left));
            if (right > center) for (long j = center; j < right; j++) Set(j, i, (double)(right - j) / (right - center));
        }
        return Tensor.From(w).Reshape(spectrum, bins);
    }
}
