using System;
using System.IO;
using System.Linq;
using System.Text;
using Kiln.IO;
using Kiln.NN;
using Kiln.Quantization;
using Kiln.Tests.Transformers;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Quantization;

/// <summary>
/// bitsandbytes' formats against tests/golden/make_quant_golden.py (its reference semantics in PyTorch): the packed
/// codes, absmax statistics, maps and quant-state JSON are byte-identical, dequantized values equal.
/// </summary>
public class BitsAndBytesGoldenTests
{
    internal static string Dir(string name) => Path.Combine(AppContext.BaseDirectory, "golden", "quant", name);

    static void SameBytes(Tensor want, Tensor got, string what)
    {
        Assert.True(want.Shape.ToArray().SequenceEqual(got.Shape.ToArray()), $"{what}: shape [{string.Join(", ", got.Shape.ToArray())}] vs [{string.Join(", ", want.Shape.ToArray())}]");
        Assert.Equal(want.DType, got.DType);
        var a = want.Contiguous().ToArray<byte>(); var b = got.Contiguous().ToArray<byte>();
        int first = Enumerable.Range(0, a.Length).FirstOrDefault(i => a[i] != b[i], -1);
        Assert.True(first < 0, $"{what}: byte {first} differs ({b[Math.Max(0, first)]} vs {a[Math.Max(0, first)]})");
    }

    [Fact]
    public void CodeTablesEqualBitsandbytes()
    {
        var maps = SafeTensors.Load(Dir("maps.safetensors"));
        Assert.Equal(maps["nf4"].ToArray<float>(), Codebooks.Nf4.ToArray());
        Assert.Equal(maps["fp4"].ToArray<float>(), Codebooks.Fp4.ToArray());
        Assert.Equal(maps["dynamic_map"].ToArray<float>(), Codebooks.Dynamic.ToArray());
    }

    [Theory]
    [InlineData("nf4_b64", QuantType.Nf4, 64, false)]
    [InlineData("nf4_b64_remainder", QuantType.Nf4, 64, false)]
    [InlineData("fp4_b128", QuantType.Fp4, 128, false)]
    [InlineData("nf4_b64_dq", QuantType.Nf4, 64, true)]
    [InlineData("fp4_b64_dq", QuantType.Fp4, 64, true)]
    [InlineData("nf4_b256_bf16_dq", QuantType.Nf4, 256, true)]
    public void FourBitBytesAndValuesEqualTheReference(string name, QuantType type, int blocksize, bool dq)
    {
        var g = SafeTensors.Load(Dir(name + ".safetensors"));
        var q = Quantized4Bit.Quantize(g["input"], type, blocksize, dq);
        var mine = q.ToStateDict("weight").ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(g.Keys.Where(k => k.StartsWith("weight", StringComparison.Ordinal)).Order(), mine.Keys.Order());
        foreach (var (k, t) in mine) SameBytes(g[k], t, k);
        string stateKey = "weight.quant_state.bitsandbytes__" + (type == QuantType.Nf4 ? "nf4" : "fp4");
        Assert.Equal(Encoding.UTF8.GetString(g[stateKey].ToArray<byte>()), q.QuantStateJson());
        SameBytes(g["dequant"], q.Dequantize(), "dequant");
        // Read back from the reference's own tensors: the same values.
        var read = Quantized4Bit.FromStateDict(g, "weight");
        SameBytes(g["dequant"], read.Dequantize(), "dequant of the reference's bytes");
        Assert.Equal(dq, read.DoubleQuant);
    }

    [Fact]
    public void Int8RowsEqualTheReference()
    {
        var g = SafeTensors.Load(Dir("int8_rows.safetensors"));
        var q = QuantizedInt8.Quantize(g["input"]);
        SameBytes(g["weight"], q.Codes, "weight");
        SameBytes(g["SCB"], q.Scb, "SCB");
        var a = g["dequant"].ToArray<float>(); var b = q.Dequantize().ToArray<float>();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-6f * Math.Abs(a[i]), $"{i}: {b[i]} vs {a[i]}");
        var keys = q.ToStateDict("fc.weight").Select(kv => kv.Key).ToArray();
        Assert.Equal(["fc.weight", "fc.SCB", "fc.weight_format"], keys);
    }

    [Fact]
    public void PythonFloatReprMatches()
    {
        Assert.Equal("1.4413971900939941", Quantized4Bit.PythonFloat(1.4413971900939941f));
        Assert.Equal("2.0", Quantized4Bit.PythonFloat(2f));
        Assert.Equal("9.999999747378752e-06", Quantized4Bit.PythonFloat(1e-5f));     // repr(float(np.float32(1e-5)))
        Assert.Equal("0.00019999999494757503", Quantized4Bit.PythonFloat(2e-4f));
        Assert.Equal("-3.250000020216248e-07", Quantized4Bit.PythonFloat(-3.25e-7f));
    }

    [Fact]
    public void CorruptStatisticsAreNamed()
    {
        var g = SafeTensors.Load(Dir("nf4_b64_dq.safetensors"));
        var bad = g.ToDictionary(kv => kv.Key, kv => kv.Value);
        bad["weight.absmax"] = Tensor.Zeros([7], DType.UInt8);
        var e = Assert.Throws<KilnException>(() => Quantized4Bit.FromStateDict(bad, "weight"));
        Assert.Contains("absmax should be 320 uint8 values", e.Message);
        bad = g.ToDictionary(kv => kv.Key, kv => kv.Value);
        bad["weight"] = Tensor.Zeros([5, 1], DType.UInt8);
        Assert.Contains("packed codes should be 10240", Assert.Throws<KilnException>(() => Quantized4Bit.FromStateDict(bad, "weight")).Message);
        bad = g.ToDictionary(kv => kv.Key, kv => kv.Value);
        bad.Remove("weight.quant_map");
        Assert.Contains("weight.quant_map is missing", Assert.Throws<KilnException>(() => Quantized4Bit.FromStateDict(bad, "weight")).Message);
        Assert.Contains("blocksize must be a power of two", Assert.Throws<KilnException>(() => Quantized4Bit.Quantize(Tensor.Randn(4, 4), blocksize: 48)).Message);
        Assert.Contains("only 16/32-bit floats", Assert.Throws<KilnException>(() => Quantized4Bit.Quantize(Tensor.Zeros([4], DType.Int64))).Message);
    }

    [Fact]
    public void PrequantizedCheckpointLoadsAsWritten()
    {
        var model = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(Dir("llama_gqa_nf4"));
        var q = Assert.IsType<Linear4bit>(model.Model.Layers[0].SelfAttn.QProj);
        Assert.True(q.Quantized.DoubleQuant);
        Assert.IsNotType<Linear4bit>(model.LmHead);
        var dequant = SafeTensors.Load(Dir("llama_gqa_nf4/dequant.safetensors"));
        foreach (var (k, want) in dequant)
        {
            var layer = (Linear4bit)model.GetSubmodule(k[..^".weight".Length]);
            SameBytes(want, layer.DequantizedWeight(), k);
        }
        // Logits equal those of the float model holding the dequantized weights (the reference's values).
        var reference = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(HuggingFaceFixtureTests.Dir("llama_gqa"));
        var state = reference.StateDict();
        using (Autograd.NoGrad()) foreach (var (k, v) in dequant) state[k].Copy_(v);
        var expected = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir("llama_gqa"), "expected.safetensors"));
        var ids = expected["input_ids"]; var mask = expected["attention_mask"];
        using (Autograd.NoGrad())
            LlamaGoldenTests.Close(reference.Forward(ids, mask), model.Forward(ids, mask), mask.ToArray<long>(), "nf4 logits");
    }

    [Fact]
    public void QuantizeOnLoadWritesTheReferenceBytes()
    {
        var config = new BitsAndBytesConfig { LoadIn4Bit = true, Bnb4BitUseDoubleQuant = true };
        var model = (Module)AutoModelForCausalLM.FromPretrained(HuggingFaceFixtureTests.Dir("llama_gqa"), quantizationConfig: config);
        var file = SafeTensors.Load(Dir("llama_gqa_nf4/model.safetensors"));
        int layers = 0;
        foreach (var (path, m) in model.NamedModules())
        {
            if (m is not Linear4bit q) continue;
            layers++;
            foreach (var (k, t) in q.Quantized.ToStateDict(path + ".weight")) SameBytes(file[k], t, k);
        }
        Assert.Equal(14, layers);
        var int8 = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(HuggingFaceFixtureTests.Dir("llama_gqa"), quantizationConfig: new BitsAndBytesConfig { LoadIn8Bit = true });
        Assert.IsType<Linear8bitLt>(int8.Model.Layers[1].Mlp.DownProj);
    }

    [Fact]
    public void SavedQuantizedFolderIsTheReferencesAndLoadsBack()
    {
        var config = new BitsAndBytesConfig { LoadIn4Bit = true, Bnb4BitUseDoubleQuant = true };
        var model = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(HuggingFaceFixtureTests.Dir("llama_gqa"), quantizationConfig: config);
        string dir = Path.Combine(Path.GetTempPath(), "kiln-nf4-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.SavePretrained(dir);
            var theirs = SafeTensors.Load(Dir("llama_gqa_nf4/model.safetensors"));
            var ours = SafeTensors.Load(Path.Combine(dir, "model.safetensors"));
            Assert.Equal(theirs.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
            foreach (var (k, t) in theirs) SameBytes(t, ours[k], k);
            var stored = BitsAndBytesConfig.FromJson(System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))).RootElement.GetProperty("quantization_config"), dir)!;
            Assert.True(stored.LoadIn4Bit && stored.Bnb4BitUseDoubleQuant && stored.Bnb4BitQuantType == QuantType.Nf4);
            var again = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(dir);
            Assert.IsType<Linear4bit>(again.Model.Layers[1].Mlp.UpProj);
            var expected = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir("llama_gqa"), "expected.safetensors"));
            using (Autograd.NoGrad())
                LlamaGoldenTests.Close(model.Forward(expected["input_ids"], expected["attention_mask"]), again.Forward(expected["input_ids"], expected["attention_mask"]), expected["attention_mask"].ToArray<long>(), "reloaded nf4");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void SavedFloatFolderLoadsBackWithTheSameLogits()
    {
        var model = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(HuggingFaceFixtureTests.Dir("llama_gqa"));
        string dir = Path.Combine(Path.GetTempPath(), "kiln-llama-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.SavePretrained(dir);
            var again = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(dir);
            Assert.Equal(model.Config with { SlidingLayers = null }, again.Config with { SlidingLayers = null });
            var expected = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir("llama_gqa"), "expected.safetensors"));
            using (Autograd.NoGrad())
                LlamaGoldenTests.Close(expected["logits"], again.Forward(expected["input_ids"], expected["attention_mask"]), expected["attention_mask"].ToArray<long>(), "reloaded");
            var theirs = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir("llama_gqa"), "model.safetensors"));
            Assert.Equal(theirs.Keys.Order(StringComparer.Ordinal), SafeTensors.Load(Path.Combine(dir, "model.safetensors")).Keys.Order(StringComparer.Ordinal));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
