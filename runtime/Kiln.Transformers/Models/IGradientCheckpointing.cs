namespace Kiln.Transformers;

/// <summary>
/// A model whose blocks can be recomputed in the backward instead of keeping their activations (Hugging Face's
/// <c>gradient_checkpointing_enable()</c>): set <see cref="GradientCheckpointing"/>, or
/// <c>TrainingArguments.GradientCheckpointing</c> for the <see cref="Training.Trainer"/>. It applies in training mode with
/// gradients enabled; dropout masks repeat in the replay, so the gradients equal those of the plain forward.
/// </summary>
public interface IGradientCheckpointing
{
    /// <summary>Whether each block runs under <see cref="Autograd.Checkpoint"/>.</summary>
    bool GradientCheckpointing { get; set; }
}
