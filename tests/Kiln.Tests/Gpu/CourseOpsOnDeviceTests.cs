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
        "linalg_matrix_exp_float64"];

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
