using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.NN;
using Kiln.NN.Pruning;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// torch.nn.utils.prune against PyTorch (tests/golden/make_prune_golden.py): each scenario's prunings applied in order to
/// layers holding PyTorch's initial weights; after every step each mask equals PyTorch's exactly and every module's
/// state-dict keys and parameter names are PyTorch's, in order; at the end each module's output (rel 1e-5) and the
/// gradients of sum(output²) with respect to its parameters (rel 1e-4) match.
/// </summary>
public class PruneGoldenTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "prune.json"))).RootElement;

    public static TheoryData<string> Scenarios()
    {
        var data = new TheoryData<string>();
        foreach (var s in Root.GetProperty("scenarios").EnumerateArray()) data.Add(s.GetProperty("name").GetString()!);
        return data;
    }

    static Tensor Build(JsonElement spec) =>
        Tensor.From(spec.GetProperty("data").EnumerateArray().Select(e => (float)GoldenData.ReadDouble(e)).ToArray(),
            spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    static Module Layer(JsonElement spec)
    {
        var a = spec.EnumerateArray().ToArray();
        return a[0].GetString() switch
        {
            "linear" => new Linear(a[1].GetInt32(), a[2].GetInt32()),
            "conv2d" => new Conv2d(a[1].GetInt32(), a[2].GetInt32(), a[3].GetInt32()),
            "embedding" => new Embedding(a[1].GetInt32(), a[2].GetInt32()),
            var kind => throw new InvalidOperationException(kind),
        };
    }

    static PruningAmount Amount(JsonElement step)
    {
        var a = step.GetProperty("amount");
        // Not one conditional expression: its int branch would be widened to double, and 3 would read as the fraction 3.0.
        if (a.GetProperty("int").GetBoolean()) return a.GetProperty("value").GetInt32();
        return a.GetProperty("value").GetDouble();
    }

    static double Norm(JsonElement n) => n.ValueKind == JsonValueKind.String
        ? (n.GetString() == "inf" ? double.PositiveInfinity : double.NegativeInfinity)
        : n.GetDouble();

    static void Close(string what, JsonElement expected, Tensor actual, double rtol, double atol)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.True(shape.SequenceEqual(actual.ShapeArray), $"{what}: shape {actual.Shape}, PyTorch [{string.Join(", ", shape)}]");
        var want = expected.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        var got = actual.Contiguous().ToArray<float>();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= atol + rtol * Math.Abs(want[i]), $"{what}[{i}]: {got[i]}, PyTorch {want[i]}");
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void PruningMatchesPyTorch(string name)
    {
        var scenario = Root.GetProperty("scenarios").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);
        var modules = new Dictionary<string, Module>();
        foreach (var m in scenario.GetProperty("modules").EnumerateObject())
        {
            var layer = Layer(m.Value);
            var state = scenario.GetProperty("initial").GetProperty(m.Name).EnumerateObject().ToDictionary(p => p.Name, p => Build(p.Value));
            layer.LoadStateDict(state);
            modules[m.Name] = layer;
        }

        int index = 0;
        foreach (var step in scenario.GetProperty("steps").EnumerateArray())
        {
            string op = step.GetProperty("op").GetString()!;
            string where = $"{name} step {index++} ({op})";
            Module? module = step.TryGetProperty("module", out var mk) ? modules[mk.GetString()!] : null;
            string tensor = step.TryGetProperty("name", out var nk) ? nk.GetString()! : "";
            Tensor? scores = step.TryGetProperty("scores", out var recorded) ? Build(recorded) : null;   // PyTorch's seeded randn, as recorded
            switch (op)
            {
                case "l1_unstructured": Prune.L1Unstructured(module!, tensor, Amount(step), scores); break;
                case "ln_structured": Prune.LnStructured(module!, tensor, Amount(step), Norm(step.GetProperty("n")), step.GetProperty("dim").GetInt32(), scores); break;
                case "identity": Prune.Identity(module!, tensor); break;
                case "remove": Prune.Remove(module!, tensor); break;
                case "custom_from_mask":
                {
                    var current = module!.NamedParameters(false).Concat(module.NamedBuffers(false)).First(p => p.Name == tensor || p.Name == tensor + "_orig").Item2;
                    int every = step.GetProperty("every").GetInt32();
                    var mask = Tensor.From(Enumerable.Range(0, (int)current.Numel).Select(i => i % every != 0 ? 1f : 0f).ToArray(), current.ShapeArray);
                    Prune.CustomFromMask(module, tensor, mask);
                    break;
                }
                case "global_unstructured":
                {
                    var pairs = step.GetProperty("parameters_pruned").EnumerateArray()
                        .Select(p => (modules[p[0].GetString()!], p[1].GetString()!)).ToArray();
                    Prune.GlobalUnstructured(pairs, new L1Unstructured(Amount(step)));
                    break;
                }
                default: throw new InvalidOperationException(op);
            }

            foreach (var (key, layer) in modules)
            {
                var keys = step.GetProperty("keys").GetProperty(key).EnumerateArray().Select(e => e.GetString()).ToArray();
                Assert.True(keys.SequenceEqual(layer.StateDict().Keys), $"{where}: {key}'s state-dict keys [{string.Join(", ", layer.StateDict().Keys)}], PyTorch [{string.Join(", ", keys)}]");
                var parameters = step.GetProperty("parameters").GetProperty(key).EnumerateArray().Select(e => e.GetString()).ToArray();
                Assert.True(parameters.SequenceEqual(layer.NamedParameters().Select(p => p.Name)), $"{where}: {key}'s parameters");
                Assert.Equal(step.GetProperty("pruned").GetProperty(key).GetBoolean(), Prune.IsPruned(layer));
            }
            foreach (var mask in step.GetProperty("masks").EnumerateObject())
            {
                int dot = mask.Name.IndexOf('.');
                var buffer = modules[mask.Name[..dot]].NamedBuffers(false).Single(b => b.Name == mask.Name[(dot + 1)..]).Buffer;
                Close($"{where}: {mask.Name}", mask.Value, buffer, 0, 0);
            }
        }

        foreach (var (key, layer) in modules)
        {
            var result = scenario.GetProperty("results").GetProperty(key);
            var inputSpec = result.GetProperty("input");
            Tensor input = layer is Embedding ? Build(inputSpec).To(DType.Int64) : Build(inputSpec);
            var output = ((Module<Tensor, Tensor>)layer).Forward(input);
            Close($"{name}: {key} output", result.GetProperty("output"), output, 1e-5, 1e-6);
            Close($"{name}: {key} weight", result.GetProperty("weight"), TensorOf(layer, "weight"), 0, 0);
            (output * output).Sum().Backward();
            foreach (var grad in result.GetProperty("grads").EnumerateObject())
            {
                var p = layer.NamedParameters().Single(q => q.Name == grad.Name).Parameter;
                Close($"{name}: {key} grad of {grad.Name}", grad.Value, p.Grad!, 1e-4, 1e-5);
            }
        }
    }

    static Tensor TensorOf(Module layer, string name) => layer switch
    {
        Linear l => l.Weight,
        Conv2d c => c.Weight,
        Embedding e => e.Weight,
        _ => throw new InvalidOperationException(layer.GetType().Name),
    };
}
