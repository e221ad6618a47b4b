using System;

namespace Kiln.Kernels;

/// <summary>
/// The CTC forward-backward algorithm for one batch on the host, in float64 with every frame's column rescaled (so
/// nothing underflows and only the emissions need an exp), the samples spread over the library's threads: each sample's negative
/// log-likelihood, and (when asked) its gradient with respect to the log-probabilities, -γ[t, c] (the posterior
/// occupancy of class c at frame t; zero past the sample's input length and for an impossible alignment).
/// </summary>
internal static class CtcKernel
{
    /// <param name="logProbs">[T, N, C] row-major.</param>
    /// <param name="frames">T.</param>
    /// <param name="batch">N.</param>
    /// <param name="classes">C.</param>
    /// <param name="targets">Each sample's labels.</param>
    /// <param name="inputLengths">Each sample's frame count (≤ T).</param>
    /// <param name="blank">The blank label.</param>
    /// <param name="gradient">[T, N, C] filled with d nll_b / d logProbs, or null.</param>
    public static double[] NegativeLogLikelihood(double[] logProbs, int frames, int batch, int classes, long[][] targets,
        long[] inputLengths, int blank, double[]? gradient)
    {
        var nll = new double[batch];
        // Samples are independent: one per task, over the library's threads.
        Threads.For(batch, 1, (from, to) =>
        {
            for (int b = (int)from; b < to; b++) Sample(b);
        });
        return nll;

        void Sample(int b)
        {
            int length = targets[b].Length, states = 2 * length + 1, used = (int)inputLengths[b];
            var label = new int[states];
            for (int s = 0; s < states; s++) label[s] = s % 2 == 1 ? (int)targets[b][s / 2] : blank;
            // A label may come from two states back (over a blank) unless it repeats the label there.
            var skips = new bool[states];
            for (int s = 2; s < states; s++) skips[s] = label[s] != blank && label[s] != label[s - 2];
            if (used == 0) { nll[b] = length == 0 ? 0 : double.PositiveInfinity; return; }
            // Probability space with each frame's column scaled to sum 1 (Rabiner): one exp per emission, no log per
            // state; the log-likelihood is the sum of the log scales.
            var y = new double[used * states];
            for (int t = 0; t < used; t++)
                for (int s = 0; s < states; s++) y[t * states + s] = Math.Exp(logProbs[(t * batch + b) * classes + label[s]]);
            var alpha = new double[used * states];
            double logLikelihood = 0;
            for (int t = 0; t < used; t++)
            {
                double total = 0;
                for (int s = 0; s < states; s++)
                {
                    double a;
                    if (t == 0) a = s < 2 ? 1 : 0;
                    else
                    {
                        int prev = (t - 1) * states + s;
                        a = alpha[prev];
                        if (s >= 1) a += alpha[prev - 1];
                        if (skips[s]) a += alpha[prev - 2];
                    }
                    a *= y[t * states + s];
                    alpha[t * states + s] = a;
                    total += a;
                }
                if (!(total > 0)) { logLikelihood = double.NegativeInfinity; break; }
                for (int s = 0; s < states; s++) alpha[t * states + s] /= total;
                logLikelihood += Math.Log(total);
            }
            int end = (used - 1) * states;
            if (!double.IsNegativeInfinity(logLikelihood))
            {
                double final = alpha[end + states - 1] + (states > 1 ? alpha[end + states - 2] : 0);
                logLikelihood = final > 0 ? logLikelihood + Math.Log(final) : double.NegativeInfinity;
            }
            nll[b] = -logLikelihood;
            if (gradient is null || double.IsInfinity(logLikelihood) || double.IsNaN(logLikelihood)) return;
            // β scaled the same way (without the emission at t, so α̂·β̂ is the occupancy up to a per-frame constant).
            var beta = new double[used * states];
            for (int t = used - 1; t >= 0; t--)
            {
                double total = 0;
                for (int s = 0; s < states; s++)
                {
                    double v;
                    if (t == used - 1) v = s >= states - 2 ? 1 : 0;
                    else
                    {
                        int next = (t + 1) * states + s;
                        v = beta[next] * y[next];
                        if (s + 1 < states) v += beta[next + 1] * y[next + 1];
                        if (s + 2 < states && skips[s + 2]) v += beta[next + 2] * y[next + 2];
                    }
                    beta[t * states + s] = v;
                    total += v;
                }
                if (total > 0) for (int s = 0; s < states; s++) beta[t * states + s] /= total;
            }
            // γ_t(c) = Σ_{s: l'(s) = c} α̂_t(s)·β̂_t(s), normalised over the frame; the gradient of the nll is -γ.
            var occupancy = new double[classes];
            for (int t = 0; t < used; t++)
            {
                Array.Clear(occupancy);
                double sum = 0;
                for (int s = 0; s < states; s++)
                {
                    double o = alpha[t * states + s] * beta[t * states + s];
                    occupancy[label[s]] += o;
                    sum += o;
                }
                for (int c = 0; c < classes; c++)
                    gradient[(t * batch + b) * classes + c] = sum > 0 ? -occupancy[c] / sum : 0;
            }
        }
    }
}
