using Kiln.NN;

namespace Kiln.Peft;

/// <summary>PEFT's <c>PeftModel.from_pretrained(base, dir)</c> spelled as in Python: the same loader as <see cref="Peft.FromPretrained{T}"/>.</summary>
public static class PeftModel
{
    /// <summary>
    /// Loads the LoRA adapter saved in <paramref name="directory"/> into <paramref name="model"/> (see
    /// <see cref="Peft.FromPretrained{T}"/>); frozen for inference unless <paramref name="isTrainable"/>.
    /// </summary>
    public static PeftModel<T> FromPretrained<T>(T model, string directory, string adapterName = "default", bool isTrainable = false) where T : Module =>
        Peft.FromPretrained(model, directory, adapterName, isTrainable);
}
