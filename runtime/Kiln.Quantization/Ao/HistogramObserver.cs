using System;

namespace Kiln.Quantization;

/// <summary>
/// A running histogram of the values (2048 bins), and a scale and zero point chosen by searching for the clipping range
/// that minimises the L2 quantization error (torch.ao's <c>HistogramObserver</c>; the default PTQ activation observer).
/// The arithmetic follows PyTorch 1.13's float32 operations step by step, its quirks included (the histogram of a new
/// range is taken between the truncated integers of its min and max), so the chosen range is PyTorch's.
/// </summary>
public sealed class HistogramObserver(int bins = 2048, int upsampleRate = 128, QDType dtype = QDType.QUInt8, QScheme scheme = QScheme.PerTensorAffine, bool reduceRange = false)
    : Observer(dtype, scheme, reduceRange)
{
    readonly float[] _histogram = new float[bins];
    const int DstBins = 256;

    /// <summary>Histogram bins.</summary>
    public int Bins { get; } = bins;
    /// <summary>The counts (a copy).</summary>
    public float[] Histogram => (float[])_histogram.Clone();

    /// <inheritdoc/>
    protected override void Observe(ReadOnlySpan<float> x)
    {
        var (lo, hi) = MinMax(x);
        bool uninitialized = float.IsPositiveInfinity(Min) && float.IsNegativeInfinity(Max);
        if (uninitialized || Min == Max)
        {
            Min = lo; Max = hi;
            Array.Clear(_histogram);
            Histc(x, (int)lo, (int)hi, _histogram);
            return;
        }
        float combinedMin = Math.Min(lo, Min), combinedMax = Math.Max(hi, Max);
        // _adjust_min_max: the combined range as a whole number of the old histogram's upsampled bins.
        float histBinWidth = (Max - Min) / (Bins * upsampleRate);
        int downsample = (int)MathF.Ceiling((combinedMax - combinedMin) / (Bins * histBinWidth));
        float e = downsample * (Bins * histBinWidth) - (combinedMax - combinedMin);
        combinedMax += e;
        int startIdx = (int)MathF.Round((Min - combinedMin) / histBinWidth);
        var combined = new float[Bins];
        Histc(x, (int)combinedMin, (int)combinedMax, combined);
        if (combinedMin == Min && combinedMax == Max)
            for (int i = 0; i < Bins; i++) combined[i] += _histogram[i];
        else
        {
            // _combine_histograms: upsample the old counts, place them at start_idx, integrate (double) and downsample.
            var spread = new float[Bins * downsample];
            for (int i = 0; i < Bins * upsampleRate && startIdx + i < spread.Length; i++) spread[startIdx + i] = _histogram[i / upsampleRate];
            var integral = new double[Bins];
            double running = 0;
            for (int i = 0, k = 0; i < spread.Length; i++)
            {
                running += spread[i];
                if (i % downsample == downsample - 1 && k < Bins) integral[k++] = running;
            }
            for (int i = 0; i < Bins; i++)
            {
                float shifted = i == 0 ? 0f : (float)integral[i - 1];
                combined[i] = combined[i] + (float)((integral[i] - shifted) / upsampleRate);
            }
        }
        Array.Copy(combined, _histogram, Bins);
        Min = combinedMin; Max = combinedMax;
    }

    /// <summary>torch.histc: bins of equal width between min and max (the data's own range when they are equal), values outside dropped.</summary>
    void Histc(ReadOnlySpan<float> x, float left, float right, float[] counts)
    {
        if (left == right) { var (lo, hi) = MinMax(x); left = lo; right = hi; }
        if (left == right) { left -= 1; right += 1; }
        float span = right - left;
        foreach (var v in x)
        {
            if (!(v >= left && v <= right)) continue;
            int pos = (int)((v - left) * Bins / span);
            if (pos == Bins) pos--;
            counts[pos] += 1;
        }
    }

    /// <inheritdoc/>
    public override QParams CalculateQParams()
    {
        if (float.IsPositiveInfinity(Min) && float.IsNegativeInfinity(Max)) return base.CalculateQParams();
        var (lo, hi) = NonLinearParamSearch();
        return QParams.FromRange(lo, hi, QuantDType, Scheme, ReduceRange);
    }

    // _non_linear_param_search: shrink the range from whichever side holds less mass, while the L2 error keeps falling.
    (float Min, float Max) NonLinearParamSearch()
    {
        float binWidth = (Max - Min) / Bins;
        double total = TorchSum.Sum(_histogram);
        var cSum = new float[Bins];
        double acc = 0;
        for (int i = 0; i < Bins; i++) { acc += _histogram[i]; cSum[i] = (float)acc; }
        const double step = 1e-5;
        double alpha = 0, beta = 1, normMin = double.PositiveInfinity;
        int start = 0, end = Bins - 1;
        while (alpha < beta)
        {
            double nextAlpha = alpha + step, nextBeta = beta - step;
            int l = start, r = end;
            while (l < end && cSum[l] < (float)(nextAlpha * total)) l++;
            while (r > start && cSum[r] > (float)(nextBeta * total)) r--;
            int nextStart = start, nextEnd = end;
            if (l - start > end - r) { nextStart = l; alpha = nextAlpha; }
            else { nextEnd = r; beta = nextBeta; }
            if (nextStart == start && nextEnd == end) continue;
            double norm = QuantizationError(nextStart, nextEnd);
            if (norm > normMin) break;
            normMin = norm;
            start = nextStart; end = nextEnd;
        }
        return (Min + binWidth * start, Min + binWidth * (end + 1));
    }

    // _compute_quantization_error: the L2 error of quantizing the histogram to 256 levels over bins start..end.
    double QuantizationError(int start, int end)
    {
        double binWidth = ((double)Max - Min) / Bins;
        double dstWidth = binWidth * (end - start + 1) / DstBins;
        if (dstWidth == 0) return 0;
        float bw = (float)binWidth, dw = (float)dstWidth, halfDw = (float)(dstWidth / 2), negHalfDw = (float)(-dstWidth / 2);
        var norm = new float[Bins];
        for (int i = 0; i < Bins; i++)
        {
            float density = _histogram[i] / bw;
            float srcBegin = (i - start) * bw;
            float srcEnd = srcBegin + bw;
            float dstOfBegin = Math.Clamp(FloorDivide(srcBegin, dw), 0, DstBins - 1);
            float dstOfBeginCenter = (dstOfBegin + 0.5f) * dw;
            float dstOfEnd = Math.Clamp(FloorDivide(srcEnd, dw), 0, DstBins - 1);
            float n = 0;
            n += GetNorm(srcBegin - dstOfBeginCenter, halfDw, density);
            n += (dstOfEnd - dstOfBegin - 1) * GetNorm(negHalfDw, halfDw, density);
            float dstOfEndCenter = dstOfEnd * dw + halfDw;
            n += GetNorm(negHalfDw, srcEnd - dstOfEndCenter, density);
            norm[i] = n;
        }
        return TorchSum.Sum(norm);
    }

    static float GetNorm(float begin, float end, float density) => density * ((end * end * end - begin * begin * begin) / 3f);

    // Python/torch floor division of floats (div_floor_floating).
    static float FloorDivide(float a, float b)
    {
        float mod = a % b;   // C fmod
        float div = (a - mod) / b;
        if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
        if (div == 0) return MathF.CopySign(0, a / b);
        float floor = MathF.Floor(div);
        if (div - floor > 0.5f) floor += 1;
        return floor;
    }
}
