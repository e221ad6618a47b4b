using System;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// Rotary position embedding (RoPE) as Llama applies it: per head, x·cos + rotate_half(x)·sin, with the frequencies
/// θ^(-2i/d) rescaled by the config's <see cref="RopeScaling"/>. Tables are built for the positions asked for. With
/// <c>dynamic</c> scaling the frequencies follow the longest sequence seen so far, as Hugging Face's rotary module
/// keeps them (state: a model instance grows them during a generation and resets them for a short input).
/// </summary>
public sealed class RotaryEmbedding
{
    readonly double _theta;
    readonly RopeScaling _scaling;
    readonly int _maxPositions;
    double[] _invFreq;
    long _cachedLength;

    /// <summary>The frequencies of a head of <paramref name="headDim"/> dims (half as many as the dims).</summary>
    /// <param name="headDim">Dims per head (even).</param>
    /// <param name="theta">The base (<c>rope_theta</c>).</param>
    /// <param name="scaling">The rescaling.</param>
    /// <param name="maxPositionEmbeddings"><c>max_position_embeddings</c> (dynamic and YaRN scaling read it).</param>
    public RotaryEmbedding(int headDim, double theta, RopeScaling scaling, int maxPositionEmbeddings = 2048)
    {
        HeadDim = headDim;
        _theta = theta;
        _scaling = scaling;
        _maxPositions = maxPositionEmbeddings;
        _invFreq = InverseFrequencies(headDim, theta, scaling, maxPositionEmbeddings);
        _cachedLength = maxPositionEmbeddings;
        AttentionScaling = scaling.RopeType == "yarn" ? YarnAttentionFactor(scaling, maxPositionEmbeddings) : 1.0;
    }

    /// <summary>The head size the tables are for.</summary>
    public int HeadDim { get; }

    /// <summary>The factor on cos and sin (YaRN's attention factor; 1 otherwise).</summary>
    public double AttentionScaling { get; }

    /// <summary>
    /// θ^(-2i/d) for i &lt; d/2, rescaled: linear divides all by the factor; llama3 divides the long wavelengths, keeps
    /// the short ones and blends between; YaRN ramps between interpolation and extrapolation; dynamic NTK raises the
    /// base for <paramref name="sequenceLength"/> (max_position_embeddings when not given).
    /// </summary>
    public static double[] InverseFrequencies(int headDim, double theta, RopeScaling scaling, int maxPositionEmbeddings = 2048, long? sequenceLength = null)
    {
        if (scaling.RopeType == "dynamic")
        {
            double seq = Math.Max(sequenceLength ?? maxPositionEmbeddings, maxPositionEmbeddings);
            theta *= Math.Pow(scaling.Factor * seq / maxPositionEmbeddings - (scaling.Factor - 1), headDim / (headDim - 2.0));
        }
        var inv = new double[headDim / 2];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
        switch (scaling.RopeType)
        {
            case "linear":
                for (int i = 0; i < inv.Length; i++) inv[i] /= scaling.Factor;
                break;
            case "llama3":
            {
                double old = scaling.OriginalMaxPositionEmbeddings ?? maxPositionEmbeddings;
                double lowWavelen = old / scaling.LowFreqFactor, highWavelen = old / scaling.HighFreqFactor;
                for (int i = 0; i < inv.Length; i++)
                {
                    double wavelen = 2 * Math.PI / inv[i];
                    double scaled = wavelen > lowWavelen ? inv[i] / scaling.Factor : inv[i];
                    if (wavelen >= highWavelen && wavelen <= lowWavelen)
                    {
                        double smooth = (old / wavelen - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
                        scaled = (1 - smooth) * scaled / scaling.Factor + smooth * scaled;
                    }
                    inv[i] = scaled;
                }
                break;
            }
            case "yarn":
            {
                var (factor, original) = YarnFactor(scaling, maxPositionEmbeddings);
                // The dims whose wavelength completes between beta_slow and beta_fast turns over the original context.
                double CorrectionDim(double rotations) => headDim * Math.Log(original / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
                double low = CorrectionDim(scaling.BetaFast), high = CorrectionDim(scaling.BetaSlow);
                if (scaling.Truncate) { low = Math.Floor(low); high = Math.Ceiling(high); }
                low = Math.Max(low, 0);
                high = Math.Min(high, headDim - 1);
                if (low == high) high += 0.001;
                for (int i = 0; i < inv.Length; i++)
                {
                    double keep = 1 - Math.Clamp((i - low) / (high - low), 0, 1);   // 1: extrapolate (keep), 0: interpolate
                    inv[i] = inv[i] / factor * (1 - keep) + inv[i] * keep;
                }
                break;
            }
        }
        return inv;
    }

    // YaRN's scale: max_position_embeddings / original_max_position_embeddings when the original is given (as HF does
    // for configs that raised max_position_embeddings), else the factor against max_position_embeddings.
    static (double Factor, double Original) YarnFactor(RopeScaling s, int maxPositionEmbeddings) =>
        s.OriginalMaxPositionEmbeddings is int original ? ((double)maxPositionEmbeddings / original, original) : (s.Factor, maxPositionEmbeddings);

    static double YarnAttentionFactor(RopeScaling s, int maxPositionEmbeddings)
    {
        if (s.AttentionFactor is double a) return a;
        double factor = YarnFactor(s, maxPositionEmbeddings).Factor;
        static double MScale(double scale, double m) => scale <= 1 ? 1.0 : 0.1 * m * Math.Log(scale) + 1.0;
        return s.Mscale is double m && s.MscaleAllDim is double all && m != 0 && all != 0 ? MScale(factor, m) / MScale(factor, all) : MScale(factor, 1);
    }

    /// <summary>Dynamic NTK: frequencies for a call whose longest position is <paramref name="maxPosition"/> (grown past the
    /// longest seen, reset for a short input, as Hugging Face's rotary module does).</summary>
    void Follow(long maxPosition)
    {
        if (_scaling.RopeType != "dynamic") return;
        long length = maxPosition + 1;
        if (length > _cachedLength)
        {
            _invFreq = InverseFrequencies(HeadDim, _theta, _scaling, _maxPositions, length);
            _cachedLength = length;
        }
        if (length < _maxPositions && _cachedLength > _maxPositions)
        {
            _invFreq = InverseFrequencies(HeadDim, _theta, _scaling, _maxPositions);
            _cachedLength = _maxPositions;
        }
    }

    /// <summary>
    /// cos and sin tables [length, headDim] for positions start .. start+length-1 (each frequency twice, as cat(freqs,
    /// freqs)), on <paramref name="device"/> (the CPU when null).
    /// </summary>
    public (Tensor Cos, Tensor Sin) Tables(int start, int length, DType dtype = DType.Float32, Device? device = null)
    {
        var positions = new long[length];
        for (int p = 0; p < length; p++) positions[p] = start + p;
        var (cos, sin) = Tables(positions, 1, length, dtype, device);
        return (cos.View(length, HeadDim), sin.View(length, HeadDim));
    }

    /// <summary>
    /// cos and sin tables [batch, 1, length, headDim] for per-row positions <paramref name="positions"/> [batch·length]
    /// (left-padded batches), on <paramref name="device"/> (the CPU when null).
    /// </summary>
    public (Tensor Cos, Tensor Sin) Tables(long[] positions, int batch, int length, DType dtype = DType.Float32, Device? device = null)
    {
        long maxPosition = 0;
        foreach (long p in positions) maxPosition = Math.Max(maxPosition, p);
        Follow(maxPosition);
        int half = _invFreq.Length, d = HeadDim;
        float attention = (float)AttentionScaling;
        var cos = new float[positions.Length * d];
        var sin = new float[positions.Length * d];
        for (int p = 0; p < positions.Length; p++)
            for (int i = 0; i < half; i++)
            {
                // The angle in float32 first, as the reference forms position × frequency in float32.
                float angle = (float)positions[p] * (float)_invFreq[i];
                float c = MathF.Cos(angle) * attention, s = MathF.Sin(angle) * attention;
                cos[p * d + i] = cos[p * d + half + i] = c;
                sin[p * d + i] = sin[p * d + half + i] = s;
            }
        var tc = Tensor.From(cos, batch, 1, length, d).To(device ?? Device.Cpu);
        var ts = Tensor.From(sin, batch, 1, length, d).To(device ?? Device.Cpu);
        return dtype == DType.Float32 ? (tc, ts) : (tc.To(dtype), ts.To(dtype));
    }

    /// <summary>x·cos + rotate_half(x)·sin over the last dim of <paramref name="x"/> [..., length, headDim].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin) => F.RotaryEmbedding(x, cos, sin);
}
