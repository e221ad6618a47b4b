namespace Kiln.Transformers.Training;

/// <summary>What a data collator hands the trainer: padded ids, their mask and the labels.</summary>
/// <param name="InputIds">[batch, length] int64.</param>
/// <param name="AttentionMask">[batch, length] int64 (1 token, 0 padding).</param>
/// <param name="Labels">[batch, length] int64 for language modelling (-100 where no loss is taken), or [batch] class ids.</param>
public sealed record TrainingBatch(Tensor InputIds, Tensor AttentionMask, Tensor Labels);

/// <summary>A tokenized example: its ids and, for classification, its label.</summary>
/// <param name="InputIds">The token ids.</param>
/// <param name="Label">The class id (sequence classification), or null.</param>
public sealed record TokenizedExample(int[] InputIds, long? Label = null);

/// <summary>What <c>compute_metrics</c> receives: the logits of the whole evaluation set and its labels.</summary>
/// <param name="Predictions">Logits, batches concatenated along the first dim.</param>
/// <param name="Labels">Labels, concatenated likewise.</param>
public sealed record EvalPrediction(Tensor Predictions, Tensor Labels);
