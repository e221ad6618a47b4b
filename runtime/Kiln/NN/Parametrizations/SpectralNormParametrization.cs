using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>
/// Spectral normalisation (Miyato et al.; <c>torch.nn.utils.parametrizations.spectral_norm</c>): w / σ, σ the largest
/// singular value of w seen as a matrix (<see cref="Dim"/> first, the rest flattened), estimated by power iteration.
/// The vectors live in the buffers <c>_u</c> and <c>_v</c>: each forward in training mode runs
/// <see cref="PowerIterations"/> more steps on them; eval reads them as they are. A 1-D weight is simply normalised.
/// </summary>
public sealed class SpectralNormParametrization : Parametrization
{
    /// <summary>A spectral norm for <paramref name="weight"/>: random unit vectors refined by 15 power iterations, as PyTorch starts.</summary>
    public SpectralNormParametrization(Tensor weight, int powerIterations = 1, int dim = 0, double eps = 1e-12)
    {
        const string op = "spectral_norm";
        if (powerIterations <= 0) throw new KilnException(op, $"{op}: Expected n_power_iterations to be positive, but got n_power_iterations={powerIterations}", KilnErrorKind.Argument);
        PowerIterations = powerIterations;
        Eps = eps;
        Dim = weight.Dim == 0 ? 0 : Compiler.Shapes.ShapeRules.NormalizeDim(op, dim, weight.Dim);
        if (weight.Dim <= 1) return;
        using var noGrad = Autograd.NoGrad();
        using var matrix = Matrix(weight);
        using var u = Tensor.Randn([matrix.Size(0)], weight.DType).To(weight.Device);
        using var v = Tensor.Randn([matrix.Size(1)], weight.DType).To(weight.Device);
        RegisterBuffer("_u", F.Normalize(u, dim: 0, eps: eps));
        RegisterBuffer("_v", F.Normalize(v, dim: 0, eps: eps));
        Iterate(matrix, 15);
    }

    /// <summary>Power-iteration steps per training forward.</summary>
    public int PowerIterations { get; }
    /// <summary>The dim that becomes the matrix's rows.</summary>
    public int Dim { get; }
    /// <summary>The normalisation's guard against dividing by zero.</summary>
    public double Eps { get; }

    /// <inheritdoc/>
    public override Tensor Forward(IReadOnlyList<Tensor> originals)
    {
        var weight = originals[0];
        if (weight.Dim <= 1) return F.Normalize(weight, dim: 0, eps: Eps);
        using var matrix = Matrix(weight);
        if (Training)
            using (Autograd.NoGrad())
            using (var constant = matrix.Detach())
                Iterate(constant, PowerIterations);
        // σ = uᵀ W v with u and v constants: the gradient reaches W only.
        var u = TensorMember("_u")!;
        var v = TensorMember("_v")!;
        using var wv = matrix.Mv(v);
        using var sigma = u.Dot(wv);
        return weight / sigma;
    }

    /// <summary>u ← W v / ‖W v‖, v ← Wᵀ u / ‖Wᵀ u‖, <paramref name="steps"/> times.</summary>
    void Iterate(Tensor matrix, int steps)
    {
        for (int i = 0; i < steps; i++)
        {
            using var wv = matrix.Mv(TensorMember("_v")!);
            RegisterBuffer("_u", F.Normalize(wv, dim: 0, eps: Eps));
            using var wu = matrix.T.Mv(TensorMember("_u")!);
            RegisterBuffer("_v", F.Normalize(wu, dim: 0, eps: Eps));
        }
    }

    /// <summary>The weight as [size of <see cref="Dim"/>, everything else].</summary>
    Tensor Matrix(Tensor weight)
    {
        if (Dim == 0) return weight.Flatten(1);
        var order = new int[weight.Dim];
        order[0] = Dim;
        for (int i = 0, k = 1; i < weight.Dim; i++) if (i != Dim) order[k++] = i;
        using var moved = weight.Permute(order);
        return moved.Flatten(1);
    }

    /// <inheritdoc/>
    protected override string TypeName => "_SpectralNorm";
}
