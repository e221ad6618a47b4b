using System;
using Kiln.Compiler.Shapes;

namespace Kiln.Distributions;

/// <summary>
/// The multivariate normal whose covariance is low rank plus diagonal, Σ = W·Wᵀ + diag(D)
/// (<c>torch.distributions.LowRankMultivariateNormal</c>): loc [..., k], cov_factor W [..., k, r], cov_diag D [..., k].
/// Densities and entropies never form Σ: they solve with the r × r capacitance I + Wᵀ·D⁻¹·W (the Woodbury identity and
/// the matrix determinant lemma), so a large k with a small r stays cheap.
/// </summary>
public sealed class LowRankMultivariateNormal : Distribution
{
    /// <summary>Normals with means <paramref name="loc"/> and covariance <paramref name="covFactor"/>·<paramref name="covFactor"/>ᵀ + diag(<paramref name="covDiag"/>).</summary>
    public LowRankMultivariateNormal(Tensor loc, Tensor covFactor, Tensor covDiag) : base(BatchOf(loc, covFactor, covDiag), [loc.Size(-1)])
    {
        Loc = loc;
        CovFactor = covFactor;
        CovDiag = covDiag;
        CheckParameters(("loc", Loc, Constraints.RealVector), ("cov_factor", CovFactor, Constraints.Independent(Constraints.Real, 2)), ("cov_diag", CovDiag, Constraints.Independent(Constraints.Positive, 1)));
        CapacitanceTril = Capacitance(covFactor, covDiag);
    }

    /// <summary>The means [..., k].</summary>
    public Tensor Loc { get; }

    /// <summary>W [..., k, r].</summary>
    public Tensor CovFactor { get; }

    /// <summary>D [..., k] (positive).</summary>
    public Tensor CovDiag { get; }

    /// <summary>The lower Cholesky factor of the capacitance I + Wᵀ·D⁻¹·W [..., r, r].</summary>
    internal Tensor CapacitanceTril { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Loc.Expand([.. BatchShape, .. EventShape]).Contiguous();

    /// <summary>The diagonal of Σ: Σⱼ W²ᵢⱼ + Dᵢ.</summary>
    public override Tensor Variance
    {
        get
        {
            using var squared = CovFactor.Square();
            using var rows = squared.Sum(-1);
            using var sum = rows + CovDiag;
            return sum.Expand([.. BatchShape, .. EventShape]).Contiguous();
        }
    }

    /// <summary>Σ = W·Wᵀ + diag(D) [..., k, k].</summary>
    public Tensor CovarianceMatrix
    {
        get
        {
            using var wt = CovFactor.Transpose(-2, -1);
            using var product = CovFactor.Matmul(wt);
            using var diagonal = CovDiag.DiagEmbed();
            using var sum = product + diagonal;
            int k = EventShape[0];
            return sum.Expand([.. BatchShape, k, k]).Contiguous();
        }
    }

    /// <summary>Σ⁻¹ = D⁻¹ - Aᵀ·A with A = L_C⁻¹·Wᵀ·D⁻¹ (Woodbury).</summary>
    public Tensor PrecisionMatrix
    {
        get
        {
            using var wtDinv = WtDinv(CovFactor, CovDiag);
            using var a = Linalg.SolveTriangular(CapacitanceTril, wtDinv, upper: false);
            using var at = a.Transpose(-2, -1);
            using var correction = at.Matmul(a);
            using var inverse = CovDiag.Reciprocal();
            using var diagonal = inverse.DiagEmbed();
            using var precision = diagonal - correction;
            int k = EventShape[0];
            return precision.Expand([.. BatchShape, k, k]).Contiguous();
        }
    }

    /// <summary>The lower Cholesky factor of Σ: √D·chol(I + D^-½·W·Wᵀ·D^-½), as PyTorch forms it.</summary>
    public Tensor ScaleTril
    {
        get
        {
            using var root = CovDiag.Sqrt();
            using var column = root.Unsqueeze(-1);
            using var scaled = CovFactor / column;
            using var scaledT = scaled.Transpose(-2, -1);
            using var gram = scaled.Matmul(scaledT);
            int k = EventShape[0];
            using var eye = Tensor.Eye(k, k, gram.DType).To(gram.Device);
            using var shifted = gram + eye;
            using var factor = Linalg.Cholesky(shifted);
            using var tril = column * factor;
            return tril.Expand([.. BatchShape, k, k]).Contiguous();
        }
    }

    /// <summary>The same distribution as a <see cref="MultivariateNormal"/> with <see cref="ScaleTril"/>.</summary>
    internal MultivariateNormal Full() => new(Loc, scaleTril: ScaleTril);

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>loc + W·ε_W + √D·ε_D with ε_W ~ N(0, I_r) and ε_D ~ N(0, I_k).</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        var shape = ExtendedShape(sampleShape);
        using var epsW = StandardNormal([.. shape[..^1], CovFactor.Size(-1)], Loc, generator);
        using var epsD = StandardNormal(shape, Loc, generator);
        using var column = epsW.Unsqueeze(-1);
        using var mixed = CovFactor.Matmul(column);
        using var low = mixed.Squeeze(-1);
        using var root = CovDiag.Sqrt();
        using var diagonal = root * epsD;
        using var spread = low + diagonal;
        return spread + Loc;
    }

    /// <summary>loc.</summary>
    public override Tensor Mode => Mean;

    /// <summary>-½·(k·log 2π + log det Σ + (x - loc)ᵀ·Σ⁻¹·(x - loc)), both terms through the capacitance.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        int k = EventShape[0];
        using var diff = value - Loc;
        using var mahalanobis = Mahalanobis(diff);
        using var logDet = LogDet();
        using var sum = mahalanobis + logDet;
        using var shifted = sum + k * Math.Log(2 * Math.PI);
        return shifted * -0.5;
    }

    /// <summary>½·(k·(1 + log 2π) + log det Σ).</summary>
    public override Tensor Entropy()
    {
        int k = EventShape[0];
        using var logDet = LogDet();
        using var shifted = logDet + k * (1 + Math.Log(2 * Math.PI));
        using var half = shifted * 0.5;
        return half.Expand(BatchShape).Contiguous();
    }

    /// <summary>log det Σ = 2·Σ log diag L_C + Σ log D (the matrix determinant lemma).</summary>
    Tensor LogDet()
    {
        using var half = MultivariateNormal.HalfLogDet(CapacitanceTril);
        using var logs = CovDiag.Log();
        using var diagonal = logs.Sum(-1);
        using var twice = half * 2.0;
        return twice + diagonal;
    }

    /// <summary>xᵀ·Σ⁻¹·x = Σ xᵢ²/Dᵢ - |L_C⁻¹·Wᵀ·D⁻¹·x|² (Woodbury).</summary>
    Tensor Mahalanobis(Tensor x)
    {
        using var squared = x.Square();
        using var scaled = squared / CovDiag;
        using var first = scaled.Sum(-1);
        using var wtDinv = WtDinv(CovFactor, CovDiag);
        int r = CovFactor.Size(-1);
        var batch = ShapeRules.Broadcast("LowRankMultivariateNormal", x.ShapeArray[..^1], wtDinv.ShapeArray[..^2]);
        using var m = wtDinv.Expand([.. batch, r, x.Size(-1)]);
        using var column = x.Unsqueeze(-1);
        using var projected = m.Matmul(column);
        using var flat = projected.Squeeze(-1);
        using var second = MultivariateNormal.Mahalanobis(CapacitanceTril, flat);
        return first - second;
    }

    /// <summary>Wᵀ·D⁻¹ [..., r, k].</summary>
    static Tensor WtDinv(Tensor w, Tensor d)
    {
        using var wt = w.Transpose(-2, -1);
        using var row = d.Unsqueeze(-2);
        return wt / row;
    }

    /// <summary>chol(I + Wᵀ·D⁻¹·W) [..., r, r].</summary>
    static Tensor Capacitance(Tensor w, Tensor d)
    {
        using var wtDinv = WtDinv(w, d);
        using var k = wtDinv.Matmul(w);
        int r = w.Size(-1);
        using var eye = Tensor.Eye(r, r, k.DType).To(k.Device);
        using var shifted = k + eye;
        return Linalg.Cholesky(shifted);
    }

    static int[] BatchOf(Tensor loc, Tensor covFactor, Tensor covDiag)
    {
        const string op = "LowRankMultivariateNormal";
        if (loc.Dim < 1) throw new KilnException(op, $"{op}: loc must be at least one-dimensional", KilnErrorKind.Shape);
        int k = loc.Size(-1);
        if (covFactor.Dim < 2 || covFactor.Size(-2) != k)
            throw new KilnException(op, $"{op}: cov_factor {ShapeText.Format(covFactor.ShapeArray)} must be a batch of matrices [..., {k}, r] for loc {ShapeText.Format(loc.ShapeArray)}", KilnErrorKind.Shape);
        if (covDiag.Dim < 1 || covDiag.Size(-1) != k)
            throw new KilnException(op, $"{op}: cov_diag {ShapeText.Format(covDiag.ShapeArray)} must be a batch of vectors [..., {k}] for loc {ShapeText.Format(loc.ShapeArray)}", KilnErrorKind.Shape);
        var batch = ShapeRules.Broadcast(op, loc.ShapeArray[..^1], covFactor.ShapeArray[..^2]);
        return ShapeRules.Broadcast(op, batch, covDiag.ShapeArray[..^1]);
    }

    /// <summary>Real vectors.</summary>
    public override Constraint Support => Constraints.RealVector;
}
