using System;
using Kiln.Compiler.Shapes;

namespace Kiln.Distributions;

/// <summary>
/// The Wishart distribution over p × p positive-definite matrices with ν degrees of freedom and scale Σ = L·Lᵀ
/// (<c>torch.distributions.Wishart</c>), given the covariance matrix, its lower Cholesky factor or the precision matrix.
/// Draws use the Bartlett decomposition: L·A·Aᵀ·Lᵀ with A lower triangular, √χ²(ν - i) on its diagonal and standard
/// normals below it, differentiable in the scale and, through the reparameterized chi-squared draws, in ν.
/// </summary>
public sealed class Wishart : Distribution
{
    const string Op = "Wishart";

    /// <summary>Wisharts with <paramref name="df"/> degrees of freedom and one of <paramref name="covarianceMatrix"/>, <paramref name="precisionMatrix"/> or <paramref name="scaleTril"/>.</summary>
    public Wishart(Tensor df, Tensor? covarianceMatrix = null, Tensor? precisionMatrix = null, Tensor? scaleTril = null)
        : this(Checked(df, covarianceMatrix, precisionMatrix, scaleTril), covarianceMatrix, precisionMatrix, scaleTril) { }

    /// <summary>Wisharts with <paramref name="df"/> degrees of freedom (a number) and one of the three matrices.</summary>
    public Wishart(double df, Tensor? covarianceMatrix = null, Tensor? precisionMatrix = null, Tensor? scaleTril = null)
        : this(ScalarDf(df, covarianceMatrix ?? precisionMatrix ?? scaleTril), covarianceMatrix, precisionMatrix, scaleTril) { }

    Wishart((Tensor Df, int[] Batch, int P) p, Tensor? covarianceMatrix, Tensor? precisionMatrix, Tensor? scaleTril) : base(p.Batch, [p.P, p.P])
    {
        Df = p.Df;
        Factor = MultivariateNormal.ScaleTrilOf(covarianceMatrix, precisionMatrix, scaleTril);
        CheckParameters(("covariance_matrix", covarianceMatrix, Constraints.PositiveDefinite), ("precision_matrix", precisionMatrix, Constraints.PositiveDefinite), ("scale_tril", scaleTril, Constraints.LowerCholesky));
    }

    /// <summary>ν, broadcast to the batch.</summary>
    public Tensor Df { get; }

    /// <summary>L as given or computed, not broadcast to the batch.</summary>
    internal Tensor Factor { get; }

    int P => EventShape[0];

    /// <summary>The lower Cholesky factor L of the scale, batch + [p, p].</summary>
    public Tensor ScaleTril => Factor.Expand([.. BatchShape, P, P]);

    /// <summary>The scale Σ = L·Lᵀ, batch + [p, p].</summary>
    public Tensor CovarianceMatrix
    {
        get
        {
            using var ft = Factor.Transpose(-2, -1);
            using var sigma = Factor.Matmul(ft);
            return sigma.Expand([.. BatchShape, P, P]);
        }
    }

    /// <summary>Σ⁻¹ (from L by a Cholesky solve), batch + [p, p].</summary>
    public Tensor PrecisionMatrix
    {
        get
        {
            using var eye = Identity();
            using var precision = Linalg.CholeskySolve(eye, Factor);
            return precision.Expand([.. BatchShape, P, P]);
        }
    }

    /// <summary>ν·Σ.</summary>
    public override Tensor Mean
    {
        get
        {
            using var sigma = CovarianceMatrix;
            using var nu = DfAsMatrix();
            return nu * sigma;
        }
    }

    /// <summary>(ν - p - 1)·Σ, NaN where ν ≤ p + 1 (no mode).</summary>
    public override Tensor Mode
    {
        get
        {
            using var factor = Df - (P + 1.0);
            using var positive = factor.Gt(0);
            using var nan = Tensor.Full([], double.NaN, factor.DType, factor.Device);
            using var guarded = Tensor.Where(positive, factor, nan);
            using var matrix = guarded.Reshape([.. BatchShape, 1, 1]);
            using var sigma = CovarianceMatrix;
            return matrix * sigma;
        }
    }

    /// <summary>Var(Xᵢⱼ) = ν·(Σᵢⱼ² + Σᵢᵢ·Σⱼⱼ).</summary>
    public override Tensor Variance
    {
        get
        {
            using var sigma = CovarianceMatrix;
            using var squared = sigma.Square();
            using var diagonal = sigma.Diagonal(0, -2, -1);
            using var rows = diagonal.Unsqueeze(-1);
            using var columns = diagonal.Unsqueeze(-2);
            using var outer = rows * columns;
            using var sum = squared + outer;
            using var nu = DfAsMatrix();
            return nu * sum;
        }
    }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>Bartlett draws L·A·Aᵀ·Lᵀ, differentiable in the scale and in ν (through the chi-squared draws).</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        var shape = ExtendedShape(sampleShape);
        int[] vectorShape = [.. shape[..^2], P];
        // √χ²(ν - i) on the diagonal (clamped above machine epsilon, as PyTorch does), normals strictly below it.
        using var steps = Tensor.Arange(0, P).To(Df.DType).To(Df.Device);
        using var nu = Df.Unsqueeze(-1);
        using var dfs = nu - steps;
        using var wide = dfs.Expand(vectorShape);
        using var half = wide * 0.5;
        using var gammas = Gamma.StandardGammaRSample(half, generator);
        using var chi2 = gammas * 2.0;
        using var root = chi2.Sqrt();
        using var clamped = root.Clamp(min: Df.DType.Eps());
        using var diagonal = clamped.DiagEmbed();
        using var normals = StandardNormal(shape, Df, generator);
        using var below = normals.Tril(-1);
        var a = diagonal + below;
        using (a)
        {
            using var chol = Factor.Matmul(a);
            using var cholT = chol.Transpose(-2, -1);
            return chol.Matmul(cholT);
        }
    }

    /// <summary>
    /// -ν·(p·log 2/2 + Σ log diag L) - log Γ_p(ν/2) + (ν - p - 1)/2·log|det X| - tr(Σ⁻¹·X)/2.
    /// </summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        int p = P;
        using var halfLogDet = MultivariateNormal.HalfLogDet(Factor);
        using var normaliser = halfLogDet + p * Math.Log(2) / 2;
        using var first = Df * normaliser;
        using var halfDf = Df * 0.5;
        using var gammaP = halfDf.Mvlgamma(p);
        var (sign, logAbsDet) = Linalg.Slogdet(value);
        sign.Dispose();
        using (logAbsDet)
        {
            using var power = (Df - (p + 1.0)) * 0.5;
            using var third = power * logAbsDet;
            using var solved = Linalg.CholeskySolve(value, Factor);
            using var diagonal = solved.Diagonal(0, -2, -1);
            using var trace = diagonal.Sum(-1);
            using var fourth = trace * 0.5;
            using var negative = first.Neg();
            using var a = negative - gammaP;
            using var b = a + third;
            return b - fourth;
        }
    }

    /// <summary>(p + 1)·(p·log 2/2 + Σ log diag L) + log Γ_p(ν/2) - (ν - p - 1)/2·ψ_p(ν/2) + ν·p/2.</summary>
    public override Tensor Entropy()
    {
        int p = P;
        using var halfLogDet = MultivariateNormal.HalfLogDet(Factor);
        using var normaliser = halfLogDet + p * Math.Log(2) / 2;
        using var first = normaliser * (p + 1.0);
        using var halfDf = Df * 0.5;
        using var gammaP = halfDf.Mvlgamma(p);
        using var digammaP = MultivariateDigamma(halfDf, p);
        using var power = (Df - (p + 1.0)) * 0.5;
        using var third = power * digammaP;
        using var last = Df * (p / 2.0);
        using var a = first + gammaP;
        using var b = a - third;
        using var sum = b + last;
        return sum.Expand(BatchShape).Contiguous();
    }

    /// <summary>ψ_p(x) = Σᵢ₌₀^(p-1) ψ(x - i/2).</summary>
    static Tensor MultivariateDigamma(Tensor x, int p)
    {
        using var steps = Tensor.Arange(0, p).To(x.DType).To(x.Device);
        using var halves = steps * 0.5;
        using var column = x.Unsqueeze(-1);
        using var shifted = column - halves;
        using var digamma = shifted.Digamma();
        return digamma.Sum(-1);
    }

    Tensor DfAsMatrix() => Df.Reshape([.. BatchShape, 1, 1]);

    Tensor Identity() => Tensor.Eye(P, P, Factor.DType).To(Factor.Device);

    static (Tensor, int[], int) ScalarDf(double df, Tensor? matrix) =>
        matrix is null ? Checked(null!, null, null, null) : Checked(Tensor.Full([], df, matrix.DType, matrix.Device), matrix, null, null);

    static (Tensor Df, int[] Batch, int P) Checked(Tensor df, Tensor? covariance, Tensor? precision, Tensor? scaleTril)
    {
        var m = MultivariateNormal.TheMatrix(Op, covariance, precision, scaleTril);
        if (m.Dim < 2 || m.Size(-1) != m.Size(-2))
            throw new KilnException(Op, $"{Op}: the matrix must be a batch of square matrices [..., p, p], got shape {ShapeText.Format(m.ShapeArray)}", KilnErrorKind.Shape);
        if (!df.DType.IsFloatingPoint())
            throw new KilnException(Op, $"{Op}: df must be floating point, got {df.DType}", KilnErrorKind.DType);
        int p = m.Size(-1);
        var batch = ShapeRules.Broadcast(Op, m.ShapeArray[..^2], df.ShapeArray);
        using (Autograd.NoGrad())
        {
            using var low = df.Le(p - 1.0);
            if (low.Any().Item<bool>())
                throw new KilnException(Op, $"{Op}: df must be greater than p - 1 = {p - 1} for {p} × {p} matrices");
        }
        return (df.Expand(batch), batch, p);
    }

    /// <summary>Symmetric positive-definite matrices.</summary>
    public override Constraint Support => Constraints.PositiveDefinite;
}
