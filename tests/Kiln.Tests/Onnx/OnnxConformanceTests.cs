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
    const int StatedPasses = 876;

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
            "test_layer_normalization_2d_axis0", "test_erf", "test_pow", "test_where_example", "test_cast_FLOAT_to_DOUBLE", "test_expand_dim_changed", "test_shape",
            "test_resize_upsample_scales_linear", "test_resize_upsample_scales_nearest", "test_convtranspose_1d", "test_maxpool_3d_default", "test_lrn"];
        var passed = results.Where(r => r.Outcome == OnnxConformance.Outcome.Pass).Select(r => r.Name).ToHashSet();
        var missing = core.Where(c => !passed.Contains(c)).ToList();
        Assert.True(missing.Count == 0, "core operators failing: " + string.Join("; ", missing.Select(m => results.First(r => r.Name == m)).Select(r => $"{r.Name}: {r.Outcome} {r.Detail}")));
        Assert.True(passed.Count >= StatedPasses, $"{passed.Count} node tests pass, README states {StatedPasses}");
        var wrong = results.Where(r => r.Outcome is OnnxConformance.Outcome.Mismatch or OnnxConformance.Outcome.Error).ToList();
        Assert.True(wrong.Count == 0, "wrong answers: " + string.Join("; ", wrong.Select(r => $"{r.Name}: {r.Detail}")));
    }

    [Fact]
    public void AdamMultipleMatchesWithTheEpsilonItsDataUsed()
    {
        // ONNX's test_adam_multiple computed its outputs with epsilon 1e-2 but wrote a node without it: the same node with
        // epsilon set gives the stored outputs.
        string dir = Path.Combine(OnnxConformance.NodeTests, "test_adam_multiple");
        Assert.True(Directory.Exists(dir), $"{dir} is missing: install libonnx-testdata (test.sh does)");
        var graph = Kiln.Onnx.Runtime.OnnxSession.Load(Path.Combine(dir, "model.onnx")).Graph;
        var node = graph.Nodes[0];
        var floats = new Dictionary<string, float>(node.Floats) { ["epsilon"] = 1e-2f };
        var patched = node with { Floats = floats };
        string set = Path.Combine(dir, "test_data_set_0");
        var inputs = new Tensor?[node.Inputs.Count];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = Kiln.Onnx.OnnxTensor.ReadFile(Path.Combine(set, $"input_{i}.pb"));
        var outputs = Kiln.Onnx.Runtime.OnnxOps.Run(new Kiln.Onnx.Runtime.NodeContext(patched, inputs, graph.Opset));
        for (int i = 0; i < node.Outputs.Count; i++)
        {
            var expected = Kiln.Onnx.OnnxTensor.ReadFile(Path.Combine(set, $"output_{i}.pb")).ToArray<float>();
            var actual = ((Tensor)outputs[i]!).ToArray<float>();
            Assert.Equal(expected.Length, actual.Length);
            for (int j = 0; j < expected.Length; j++) Assert.True(Math.Abs(actual[j] - expected[j]) <= 1e-6 + 1e-5 * Math.Abs(expected[j]), $"output {i}[{j}]: {actual[j]} vs {expected[j]}");
        }
    }
}
