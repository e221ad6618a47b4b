using System;
using System.Collections.Generic;
using System.IO;
using Kiln.Onnx;
using Kiln.Onnx.Runtime;

namespace Kiln.Tests.Onnx;

/// <summary>
/// Runs ONNX's own backend node tests (Debian's libonnx-testdata: a one-node model.onnx per case, with
/// test_data_set_*/input_N.pb and output_N.pb) through <see cref="OnnxSession"/> and compares as ONNX's backend test
/// runner does: same dtype and shape, values within rtol 1e-3 and atol 1e-7 (NaN equal to NaN).
/// </summary>
internal static class OnnxConformance
{
    public const string NodeTests = "/usr/share/libonnx-testdata/data/node";

    public enum Outcome { Pass, Mismatch, Unsupported, Error, Random, BadData }

    /// <summary>Cases whose expected outputs do not follow the node they come with (checked by hand), and why.</summary>
    static readonly Dictionary<string, string> BadData = new()
    {
        ["test_adam_multiple"] = "the expected values use epsilon 1e-2, which the node does not set (ONNX's default is 1e-6); "
            + "OnnxConformanceTests.AdamMultipleMatchesWithTheEpsilonItsDataUsed runs it with 1e-2",
    };

    /// <summary>Cases whose expected outputs are numpy's random draws: no generator can reproduce them, so these pass as
    /// <see cref="Outcome.Random"/> when dtype and shape match and the values agree wherever neither is zero (a dropped
    /// or Bernoulli element is zero in one of the two).</summary>
    static readonly HashSet<string> RandomCases = ["test_training_dropout", "test_training_dropout_default", "test_training_dropout_default_mask",
        "test_training_dropout_mask", "test_bernoulli", "test_bernoulli_double", "test_bernoulli_seed", "test_bernoulli_expanded",
        "test_bernoulli_double_expanded", "test_bernoulli_seed_expanded"];

    public sealed record Result(string Name, Outcome Outcome, string Detail);

    public static Result RunCase(string dir)
    {
        string name = Path.GetFileName(dir);
        OnnxSession session;
        try { session = OnnxSession.Load(Path.Combine(dir, "model.onnx")); }
        catch (KilnException e) { return new(name, e.Kind == KilnErrorKind.Unsupported ? Outcome.Unsupported : Outcome.Error, e.Message); }
        if (session.Unsupported.Count > 0) return new(name, Outcome.Unsupported, string.Join(", ", session.Unsupported));
        foreach (var set in Directory.GetDirectories(dir, "test_data_set_*"))
        {
            var inputs = new Dictionary<string, object?>();
            var outputs = new List<object?>();
            try
            {
                for (int i = 0; i < session.InputNames.Count; i++)
                    inputs[session.InputNames[i]] = OnnxValueFile.Read(Path.Combine(set, $"input_{i}.pb"), session.Graph.InputTypes[i]);
                for (int i = 0; i < session.OutputNames.Count; i++) outputs.Add(OnnxValueFile.Read(Path.Combine(set, $"output_{i}.pb"), session.Graph.OutputTypes[i]));
            }
            catch (Exception e) when (e is KilnException or IOException) { return new(name, Outcome.Unsupported, "test data: " + e.Message); }
            Dictionary<string, object?> got;
            try { got = session.RunValues(inputs); }
            catch (KilnException e) { return new(name, e.Kind == KilnErrorKind.Unsupported ? Outcome.Unsupported : Outcome.Error, e.Message); }
            catch (Exception e) when (e is not OutOfMemoryException) { return new(name, Outcome.Error, e.GetType().Name + ": " + e.Message); }
            for (int i = 0; i < outputs.Count; i++)
            {
                string why = Compare(got[session.OutputNames[i]], outputs[i], RandomCases.Contains(name));
                if (why.Length > 0)
                    return BadData.TryGetValue(name, out var bad) ? new(name, Outcome.BadData, bad) : new(name, Outcome.Mismatch, $"output {i}: {why}");
            }
        }
        return new(name, RandomCases.Contains(name) ? Outcome.Random : Outcome.Pass, "");
    }

    /// <summary>Tensors as below; sequences element by element; optionals both empty or their values compared.</summary>
    static string Compare(object? actual, object? expected, bool random) => (actual, expected) switch
    {
        (Tensor a, Tensor e) => Compare(a, e, random),
        (OnnxSequence a, OnnxSequence e) when a.Count != e.Count => $"a sequence of {a.Count} vs {e.Count}",
        (OnnxSequence a, OnnxSequence e) => CompareAll(a, e, random),
        (OnnxOptional a, OnnxOptional e) => a.HasValue != e.HasValue ? $"optional {(a.HasValue ? "with" : "without")} a value vs {(e.HasValue ? "with" : "without")}" : a.HasValue ? Compare(a.Value, e.Value, random) : "",
        _ => $"{actual?.GetType().Name ?? "nothing"} vs {expected?.GetType().Name ?? "nothing"}",
    };

    static string CompareAll(OnnxSequence actual, OnnxSequence expected, bool random)
    {
        for (int i = 0; i < actual.Count; i++)
        {
            string why = Compare(actual[i], expected[i], random);
            if (why.Length > 0) return $"element {i}: {why}";
        }
        return "";
    }

    static string Compare(Tensor actual, Tensor expected, bool random)
    {
        if (actual.DType != expected.DType) return $"dtype {actual.DType} vs {expected.DType}";
        if (!actual.Shape.Equals(expected.Shape)) return $"shape {actual.Shape} vs {expected.Shape}";
        if (expected.DType == DType.Bool) { actual = actual.To(DType.UInt8); expected = expected.To(DType.UInt8); }
        var a = actual.To(DType.Float64).Contiguous().ToArray<double>();
        var e = expected.To(DType.Float64).Contiguous().ToArray<double>();
        for (int i = 0; i < a.Length; i++)
        {
            if (double.IsNaN(e[i]) && double.IsNaN(a[i])) continue;
            if (a[i] == e[i] || random && (a[i] == 0 || e[i] == 0)) continue;
            if (!(Math.Abs(a[i] - e[i]) <= 1e-7 + 1e-3 * Math.Abs(e[i]))) return $"element {i}: {a[i]} vs {e[i]}";
        }
        return "";
    }
}
