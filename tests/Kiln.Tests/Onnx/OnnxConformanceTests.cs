using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Tests.Onnx;

/// <summary>
/// ONNX's backend node tests from Debian's libonnx-testdata 1.12 (test.sh installs it): every case Kiln runs is counted,
/// and the count may not fall below what README states; the operators a PyTorch-exported model uses most must all pass.
/// </summary>
public class OnnxConformanceTests(ITestOutputHelper output)
{
    /// <summary>The pass count stated in README (the test fails if a change loses any).</summary>
    const int StatedPasses = 718;

    [Fact]
    public void NodeTestsPassAsStated()
    {
        Assert.True(Directory.Exists(OnnxConformance.NodeTests), $"{OnnxConformance.NodeTests} is missing: install libonnx-testdata (test.sh does)");
        var results = Directory.GetDirectories(OnnxConformance.NodeTests).Order(StringComparer.Ordinal).Select(OnnxConformance.RunCase).ToList();
        var byOutcome = results.GroupBy(r => r.Outcome).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{results.Count} node tests: " + string.Join(", ", byOutcome.Select(kv => $"{kv.Key} {kv.Value}")));
        foreach (var r in results.Where(r => r.Outcome is OnnxConformance.Outcome.Mismatch or OnnxConformance.Outcome.Error))
            output.WriteLine($"{r.Outcome} {r.Name}: {r.Detail}");
        foreach (var g in results.Where(r => r.Outcome == OnnxConformance.Outcome.Unsupported).GroupBy(r => r.Detail.Length > 70 ? r.Detail[..70] : r.Detail).OrderByDescending(g => g.Count()))
            output.WriteLine($"Unsupported x{g.Count()}: {g.Key}");
        string[] core = ["test_add", "test_sub", "test_mul", "test_div", "test_matmul_2d", "test_matmul_3d", "test_gemm_default_no_bias", "test_relu",
            "test_sigmoid", "test_tanh", "test_softmax_axis_1", "test_logsoftmax_axis_1", "test_conv_with_strides_padding", "test_maxpool_2d_default",
            "test_averagepool_2d_default", "test_globalaveragepool", "test_batchnorm_example", "test_reshape_reordered_all_dims", "test_transpose_default",
            "test_concat_2d_axis_0", "test_gather_0", "test_unsqueeze_axis_0", "test_squeeze", "test_flatten_axis1", "test_slice", "test_reduce_mean_default_axes_keepdims_example",
            "test_layer_normalization_2d_axis0", "test_erf", "test_pow", "test_where_example", "test_cast_FLOAT_to_DOUBLE", "test_expand_dim_changed", "test_shape"];
        var passed = results.Where(r => r.Outcome == OnnxConformance.Outcome.Pass).Select(r => r.Name).ToHashSet();
        var missing = core.Where(c => !passed.Contains(c)).ToList();
        Assert.True(missing.Count == 0, "core operators failing: " + string.Join("; ", missing.Select(m => results.First(r => r.Name == m)).Select(r => $"{r.Name}: {r.Outcome} {r.Detail}")));
        Assert.True(passed.Count >= StatedPasses, $"{passed.Count} node tests pass, README states {StatedPasses}");
    }
}
