using System.IO;
using System.Text.Json;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>Builds the base encoder a Hugging Face folder describes (<c>AutoModel</c>; BERT in this version).</summary>
public static class AutoModel
{
    /// <summary>The <c>model_type</c> values this version builds.</summary>
    public static readonly string[] SupportedModelTypes = ["bert"];

    /// <summary>The model of <paramref name="directory"/>'s config.json with its weights (see <see cref="AutoModelForCausalLM.FromPretrained"/>).</summary>
    public static Module FromPretrained(string directory, DType dtype = DType.Float32, Device? device = null)
    {
        string file = Path.Combine(directory, "config.json");
        if (!File.Exists(file)) throw new FileNotFoundException($"{directory}: no config.json", file);
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        string type = new ConfigJson(doc.RootElement, file).String("model_type", "");
        Module model = type switch
        {
            "bert" => new BertModel(BertConfig.FromJson(doc.RootElement, file)),
            _ => throw new KilnException("from_pretrained", $"{file}: model_type '{type}' is not supported by AutoModel (supported: {string.Join(", ", SupportedModelTypes)})", KilnErrorKind.Unsupported),
        };
        if (dtype != DType.Float32) model.To(dtype);
        PretrainedWeights.LoadInto(model, directory, type);
        if (device is { } d) model.To(d);
        model.Eval();
        return model;
    }
}
