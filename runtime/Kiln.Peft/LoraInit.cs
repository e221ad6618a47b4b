namespace Kiln.Peft;

/// <summary>How new LoRA matrices start (PEFT's <c>init_lora_weights</c>).</summary>
public enum LoraInit
{
    /// <summary><c>True</c>: A kaiming-uniform, B zero (embeddings: A zero, B normal) — the adapter starts as a no-op.</summary>
    Default,
    /// <summary><c>"gaussian"</c>: A normal with std 1/r, B zero.</summary>
    Gaussian,
    /// <summary><c>False</c>: both matrices random (a layer's default init); the adapter changes the output from the start (tests, debugging).</summary>
    Random,
}

/// <summary>Which biases train along with the adapter (PEFT's <c>bias</c>).</summary>
public enum LoraBias
{
    /// <summary><c>"none"</c>: every bias stays frozen.</summary>
    None,
    /// <summary><c>"all"</c>: every bias of the model trains and is saved with the adapter.</summary>
    All,
    /// <summary><c>"lora_only"</c>: the biases of the LoRA-wrapped layers train and are saved.</summary>
    LoraOnly,
}
