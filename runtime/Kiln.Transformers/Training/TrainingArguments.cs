namespace Kiln.Transformers.Training;

/// <summary>
/// How <see cref="Trainer"/> trains, in Hugging Face's words and defaults (<c>TrainingArguments</c>): length (epochs or
/// max steps), batch sizes and gradient accumulation, AdamW with weight decay, warmup and a linear/cosine/constant
/// schedule, gradient clipping, when to log, evaluate and save, how many checkpoints to keep, bf16 autocast, TensorBoard.
/// </summary>
public sealed record TrainingArguments
{
    /// <summary>Where checkpoints (<c>checkpoint-N/</c>) and logs go (<c>output_dir</c>).</summary>
    public required string OutputDir { get; init; }
    /// <summary><c>num_train_epochs</c> (used when <see cref="MaxSteps"/> is not positive).</summary>
    public double NumTrainEpochs { get; init; } = 3;
    /// <summary><c>max_steps</c>: optimizer steps in all; overrides the epochs when positive.</summary>
    public int MaxSteps { get; init; } = -1;
    /// <summary><c>per_device_train_batch_size</c>.</summary>
    public int PerDeviceTrainBatchSize { get; init; } = 8;
    /// <summary><c>per_device_eval_batch_size</c>.</summary>
    public int PerDeviceEvalBatchSize { get; init; } = 8;
    /// <summary><c>gradient_accumulation_steps</c>: micro-batches per optimizer step (each loss divided by it).</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary><c>learning_rate</c> (AdamW's peak rate).</summary>
    public double LearningRate { get; init; } = 5e-5;
    /// <summary><c>weight_decay</c> (not applied to biases and norm weights, as HF groups them).</summary>
    public double WeightDecay { get; init; }
    /// <summary><c>adam_beta1</c>.</summary>
    public double AdamBeta1 { get; init; } = 0.9;
    /// <summary><c>adam_beta2</c>.</summary>
    public double AdamBeta2 { get; init; } = 0.999;
    /// <summary><c>adam_epsilon</c>.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;
    /// <summary><c>max_grad_norm</c>: the gradients' global 2-norm is clipped to it (0 turns clipping off).</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary><c>lr_scheduler_type</c>: <c>linear</c>, <c>cosine</c>, <c>constant</c> or <c>constant_with_warmup</c>.</summary>
    public string LrSchedulerType { get; init; } = "linear";
    /// <summary><c>warmup_steps</c> (wins over <see cref="WarmupRatio"/> when positive).</summary>
    public int WarmupSteps { get; init; }
    /// <summary><c>warmup_ratio</c> of the total steps.</summary>
    public double WarmupRatio { get; init; }
    /// <summary><c>logging_steps</c>: the mean loss, rate and gradient norm recorded every this many steps.</summary>
    public int LoggingSteps { get; init; } = 500;
    /// <summary><c>eval_strategy</c>: <c>no</c>, <c>steps</c> or <c>epoch</c>.</summary>
    public string EvalStrategy { get; init; } = "no";
    /// <summary><c>eval_steps</c> (defaults to <see cref="LoggingSteps"/>).</summary>
    public int? EvalSteps { get; init; }
    /// <summary><c>save_strategy</c>: <c>no</c>, <c>steps</c> or <c>epoch</c>.</summary>
    public string SaveStrategy { get; init; } = "steps";
    /// <summary><c>save_steps</c>.</summary>
    public int SaveSteps { get; init; } = 500;
    /// <summary><c>save_total_limit</c>: the oldest checkpoints beyond this many are deleted (null keeps all).</summary>
    public int? SaveTotalLimit { get; init; }
    /// <summary><c>seed</c>: the data order and every random draw of the run.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary><c>bf16</c>: forward and loss under bfloat16 autocast (weights and optimizer stay float32).</summary>
    public bool Bf16 { get; init; }
    /// <summary><c>gradient_checkpointing</c>: decoder blocks recompute their activations in the backward (Llama-family models).</summary>
    public bool GradientCheckpointing { get; init; }
    /// <summary>
    /// <c>torch_compile</c>: the model's blocks run by their generated kernels (<see cref="IBlockCompilation"/>; Llama and
    /// Qwen2). Setting <see cref="TorchCompileMode"/> implies it.
    /// </summary>
    public bool TorchCompile { get; init; }
    /// <summary><c>torch_compile_mode</c>: "default", "reduce-overhead" or "max-autotune" (null: default).</summary>
    public string? TorchCompileMode { get; init; }
    /// <summary><c>report_to="tensorboard"</c>: scalars written under <see cref="LoggingDir"/>.</summary>
    public bool ReportToTensorBoard { get; init; }
    /// <summary><c>logging_dir</c> (OutputDir/runs when null).</summary>
    public string? LoggingDir { get; init; }
    /// <summary><c>disable_tqdm</c>: no progress line on the console.</summary>
    public bool DisableTqdm { get; init; }

    internal void Validate()
    {
        void Need(bool ok, string what) { if (!ok) throw new KilnException("TrainingArguments", $"TrainingArguments: {what}", KilnErrorKind.Argument); }
        Need(!string.IsNullOrWhiteSpace(OutputDir), "output_dir is required");
        Need(PerDeviceTrainBatchSize > 0 && PerDeviceEvalBatchSize > 0, "batch sizes must be positive");
        Need(GradientAccumulationSteps > 0, $"gradient_accumulation_steps must be positive, got {GradientAccumulationSteps}");
        Need(MaxSteps > 0 || NumTrainEpochs > 0, "set max_steps or num_train_epochs");
        Need(LrSchedulerType is "linear" or "cosine" or "constant" or "constant_with_warmup", $"lr_scheduler_type '{LrSchedulerType}' is not one of linear, cosine, constant, constant_with_warmup");
        Need(EvalStrategy is "no" or "steps" or "epoch", $"eval_strategy '{EvalStrategy}' is not one of no, steps, epoch");
        Need(SaveStrategy is "no" or "steps" or "epoch", $"save_strategy '{SaveStrategy}' is not one of no, steps, epoch");
        Need(LoggingSteps > 0 && SaveSteps > 0 && EvalSteps is null or > 0, "logging, eval and save steps must be positive");
        Need(WarmupSteps >= 0 && WarmupRatio >= 0 && WarmupRatio < 1, "warmup must be non-negative (ratio below 1)");
        Need(SaveTotalLimit is null or > 0, "save_total_limit must be positive");
        Need(TorchCompileMode is null or "default" or "reduce-overhead" or "max-autotune", $"torch_compile_mode '{TorchCompileMode}' is not one of default, reduce-overhead, max-autotune");
    }

    /// <summary>The compile mode <see cref="TorchCompile"/> / <see cref="TorchCompileMode"/> ask for; null when neither is set.</summary>
    internal Kiln.Compilation.CompileMode? CompileMode => TorchCompileMode switch
    {
        "reduce-overhead" => Kiln.Compilation.CompileMode.ReduceOverhead,
        "max-autotune" => Kiln.Compilation.CompileMode.MaxAutotune,
        "default" => Kiln.Compilation.CompileMode.Default,
        _ => TorchCompile ? Kiln.Compilation.CompileMode.Default : null,
    };
}
