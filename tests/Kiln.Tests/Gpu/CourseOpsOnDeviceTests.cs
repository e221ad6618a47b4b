using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.Gpu;

/// <summary>
/// The tensor functions of the course golden file (rounding, sorting and selection, indexing, grids, distances, norms,
/// counting) with their inputs on the (emulated) CUDA device: PyTorch's values and gradients as on the CPU.
/// </summary>
[Collection(EmulatedCuda.Collection)]
public class CourseOpsOnDeviceTests
{
    // The CUDA backend multiplies float32 and 16-bit matrices only (a clear error for float64, these cases' dtype); the
    // instance-norm case builds its layer inside the call, on the host.
    static readonly string[] HostOnly = ["linalg_solve", "linalg_solve_vector", "linalg_inv", "linalg_inv_batch", "matrix_power", "linalg_cholesky", "linalg_eigh",
        "linalg_eigvalsh", "linalg_logdet", "linalg_pinv_tall", "linalg_pinv_wide_batch", "linalg_pinv_rank_deficient", "instance_norm1d_affine",
        // Device-agnostic compositions of backward passes the other cases already run on the device; an element-by-element
        // Jacobian is hundreds of backward runs, ~12 s each case on the emulator.
        "autograd_functional", "autograd_functional_many", "linalg_matrix_exp_float64",
        // Long compositions (series of special functions, distributions built on lgamma/digamma/polygamma): each op they
        // use runs on the device in its own case (lgamma, digamma, pow, where, ...), and the emulator takes 5-18 s for
        // each of these, minutes in all.
        "special_i0", "special_bessel_float64", "special_i0e_grad", "special_i1_grad", "special_i1e_grad", "special_polygamma",
        "special_polygamma_grad", "special_polygamma_float64", "special_multigammaln", "dist_studentt", "dist_studentt_entropy",
        "dist_dirichlet", "dist_dirichlet_entropy", "dist_binomial_grad", "dist_binomial_logits", "dist_chi2", "dist_beta",
        "kl_more_families", "kl_gamma_beta", "dist_weibull", "dist_kumaraswamy", "dist_negative_binomial", "dist_negative_binomial_logits",
        "dist_fisher_snedecor", "dist_von_mises", "dist_continuous_bernoulli", "dist_continuous_bernoulli_logits",
        // Compositions of ops each run on the device in their own cases (pow, log, sigmoid, logsumexp, cumprod, pad): about
        // a second each on the emulator, which the suite's time budget does not spare.
        "dist_pareto", "dist_relaxed_bernoulli", "dist_relaxed_bernoulli_probs", "dist_relaxed_onehot", "dist_relaxed_onehot_probs",
        "dist_logistic_normal"];

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (string name in CourseGoldenTests.Names())
            if (System.Array.IndexOf(HostOnly, name) < 0) d.Add(name);
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesPyTorchOnTheDevice(string name)
    {
        using var cuda = new EmulatedCuda();
        CourseGoldenTests.Check(name, Device.Cuda());
    }
}
