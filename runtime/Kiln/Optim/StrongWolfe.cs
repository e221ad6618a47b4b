using System;

namespace Kiln.Optim;

/// <summary>
/// The line search of <see cref="LBFGS"/> with <c>line_search_fn="strong_wolfe"</c>: bracket a step meeting the
/// sufficient-decrease and curvature conditions, then zoom with safeguarded cubic interpolation (Nocedal and Wright,
/// algorithms 3.5 and 3.6, as PyTorch arranges them).
/// </summary>
internal static class StrongWolfe
{
    const double C1 = 1e-4, C2 = 0.9;
    const int MaxSearches = 25;

    /// <summary>
    /// Searches along <paramref name="d"/> from the loss <paramref name="f"/> and gradient <paramref name="g"/> (slope
    /// <paramref name="gtd"/>); <paramref name="evaluate"/> gives the loss and a new flat gradient at a step. Returns the
    /// accepted step's loss, gradient (owned by the caller), step and the evaluations spent.
    /// </summary>
    public static (double Loss, Tensor Grad, double Step, int Evaluations) Search(Func<double, Tensor, (double Loss, Tensor Grad)> evaluate,
        double t, Tensor d, double f, Tensor g, double gtd, double toleranceChange)
    {
        double dNorm;
        using (var a = d.Abs()) using (var m = a.Max()) dNorm = m.To(DType.Float64).Item<double>();
        var (fNew, gNew) = evaluate(t, d);
        int evaluations = 1;
        double gtdNew = LBFGS.Dot(gNew, d);
        double tPrev = 0, fPrev = f, gtdPrev = gtd;
        Tensor gPrev = g.Clone();
        bool done = false;
        int searches = 0;
        double[] bracket, bracketF, bracketGtd = [0, 0];
        Tensor[] bracketG;
        while (true)
        {
            if (searches >= MaxSearches)
            {
                bracket = [0, t]; bracketF = [f, fNew]; bracketG = [g.Clone(), gNew];
                gPrev.Dispose();
                break;
            }
            if (fNew > f + C1 * t * gtd || (searches > 1 && fNew >= fPrev))
            {
                bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew];
                break;
            }
            if (Math.Abs(gtdNew) <= -C2 * gtd)
            {
                bracket = [t]; bracketF = [fNew]; bracketG = [gNew];
                gPrev.Dispose();
                done = true;
                break;
            }
            if (gtdNew >= 0)
            {
                bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew];
                break;
            }
            // Extrapolate: a cubic step between 1.01·t and 10·t.
            double minStep = t + 0.01 * (t - tPrev), maxStep = t * 10, current = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, minStep, maxStep);
            tPrev = current; fPrev = fNew; gtdPrev = gtdNew;
            gPrev.Dispose();
            gPrev = gNew;
            (fNew, gNew) = evaluate(t, d);
            evaluations++;
            gtdNew = LBFGS.Dot(gNew, d);
            searches++;
        }

        // Zoom until the bracket holds a step meeting both conditions.
        bool insufficientProgress = false;
        int low = bracketF[0] <= bracketF[^1] ? 0 : 1, high = 1 - low;
        while (!done && searches < MaxSearches && bracket.Length == 2)
        {
            if (Math.Abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
            t = CubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1], null, null);
            double hi = Math.Max(bracket[0], bracket[1]), lo = Math.Min(bracket[0], bracket[1]);
            double eps = 0.1 * (hi - lo);
            if (Math.Min(hi - t, t - lo) < eps)
            {
                // Too close to an end: take a step eps inside it (at once, or when the last step made little progress).
                if (insufficientProgress || t >= hi || t <= lo)
                {
                    t = Math.Abs(t - hi) < Math.Abs(t - lo) ? hi - eps : lo + eps;
                    insufficientProgress = false;
                }
                else insufficientProgress = true;
            }
            else insufficientProgress = false;
            (fNew, gNew) = evaluate(t, d);
            evaluations++;
            gtdNew = LBFGS.Dot(gNew, d);
            searches++;
            if (fNew > f + C1 * t * gtd || fNew >= bracketF[low])
            {
                Replace(bracket, bracketF, bracketG, bracketGtd, high, t, fNew, gNew, gtdNew);
                low = bracketF[0] <= bracketF[1] ? 0 : 1;
                high = 1 - low;
            }
            else
            {
                if (Math.Abs(gtdNew) <= -C2 * gtd) done = true;
                else if (gtdNew * (bracket[high] - bracket[low]) >= 0)
                    Replace(bracket, bracketF, bracketG, bracketGtd, high, bracket[low], bracketF[low], bracketG[low].Clone(), bracketGtd[low]);
                Replace(bracket, bracketF, bracketG, bracketGtd, low, t, fNew, gNew, gtdNew);
            }
        }
        if (bracket.Length == 1) low = 0;
        for (int i = 0; i < bracketG.Length; i++) if (i != low) bracketG[i].Dispose();
        return (bracketF[low], bracketG[low], bracket[low], evaluations);
    }

    static void Replace(double[] bracket, double[] f, Tensor[] g, double[] gtd, int at, double t, double fNew, Tensor gNew, double gtdNew)
    {
        bracket[at] = t; f[at] = fNew; gtd[at] = gtdNew;
        if (!ReferenceEquals(g[at], gNew)) g[at].Dispose();
        g[at] = gNew;
    }

    /// <summary>
    /// The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to the bounds (by default
    /// the two points); their midpoint where the cubic has no minimum.
    /// </summary>
    internal static double CubicInterpolate(double x1, double f1, double g1, double x2, double f2, double g2, double? lowBound, double? highBound)
    {
        double lo = lowBound ?? Math.Min(x1, x2), hi = highBound ?? Math.Max(x1, x2);
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2Square = d1 * d1 - g1 * g2;
        if (d2Square < 0) return (lo + hi) / 2;
        double d2 = Math.Sqrt(d2Square);
        double minPos = x1 <= x2
            ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return Math.Min(Math.Max(minPos, lo), hi);
    }
}
