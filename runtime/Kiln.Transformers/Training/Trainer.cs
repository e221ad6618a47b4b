using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using Kiln.Data;

using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Optim.Schedulers;
using Kiln.TensorBoard;

namespace Kiln.Transformers.Training;

/// <summary>
/// Hugging Face's <c>Trainer</c> for Kiln modules: batches from a <see cref="DataCollator"/>, the loss (causal language
/// modelling: next-token cross-entropy over labels shifted by one; classification: cross-entropy over one label per row),
/// gradient accumulation, AdamW (no decay on biases and norm weights) with a warmup schedule, gradient clipping,
/// logging, evaluation with <c>compute_metrics</c>, checkpoints every N steps (<c>checkpoint-N/</c>, the oldest removed
/// past <c>save_total_limit</c>), and resuming from the last checkpoint bit for bit (weights, optimizer, schedule, data
/// order and position, random state).
/// </summary>
public sealed class Trainer
{
    const string StateFile = "checkpoint.safetensors", SummaryFile = "trainer_state.json";
    readonly Module _model;
    readonly TrainingArguments _args;
    readonly Dataset<TokenizedExample> _train;
    readonly Dataset<TokenizedExample>? _eval;
    readonly DataCollator _collator;
    readonly Func<EvalPrediction, IReadOnlyDictionary<string, double>>? _computeMetrics;
    readonly Func<Module, TrainingBatch, Tensor> _forward;
    readonly List<Dictionary<string, double>> _log = new();

    /// <summary>
    /// A trainer of <paramref name="model"/> on <paramref name="trainDataset"/>. <paramref name="forward"/> gives the logits
    /// of a batch (default: a causal language model's forward over ids and mask).
    /// </summary>
    public Trainer(Module model, TrainingArguments args, Dataset<TokenizedExample> trainDataset, DataCollator dataCollator,
        Dataset<TokenizedExample>? evalDataset = null, Func<EvalPrediction, IReadOnlyDictionary<string, double>>? computeMetrics = null,
        Func<Module, TrainingBatch, Tensor>? forward = null)
    {
        args.Validate();
        if (trainDataset.Count == 0) throw new KilnException("Trainer", "Trainer: the training set is empty", KilnErrorKind.Argument);
        if (args.EvalStrategy != "no" && evalDataset is null)
            throw new KilnException("Trainer", $"Trainer: eval_strategy '{args.EvalStrategy}' needs an eval dataset", KilnErrorKind.Argument);
        if (args.GradientCheckpointing)
        {
            if (model is IGradientCheckpointing checkpointed) checkpointed.GradientCheckpointing = true;
            else throw new KilnException("Trainer", $"Trainer: gradient_checkpointing needs a model that implements IGradientCheckpointing (Llama, Qwen2, GPT-2, BERT), not {model.GetType().Name}", KilnErrorKind.Unsupported);
        }
        if (args.CompileMode is { } mode)
        {
            if (model is IBlockCompilation blocks) blocks.Compile(mode);
            else throw new KilnException("Trainer", $"Trainer: torch_compile needs a model that implements IBlockCompilation (Llama, Qwen2), not {model.GetType().Name}", KilnErrorKind.Unsupported);
        }
        _model = model; _args = args; _train = trainDataset; _eval = evalDataset; _collator = dataCollator; _computeMetrics = computeMetrics;
        _forward = forward ?? (model is ICausalLM lm ? (_, b) => lm.Forward(b.InputIds, b.AttentionMask)
            : throw new KilnException("Trainer", $"Trainer: {model.GetType().Name} is not a causal language model; pass forward to get its logits", KilnErrorKind.Argument));
    }

    /// <summary>Every logged entry so far (<c>state.log_history</c>): loss, learning_rate, grad_norm, epoch, step; eval_* entries.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> LogHistory => _log;

    /// <summary>Optimizer steps taken (<c>state.global_step</c>).</summary>
    public int GlobalStep { get; private set; }

    /// <summary>
    /// Trains to <c>max_steps</c> or the epochs; with <paramref name="resumeFromCheckpoint"/> from the newest
    /// <c>checkpoint-N</c> in the output folder (or the folder given). Returns the mean training loss and the step count.
    /// </summary>
    public (int GlobalStep, double TrainingLoss) Train(bool resumeFromCheckpoint = false) => Train(resumeFromCheckpoint ? LastCheckpoint() : null);

    /// <summary>Trains, resuming from checkpoint folder <paramref name="checkpointDir"/> when given.</summary>
    public (int GlobalStep, double TrainingLoss) Train(string? checkpointDir)
    {
        var a = _args;
        var loaderGenerator = new Generator(a.Seed);
        var loader = new DataLoader<TokenizedExample, TrainingBatch>(_train, _collator.Collate, a.PerDeviceTrainBatchSize, shuffle: true, generator: loaderGenerator);
        int batchesPerEpoch = (_train.Count + a.PerDeviceTrainBatchSize - 1) / a.PerDeviceTrainBatchSize;
        int updatesPerEpoch = Math.Max(1, (batchesPerEpoch + a.GradientAccumulationSteps - 1) / a.GradientAccumulationSteps);
        int total = a.MaxSteps > 0 ? a.MaxSteps : (int)Math.Ceiling(a.NumTrainEpochs * updatesPerEpoch);
        int warmup = a.WarmupSteps > 0 ? a.WarmupSteps : (int)Math.Ceiling(a.WarmupRatio * total);
        var optimizer = CreateOptimizer();
        var schedule = new LambdaLR(optimizer, step => LrSchedules.Factor(a.LrSchedulerType, step, warmup, total));
        Directory.CreateDirectory(a.OutputDir);
        using var tensorboard = a.ReportToTensorBoard ? new SummaryWriter(a.LoggingDir ?? Path.Combine(a.OutputDir, "runs")) : null;

        int epoch = 0, resumedMicro = 0;
        GlobalStep = 0;
        _log.Clear();
        if (checkpointDir is not null)
        {
            var info = Checkpoint.Load(Path.Combine(checkpointDir, StateFile), _model, optimizer, schedule, loader, [loaderGenerator]);
            epoch = (int)info.Epoch;
            GlobalStep = (int)info.Step;
            if (info.Extra.TryGetValue("log_history", out var history))
                _log.AddRange(JsonSerializer.Deserialize<List<Dictionary<string, double>>>(history)!);
            if (info.Extra.TryGetValue("micro_batch", out var m)) resumedMicro = int.Parse(m, CultureInfo.InvariantCulture);
        }
        else Generator.ManualSeed(a.Seed);

        double lossSum = 0, logLossSum = 0, gradNorm = 0, shownLoss = double.NaN;
        int lossSteps = 0, logSteps = 0;
        _model.Train();
        var device = ModelDevice;
        while (GlobalStep < total)
        {
            int micro = resumedMicro;   // batches of this epoch already consumed (a resumed run starts mid-epoch)
            resumedMicro = 0;
            foreach (var batch in loader)
            {
                using (var scope = Tensor.Scope())
                {
                    Tensor loss;
                    using (Autocast.Enable(DType.BFloat16, device.Type, a.Bf16)) loss = Loss(OnDevice(batch, device));
                    using var scaled = loss / a.GradientAccumulationSteps;
                    scaled.Backward();
                    double l = loss.To(DType.Float64).Item<double>();
                    lossSum += l / a.GradientAccumulationSteps;
                    logLossSum += l / a.GradientAccumulationSteps;
                }
                micro++;
                bool lastOfEpoch = micro == batchesPerEpoch;
                if (micro % a.GradientAccumulationSteps != 0 && !lastOfEpoch) continue;
                if (a.MaxGradNorm > 0) gradNorm = GradClipping.ClipGradNorm_(_model.Parameters(), a.MaxGradNorm);
                optimizer.Step();
                schedule.Step();
                optimizer.ZeroGrad();
                GlobalStep++; lossSteps++; logSteps++;
                double epochs = epoch + (double)micro / batchesPerEpoch;
                if (GlobalStep % a.LoggingSteps == 0)
                {
                    shownLoss = logLossSum / logSteps;
                    Log(new() { ["loss"] = shownLoss, ["grad_norm"] = gradNorm, ["learning_rate"] = optimizer.ParamGroups[0].Lr, ["epoch"] = epochs }, tensorboard, "train");
                    logLossSum = 0; logSteps = 0;
                }
                if (a.EvalStrategy == "steps" && GlobalStep % (a.EvalSteps ?? a.LoggingSteps) == 0) Log(new Dictionary<string, double>(Evaluate()), tensorboard, null, epochs);
                if (a.SaveStrategy == "steps" && GlobalStep % a.SaveSteps == 0) Save(optimizer, schedule, loader, loaderGenerator, lastOfEpoch ? epoch + 1 : epoch, lastOfEpoch ? 0 : micro);
                if (!a.DisableTqdm) Progress(total, logSteps > 0 ? logLossSum / logSteps : shownLoss);
                if (GlobalStep >= total) break;
            }
            epoch++;
            if (a.EvalStrategy == "epoch") Log(new Dictionary<string, double>(Evaluate()), tensorboard, null, epoch);
            if (a.SaveStrategy == "epoch") Save(optimizer, schedule, loader, loaderGenerator, epoch, 0);
        }
        if (!a.DisableTqdm) Console.Error.WriteLine();
        double mean = lossSteps == 0 ? double.NaN : lossSum / lossSteps;
        _log.Add(new() { ["train_loss"] = mean, ["step"] = GlobalStep });
        return (GlobalStep, mean);
    }

    /// <summary>The mean loss over the eval set (<c>eval_loss</c>) and <c>compute_metrics</c>' values (prefixed <c>eval_</c>).</summary>
    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var set = _eval ?? throw new KilnException("Trainer", "Trainer: no eval dataset", KilnErrorKind.State);
        var loader = new DataLoader<TokenizedExample, TrainingBatch>(set, _collator.Collate, _args.PerDeviceEvalBatchSize);
        bool training = _model.Training;
        _model.Eval();
        double sum = 0;
        int batches = 0;
        var predictions = new List<Tensor>();
        var labels = new List<Tensor>();
        var device = ModelDevice;
        using (Autograd.NoGrad())
        using (Autocast.Enable(DType.BFloat16, device.Type, _args.Bf16))
            foreach (var batch in loader)
            {
                var on = OnDevice(batch, device);
                using var logits = _forward(_model, on);
                using var loss = LossOf(logits, on.Labels);
                sum += loss.To(DType.Float64).Item<double>();
                batches++;
                // compute_metrics gets host tensors, as HF hands it numpy arrays.
                if (_computeMetrics is not null) { predictions.Add(logits.IsCuda ? logits.Cpu() : logits.Clone()); labels.Add(batch.Labels); }
            }
        if (training) _model.Train();
        var result = new Dictionary<string, double> { ["eval_loss"] = sum / Math.Max(1, batches) };
        if (_computeMetrics is not null && predictions.Count > 0)
            foreach (var (k, v) in _computeMetrics(new EvalPrediction(Tensor.Cat([.. predictions], 0), Tensor.Cat([.. labels], 0))))
                result[k.StartsWith("eval_", StringComparison.Ordinal) ? k : "eval_" + k] = v;
        return result;
    }

    /// <summary>The device of the model's parameters: batches go there, and bf16 autocast runs for it.</summary>
    Device ModelDevice
    {
        get
        {
            foreach (var p in _model.Parameters()) return p.Device;
            return Device.Cpu;
        }
    }

    /// <summary>The batch on <paramref name="device"/> (HF's Trainer moves its inputs to the model's device).</summary>
    static TrainingBatch OnDevice(TrainingBatch b, Device device) =>
        device.Type == DeviceType.Cpu ? b : new TrainingBatch(b.InputIds.To(device), b.AttentionMask.To(device), b.Labels.To(device));

    Tensor Loss(TrainingBatch batch) => LossOf(_forward(_model, batch), batch.Labels);

    /// <summary>Next-token cross-entropy for [b, s] labels (ignoring -100), plain cross-entropy for [b] labels.</summary>
    static Tensor LossOf(Tensor logits, Tensor labels)
    {
        if (labels.Dim == 1) return F.CrossEntropy(logits.To(DType.Float32), labels);
        int b = logits.Size(0), s = logits.Size(1), v = logits.Size(2);
        if (s < 2) throw new KilnException("Trainer", "Trainer: a causal language-modelling batch needs at least two tokens per row", KilnErrorKind.Shape);
        var shifted = logits.Narrow(1, 0, s - 1).To(DType.Float32).Reshape(b * (s - 1), v);
        var targets = labels.Narrow(1, 1, s - 1).Reshape(b * (s - 1));
        return F.CrossEntropy(shifted, targets, ignoreIndex: -100);
    }

    /// <summary>AdamW over two groups as HF builds them: decay on weights, none on biases and LayerNorm/RMSNorm parameters.</summary>
    AdamW CreateOptimizer()
    {
        var noDecay = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (_, m) in _model.NamedModules())
            if (m is LayerNorm or RMSNorm) foreach (var p in m.Parameters()) noDecay.Add(p);
        var decay = new List<Tensor>();
        var rest = new List<Tensor>();
        foreach (var (name, p) in _model.NamedParameters())
        {
            if (!p.RequiresGrad) continue;
            if (noDecay.Contains(p) || name.EndsWith("bias", StringComparison.Ordinal)) rest.Add(p); else decay.Add(p);
        }
        var groups = new List<ParamGroup>();
        if (decay.Count > 0) groups.Add(new ParamGroup(decay) { ["weight_decay"] = _args.WeightDecay });
        if (rest.Count > 0) groups.Add(new ParamGroup(rest) { ["weight_decay"] = 0 });
        return new AdamW(groups, _args.LearningRate, _args.AdamBeta1, _args.AdamBeta2, _args.AdamEpsilon, _args.WeightDecay);
    }

    void Log(Dictionary<string, double> entry, SummaryWriter? tensorboard, string? prefix, double? epoch = null)
    {
        if (epoch is { } e) entry["epoch"] = e;
        entry["step"] = GlobalStep;
        _log.Add(entry);
        if (tensorboard is not null)
            foreach (var (k, v) in entry)
                if (k is not ("step" or "epoch")) tensorboard.AddScalar(prefix is null ? k.Replace("eval_", "eval/", StringComparison.Ordinal) : $"{prefix}/{k}", v, GlobalStep);
        if (!_args.DisableTqdm)
        {
            Console.Error.WriteLine();
            Console.Error.Write(JsonSerializer.Serialize(entry));
        }
    }

    void Progress(int total, double loss)
    {
        int width = 30, filled = (int)((long)width * GlobalStep / total);
        Console.Error.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {GlobalStep}/{total} loss {loss.ToString("F4", CultureInfo.InvariantCulture)}");
    }

    void Save(Optimizer optimizer, LRScheduler schedule, IResumableLoader loader, Generator loaderGenerator, int epoch, int microBatch)
    {
        string dir = Path.Combine(_args.OutputDir, $"checkpoint-{GlobalStep}");
        Directory.CreateDirectory(dir);
        string history = JsonSerializer.Serialize(_log);
        Checkpoint.Save(Path.Combine(dir, StateFile), _model, optimizer, schedule, epoch, GlobalStep, loader, [loaderGenerator],
            new Dictionary<string, string> { ["log_history"] = history, ["micro_batch"] = microBatch.ToString(CultureInfo.InvariantCulture) });
        File.WriteAllText(Path.Combine(dir, SummaryFile), JsonSerializer.Serialize(new { global_step = GlobalStep, epoch, log_history = _log }));
        if (_args.SaveTotalLimit is int limit)
        {
            var all = Checkpoints();
            for (int i = 0; i < all.Count - limit; i++) Directory.Delete(all[i].Dir, true);
        }
    }

    List<(int Step, string Dir)> Checkpoints()
    {
        var found = new List<(int, string)>();
        if (!Directory.Exists(_args.OutputDir)) return found;
        foreach (var d in Directory.GetDirectories(_args.OutputDir, "checkpoint-*"))
            if (int.TryParse(Path.GetFileName(d)["checkpoint-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int step) && File.Exists(Path.Combine(d, StateFile)))
                found.Add((step, d));
        found.Sort((x, y) => x.Item1.CompareTo(y.Item1));
        return found;
    }

    string LastCheckpoint()
    {
        var all = Checkpoints();
        if (all.Count == 0) throw new KilnException("Trainer", $"Trainer: no checkpoint-N folder with {StateFile} in {_args.OutputDir} to resume from", KilnErrorKind.State);
        return all[^1].Dir;
    }
}
