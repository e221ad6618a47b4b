using System;
using Kiln.Compiler.Shapes;

namespace Kiln.Distributions;

/// <summary>
/// The multivariate normal N(loc, Σ) (<c>torch.distributions.MultivariateNormal</c>) given the covariance matrix or its
/// lower Cholesky factor L (Σ = L·Lᵀ); loc [..., k].
/// </summary>
public sealed class MultivariateNormal : Distribution
{
    /// <summary>Normals with means <paramref name="loc"/> and <paramref name="covarianceMatrix"/> or <paramref name="scaleTril"/>: exactly one.</summary>
    public MultivariateNormal(Tensor loc, Tensor? covarianceMatrix = null, Tensor? scaleTril = null)
        : base(BatchOf(loc, covarianceMatrix ?? scaleTril), [loc.Size(-1)])
    {
        Loc = loc;
        ScaleTril = covarianceMatrix is not null ? Linalg.Cholesky(covarianceMatrix) : scaleTril!;
    }

    /// <summary>The means [..., k].</summary>
    public Tensor Loc { get; }

    /// <summary>The lower Cholesky factor L of the covariance [..., k, k].</summary>
    public Tensor ScaleTril { get; }

    /// <summary>Σ = L·Lᵀ.</summary>
    public Tensor CovarianceMatrix => ScaleTril.Matmul(ScaleTril.Transpose(-2, -1));

    /// <inheritdoc/>
    public override Tensor Mean => Loc.To(Loc.DType);

    /// <summary>The diagonal of Σ: each row of L squared and summed.</summary>
    public override Tensor Variance
    {
        get { using var squared = ScaleTril.Square(); return squared.Sum(-1); }
    }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>loc + L·ε with ε ~ N(0, I).</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var eps = StandardNormal(ExtendedShape(sampleShape), Loc, generator);
        using var column = eps.Unsqueeze(-1);
        using var mixed = ScaleTril.Matmul(column);
        using var flat = mixed.Squeeze(-1);
        return flat.Add(Loc);
    }

    /// <summary>-½·(k·log 2π + |L⁻¹(x - loc)|²) - Σ log diag L.</summary>
    public override Tensor LogProb(Tensor value)
    {
        int k = EventShape[0];
        using var diff = value - Loc;
        using var mahalanobis = Mahalanobis(ScaleTril, diff);
        using var halfLogDet = HalfLogDet(ScaleTril);
        using var scaled = (mahalanobis + k * Math.Log(2 * Math.PI)) * -0.5;
        return scaled - halfLogDet;
    }

    /// <summary>½·k·(1 + log 2π) + Σ log diag L.</summary>
    public override Tensor Entropy()
    {
        int k = EventShape[0];
        using var halfLogDet = HalfLogDet(ScaleTril);
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

    static int[] BatchOf(Tensor loc, Tensor? matrix)
    {
        const string op = "MultivariateNormal";
        if (matrix is null) throw new KilnException(op, $"{op}: exactly one of covariance_matrix or scale_tril may be specified (got neither)");
        if (loc.Dim < 1) throw new KilnException(op, $"{op}: loc must be at least one-dimensional", KilnErrorKind.Shape);
        if (matrix.Dim < 2 || matrix.Size(-1) != loc.Size(-1) || matrix.Size(-2) != loc.Size(-1))
            throw new KilnException(op, $"{op}: the matrix {ShapeText.Format(matrix.ShapeArray)} must be [..., {loc.Size(-1)}, {loc.Size(-1)}] for loc {ShapeText.Format(loc.ShapeArray)}", KilnErrorKind.Shape);
        return ShapeRules.Broadcast(op, loc.ShapeArray[..^1], matrix.ShapeArray[..^2]);
    }
}
