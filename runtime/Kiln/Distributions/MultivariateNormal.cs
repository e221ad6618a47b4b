using System;
using Kiln.Compiler.Shapes;

namespace Kiln.Distributions;

/// <summary>
/// The multivariate normal N(loc, Σ) (<c>torch.distributions.MultivariateNormal</c>) given the covariance matrix, its
/// lower Cholesky factor L (Σ = L·Lᵀ) or the precision matrix Σ⁻¹; loc [..., k].
/// </summary>
public sealed class MultivariateNormal : Distribution
{
    /// <summary>
    /// Normals with means <paramref name="loc"/> and <paramref name="covarianceMatrix"/>, <paramref name="scaleTril"/> or
    /// <paramref name="precisionMatrix"/>: exactly one.
    /// </summary>
    public MultivariateNormal(Tensor loc, Tensor? covarianceMatrix = null, Tensor? scaleTril = null, Tensor? precisionMatrix = null)
        : base(BatchOf(loc, covarianceMatrix, scaleTril, precisionMatrix), [loc.Size(-1)])
    {
        Loc = loc;
        Factor = ScaleTrilOf(covarianceMatrix, precisionMatrix, scaleTril);
        CheckParameters(("loc", loc, Constraints.RealVector), ("covariance_matrix", covarianceMatrix, Constraints.PositiveDefinite), ("precision_matrix", precisionMatrix, Constraints.PositiveDefinite), ("scale_tril", scaleTril, Constraints.LowerCholesky));
    }

    /// <summary>The means [..., k].</summary>
    public Tensor Loc { get; }

    /// <summary>L as given or computed, not broadcast to the batch (what the densities compute with).</summary>
    internal Tensor Factor { get; }

    /// <summary>The lower Cholesky factor L of the covariance, batch + [k, k].</summary>
    public Tensor ScaleTril => Batched(Factor);

    /// <summary>Σ = L·Lᵀ, batch + [k, k].</summary>
    public Tensor CovarianceMatrix
    {
        get
        {
            using var ft = Factor.Transpose(-2, -1);
            using var sigma = Factor.Matmul(ft);
            return Batched(sigma);
        }
    }

    /// <summary><paramref name="matrix"/> [..., k, k] broadcast to batch + [k, k] (a view).</summary>
    Tensor Batched(Tensor matrix) => matrix.Expand([.. BatchShape, EventShape[0], EventShape[0]]);

    /// <summary>Σ⁻¹ = L⁻ᵀ·L⁻¹.</summary>
    public Tensor PrecisionMatrix
    {
        get
        {
            int k = EventShape[0];
            using var eye = Tensor.Eye(k, k, Factor.DType).To(Factor.Device);
            using var lower = Factor.Tril();
            using var inverse = Linalg.SolveTriangular(lower, eye, upper: false);
            using var inverseT = inverse.Transpose(-2, -1);
            using var precision = inverseT.Matmul(inverse);
            return Batched(precision);
        }
    }

    /// <inheritdoc/>
    public override Tensor Mean => Loc.Expand([.. BatchShape, .. EventShape]).Contiguous();

    /// <summary>The diagonal of Σ: each row of L squared and summed.</summary>
    public override Tensor Variance
    {
        get
        {
            using var squared = Factor.Square();
            using var rows = squared.Sum(-1);
            return rows.Expand([.. BatchShape, .. EventShape]).Contiguous();
        }
    }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>loc + L·ε with ε ~ N(0, I).</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var eps = StandardNormal(ExtendedShape(sampleShape), Loc, generator);
        using var column = eps.Unsqueeze(-1);
        using var mixed = Factor.Matmul(column);
        using var flat = mixed.Squeeze(-1);
        return flat.Add(Loc);
    }

    /// <summary>loc.</summary>
    public override Tensor Mode => Mean;

    /// <summary>-½·(k·log 2π + |L⁻¹(x - loc)|²) - Σ log diag L.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        int k = EventShape[0];
        using var diff = value - Loc;
        using var mahalanobis = Mahalanobis(Factor, diff);
        using var halfLogDet = HalfLogDet(Factor);
        using var scaled = (mahalanobis + k * Math.Log(2 * Math.PI)) * -0.5;
        return scaled - halfLogDet;
    }

    /// <summary>½·k·(1 + log 2π) + Σ log diag L.</summary>
    public override Tensor Entropy()
    {
        int k = EventShape[0];
        using var halfLogDet = HalfLogDet(Factor);
        using var spread = halfLogDet + 0.5 * k * (1 + Math.Log(2 * Math.PI));
        return spread.Expand(BatchShape).Contiguous();
    }

    /// <summary>Σ log diag L = ½·log det Σ.</summary>
    internal static Tensor HalfLogDet(Tensor scaleTril)
    {
        using var diagonal = scaleTril.Diagonal(0, -2, -1);
        using var logs = diagonal.Log();
        return logs.Sum(-1);
    }

    /// <summary>|L⁻¹·x|² for x [..., k], L broadcast to x's batch; only L's lower triangle is read.</summary>
    internal static Tensor Mahalanobis(Tensor scaleTril, Tensor x)
    {
        int k = x.Size(-1);
        var batch = ShapeRules.Broadcast("MultivariateNormal", x.ShapeArray[..^1], scaleTril.ShapeArray[..^2]);
        using var l = scaleTril.Expand([.. batch, k, k]);
        using var xs = x.Expand([.. batch, k]);
        using var column = xs.Unsqueeze(-1);
        using var lower = l.Tril();             // a triangular solve reads the lower triangle only (no gradient above it)
        using var solved = Linalg.Solve(lower, column.Contiguous());
        using var squared = solved.Square();      // [..., k, 1]
        using var summed = squared.Sum(-2);
        return summed.Squeeze(-1);
    }

    /// <summary>
    /// The lower Cholesky factor of P⁻¹ without inverting P (PyTorch's way): with J the reversal permutation and
    /// J·P·J = L_f·L_fᵀ, P = U·Uᵀ for the upper triangular U = J·L_f·J, so P⁻¹ = L·Lᵀ with L = (Uᵀ)⁻¹: one Cholesky and
    /// one triangular solve.
    /// </summary>
    /// <summary>The lower Cholesky factor from whichever of the three parameterizations was given (Wishart's too).</summary>
    internal static Tensor ScaleTrilOf(Tensor? covariance, Tensor? precision, Tensor? scaleTril) =>
        covariance is not null ? Linalg.Cholesky(covariance) : precision is not null ? PrecisionToScaleTril(precision) : scaleTril!;

    static Tensor PrecisionToScaleTril(Tensor precision)
    {
        using var flipped = precision.Flip(-2, -1);
        using var lf = Linalg.Cholesky(flipped);
        using var back = lf.Flip(-2, -1);
        using var lInv = back.Transpose(-2, -1);
        int k = precision.Size(-1);
        using var eye = Tensor.Eye(k, k, precision.DType).To(precision.Device);
        return Linalg.SolveTriangular(lInv, eye, upper: false);
    }

    /// <summary>The one matrix of the three parameterizations given (Wishart's too); a clear error for none or several.</summary>
    internal static Tensor TheMatrix(string op, Tensor? covariance, Tensor? precision, Tensor? scaleTril)
    {
        int given = (covariance is null ? 0 : 1) + (precision is null ? 0 : 1) + (scaleTril is null ? 0 : 1);
        if (given != 1)
            throw new KilnException(op, $"{op}: exactly one of covariance_matrix, precision_matrix or scale_tril may be specified (got {(given == 0 ? "none" : given.ToString())})");
        return (covariance ?? precision ?? scaleTril)!;
    }

    static int[] BatchOf(Tensor loc, Tensor? covariance, Tensor? scaleTril, Tensor? precision)
    {
        const string op = "MultivariateNormal";
        var matrix = TheMatrix(op, covariance, precision, scaleTril);
        if (loc.Dim < 1) throw new KilnException(op, $"{op}: loc must be at least one-dimensional", KilnErrorKind.Shape);
        if (matrix.Dim < 2 || matrix.Size(-1) != loc.Size(-1) || matrix.Size(-2) != loc.Size(-1))
            throw new KilnException(op, $"{op}: the matrix {ShapeText.Format(matrix.ShapeArray)} must be [..., {loc.Size(-1)}, {loc.Size(-1)}] for loc {ShapeText.Format(loc.ShapeArray)}", KilnErrorKind.Shape);
        return ShapeRules.Broadcast(op, loc.ShapeArray[..^1], matrix.ShapeArray[..^2]);
    }

    /// <summary>Real vectors.</summary>
    public override Constraint Support => Constraints.RealVector;
}
