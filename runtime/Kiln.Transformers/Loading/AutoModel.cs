using System.Text.Json;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>Builds the base encoder a Hugging Face folder describes (<c>AutoModel</c>; BERT in this version).</summary>
public static class AutoModel
{
    /// <summary>The <c>model_type</c> values this version builds.</summary>
    public static readonly string[] SupportedModelTypes = ["bert"];

    /// <summary>The model of <paramref name="directory"/>'s config.json with its weights (see <see cref="AutoModelForCausalLM.FromPretrained"/>).</summary>
    public static Module FromPretrained(string directory, DType dtype = DType.Float32, Device? device = null) =>
        PretrainedWeights.Build(directory, dtype, device, " by AutoModel", SupportedModelTypes, asBaseModel: true, (type, e, file) => type switch
        {
            "bert" => new BertModel(BertConfig.FromJson(e, file)),
            _ => null,
        });
}
