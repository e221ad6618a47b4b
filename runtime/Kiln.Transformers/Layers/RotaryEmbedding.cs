using System;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// Rotary position embedding (RoPE) as Llama applies it: per head, x·cos + rotate_half(x)·sin, with the frequencies
/// θ^(-2i/d) rescaled by the config's <see cref="RopeScaling"/>. Tables are built for the positions asked for.
/// </summary>
public sealed class RotaryEmbedding
{
    readonly double[] _invFreq;

    /// <summary>The frequencies of a head of <paramref name="headDim"/> dims (half as many as the dims).</summary>
    public RotaryEmbedding(int headDim, double theta, RopeScaling scaling)
    {
        _invFreq = InverseFrequencies(headDim, theta, scaling);
        HeadDim = headDim;
    }

    /// <summary>The head size the tables are for.</summary>
    public int HeadDim { get; }

    /// <summary>θ^(-2i/d) for i &lt; d/2, rescaled: linear divides all by the factor; llama3 divides the long wavelengths, keeps the short ones and blends between.</summary>
    public static double[] InverseFrequencies(int headDim, double theta, RopeScaling scaling)
    {
        var inv = new double[headDim / 2];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
        switch (scaling.RopeType)
        {
            case "linear":
                for (int i = 0; i < inv.Length; i++) inv[i] /= scaling.Factor;
                break;
            case "llama3":
            {
                double old = scaling.OriginalMaxPositionEmbeddings;
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
        }
        return inv;
    }

    /// <summary>cos and sin tables [length, headDim] for positions start .. start+length-1 (each frequency twice, as cat(freqs, freqs)).</summary>
    public (Tensor Cos, Tensor Sin) Tables(int start, int length, DType dtype = DType.Float32)
    {
        var positions = new long[length];
        for (int p = 0; p < length; p++) positions[p] = start + p;
        var (cos, sin) = Tables(positions, 1, length, dtype);
        return (cos.View(length, HeadDim), sin.View(length, HeadDim));
    }

    /// <summary>cos and sin tables [batch, 1, length, headDim] for per-row positions <paramref name="positions"/> [batch·length] (left-padded batches).</summary>
    public (Tensor Cos, Tensor Sin) Tables(long[] positions, int batch, int length, DType dtype = DType.Float32)
    {
        int half = _invFreq.Length, d = HeadDim;
        var cos = new float[positions.Length * d];
        var sin = new float[positions.Length * d];
        for (int p = 0; p < positions.Length; p++)
            for (int i = 0; i < half; i++)
            {
                // The angle in float32 first, as the reference forms position × frequency in float32.
                float angle = (float)positions[p] * (float)_invFreq[i];
                float c = MathF.Cos(angle), s = MathF.Sin(angle);
                cos[p * d + i] = cos[p * d + half + i] = c;
                sin[p * d + i] = sin[p * d + half + i] = s;
            }
        var tc = Tensor.From(cos, batch, 1, length, d);
        var ts = Tensor.From(sin, batch, 1, length, d);
        return dtype == DType.Float32 ? (tc, ts) : (tc.To(dtype), ts.To(dtype));
    }

    /// <summary>x·cos + rotate_half(x)·sin over the last dim of <paramref name="x"/> [..., length, headDim].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        int d = x.Size(-1), half = d / 2;
        var rotated = Tensor.Cat([-x.Narrow(-1, half, half), x.Narrow(-1, 0, half)], -1);
        return x * cos + rotated * sin;
    }
}
