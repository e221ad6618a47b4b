using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Kiln.Generators;
using Kiln.NN;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Kiln.Analyzers.Tests.Generation;

/// <summary>
/// Compiled equals eager: models built with the generator run Forward and backward through their generated kernels,
/// and the output, the input's gradient and every parameter's gradient match the eager model's within rel 1e-5, in
/// training mode (dropout draws the same masks from the same generator state) and in eval mode.
/// </summary>
[Collection(DefaultGenerator.Name)]
public class CompiledModelTests
{
    const string Source = """
        using Kiln;
        using Kiln.NN;

        [Model]
        public partial class SimpleClassifier : Module
        {
            readonly Linear layer1, layer2;
            readonly Dropout dropout = new(0.2);
            public SimpleClassifier(int inputSize, int numClasses) { layer1 = new(inputSize, 128); layer2 = new(128, numClasses); }
            public Tensor Forward([Shape("N inputSize")] Tensor x) => layer2.Forward(dropout.Forward(F.Relu(layer1.Forward(x))));
        }

        [Model]
        public partial class DeepChain : Module<Tensor, Tensor>
        {
            readonly Linear a = new(20, 48), b = new(48, 32), c = new(32, 5);
            readonly GELU gelu = new("tanh");
            public override Tensor Forward([Shape("N 20")] Tensor x)
            {
                var h = gelu.Call(a.Call(x));
                h = F.Dropout(b.Forward(h).Tanh(), 0.3, Training);
                return F.Sigmoid(c.Forward(h));
            }
        }

        [Model]
        public partial class NoBiasSilu : Module
        {
            readonly Dropout inputDrop = new(0.1);
            readonly Linear first = new(16, 24, bias: false), second = new(24, 3);
            readonly SiLU act = new();
            public Tensor Forward([Shape("N 16")] Tensor x) => second.Forward(F.Gelu(act.Forward(first.Forward(inputDrop.Forward(x)))));
        }

        [Model]
        public partial class SequentialMlp : Module
        {
            readonly Sequential body = new(new Linear(12, 32), new ReLU(), new Dropout(0.25), new Linear(32, 16), new GELU("tanh"), new Linear(16, 4));
            public Tensor Forward([Shape("N 12")] Tensor x) => body.Forward(x);
        }

        [Model]
        public partial class LeNet : Module<Tensor, Tensor>
        {
            readonly Conv2d conv1 = new(1, 6, 5, padding: 2), conv2 = new(6, 16, 5);
            readonly MaxPool2d pool = new(2);
            readonly Linear fc1 = new(16 * 5 * 5, 120), fc2 = new(120, 84), fc3 = new(84, 10);
            public override Tensor Forward([Shape("N 1 28 28")] Tensor x)
            {
                x = pool.Call(F.Relu(conv1.Call(x)));
                x = pool.Call(F.Relu(conv2.Call(x)));
                x = x.Flatten(1);
                return fc3.Call(F.Relu(fc2.Call(F.Relu(fc1.Call(x)))));
            }
        }

        [Model]
        public partial class ConvFeatures : Module
        {
            readonly Sequential features = new(new Conv2d(3, 8, 3, stride: 1, padding: 1), new GELU(), new MaxPool2d(2), new Dropout(0.1), new Flatten());
            readonly Linear head = new(8 * 4 * 4, 5);
            public Tensor Forward([Shape("N 3 8 8")] Tensor x) => head.Forward(features.Forward(x));
        }

        [Model]
        public partial class StridedGroups : Module
        {
            readonly Conv2d conv = new(4, 8, 3, stride: 2, padding: 1, groups: 2);
            readonly Linear head = new(8 * 4 * 4, 3);
            public Tensor Forward([Shape("N 4 8 8")] Tensor x) => head.Forward(F.Silu(conv.Forward(x)).Flatten(1));
        }

        [Model]
        public partial class DropFirst : Module
        {
            readonly Linear fc = new(10, 4);
            public Tensor Forward([Shape("N 10")] Tensor x) => F.Tanh(fc.Forward(F.Dropout(x, 0.5, Training)));
        }

        [Model]
        public partial class TwoPools : Module<Tensor, Tensor>
        {
            readonly Conv2d conv = new(2, 4, 3, padding: 1, bias: false);
            readonly MaxPool2d pool = new(2), wide = new(3, 2, 1);
            readonly Flatten flatten = new();
            readonly Linear head = new(4 * 2 * 2, 6);
            public override Tensor Forward([Shape("N 2 8 8")] Tensor x) => head.Call(flatten.Call(wide.Call(pool.Call(conv.Call(x).Sigmoid()))));
        }

        [Model]
        public partial class WideMlp : Module
        {
            readonly Linear a = new(64, 256), b = new(256, 256), c = new(256, 1);
            readonly Dropout drop = new(0.5);
            public Tensor Forward([Shape("N 64")] Tensor x)
            {
                x = drop.Forward(F.Gelu(a.Forward(x)));
                x = drop.Forward(F.Relu(b.Forward(x)));
                return c.Forward(x);
            }
        }

        [Model]
        public partial class Residual : Module
        {
            readonly Linear a = new(8, 8);
            public Tensor Forward([Shape("N 8")] Tensor x) => x + F.Relu(a.Forward(x));
        }

        [Model]
        public partial class ResidualBlock : Module
        {
            readonly Linear a = new(12, 12), b = new(12, 12), head = new(12, 4);
            readonly Dropout drop = new(0.2);
            public Tensor Forward([Shape("N 12")] Tensor x)
            {
                var h = drop.Forward(F.Relu(a.Forward(x)));
                h = b.Forward(h);
                x = F.Relu(h + x);
                return head.Forward(x);
            }
        }

        [Model]
        public partial class ConvResidual : Module<Tensor, Tensor>
        {
            readonly Conv2d stem = new(2, 4, 3, padding: 1), inner = new(4, 4, 3, padding: 1);
            readonly Linear head = new(4 * 6 * 6, 3);
            public override Tensor Forward([Shape("N 2 6 6")] Tensor x)
            {
                var h = F.Relu(stem.Forward(x));
                h = F.Relu(inner.Forward(h) + h);
                return head.Forward(h.Flatten(1));
            }
        }

        [Model]
        public partial class NormMlp : Module
        {
            readonly Linear a = new(10, 16), b = new(16, 5);
            readonly LayerNorm norm = new(16);
            public Tensor Forward([Shape("N 10")] Tensor x) => b.Forward(F.Dropout(F.Gelu(norm.Forward(a.Forward(x))), 0.1, Training));
        }

        [Model]
        public partial class Encoder : Module
        {
            readonly TransformerEncoderLayer layer = new(16, 4, dimFeedforward: 32, dropout: 0.1, batchFirst: true);
            readonly Linear head = new(16, 3);
            public Tensor Forward([Shape("N L 16")] Tensor x) => head.Forward(layer.Forward(x));
        }

        [Model]
        public partial class PreNormEncoder : Module
        {
            readonly Linear embed = new(6, 16);
            readonly TransformerEncoderLayer layer = new(16, 2, dimFeedforward: 24, dropout: 0.2, activation: "gelu", batchFirst: true, normFirst: true);
            public Tensor Forward([Shape("N L 6")] Tensor x) => layer.Forward(embed.Forward(x));
        }

        [Model]
        public partial class ResBlock : Module
        {
            readonly Linear fc1, fc2;
            readonly LayerNorm norm;
            public ResBlock(int width) { norm = new(width); fc1 = new(width, 2 * width); fc2 = new(2 * width, width); }
            public Tensor Forward([Shape("N width")] Tensor x) => x + fc2.Forward(F.Dropout(F.Gelu(fc1.Forward(norm.Forward(x))), 0.1, Training));
        }

        [Model]
        public partial class BlockStack : Module
        {
            readonly Linear embed = new(6, 16), head = new(16, 3);
            readonly ModuleList<ResBlock> blocks = new(new ResBlock(16), new ResBlock(16), new ResBlock(16));
            public Tensor Forward([Shape("N 6")] Tensor x)
            {
                var h = embed.Forward(x);
                foreach (var block in blocks) h = block.Forward(h);
                return head.Forward(h);
            }
        }

        [Model]
        public partial class TrainingBranch : Module
        {
            readonly Linear a = new(8, 12), b = new(12, 2);
            readonly Dropout drop = new(0.4);
            public Tensor Forward([Shape("N 8")] Tensor x)
            {
                var h = F.Relu(a.Forward(x));
                if (Training) h = drop.Forward(h);
                else { h = h.Tanh(); }
                return b.Forward(Training ? h.Sigmoid() : h);
            }
        }

        [Model]
        public partial class Arithmetic : Module
        {
            readonly Linear a = new(8, 10), b = new(8, 10), c = new(10, 3);
            public Tensor Forward([Shape("N 8")] Tensor x)
            {
                var h = a.Forward(x);
                var gate = b.Forward(x).Sigmoid();
                var mixed = (h * 2 - 1) / (gate + 0.5) + (1 - h) * gate - h / 3;
                return c.Forward(mixed.Tanh() * -mixed + (h * h + 1).Sqrt().Exp());
            }
        }

        [Model]
        public partial class EpilogueForms : Module
        {
            readonly Linear a = new(9, 24), b = new(24, 20), c = new(20, 16), d = new(16, 5);
            readonly Dropout drop = new(0.3), drop2 = new(0.25);
            readonly GELU tanhGelu = new("tanh");
            public Tensor Forward([Shape("N 9")] Tensor x)
            {
                var h = F.Relu(drop.Forward(a.Forward(x)));
                var k = drop2.Forward(b.Forward(h));
                var t = tanhGelu.Forward(c.Forward(k));
                return d.Forward(t);
            }
        }

        [Model]
        public partial class ScalarOnlyOps : Module
        {
            readonly Linear a = new(6, 6);
            public Tensor Forward([Shape("N 6")] Tensor x) => a.Forward((a.Forward(x).Abs() + 1).Log());
        }

        /// <summary>The op table's functions as layers, F calls and Tensor methods in fused loops (vector, scalar-only, GPU).</summary>
        [Model]
        public partial class TableFunctions : Module
        {
            readonly Linear a = new(8, 8), b = new(8, 8);
            readonly Mish mish = new();
            readonly Hardswish hardswish = new();
            readonly SELU selu = new();
            public Tensor Forward([Shape("N 8")] Tensor x) =>
                b.Forward(selu.Forward(hardswish.Forward(mish.Forward(a.Forward(x)))).Softsign() + F.LogSigmoid(x).Atan()).Hardsigmoid().Erf();
        }

        /// <summary>The table's exponential and hyperbolic functions (expm1 is a primitive of its own), inside their domains.</summary>
        [Model]
        public partial class HyperbolicFunctions : Module
        {
            readonly Linear a = new(8, 8), b = new(8, 8);
            public Tensor Forward([Shape("N 8")] Tensor x) =>
                b.Forward(a.Forward(x).Tanh().Sinh() + x.Tanh().Atanh() + x.Asinh().Expm1() + x.Sigmoid().Logit() + x.Erfc() + x.Tanh().Exp2()
                    + (x.Cosh() + 1).Acosh());
        }

        [Model]
        public partial class ConvBn : Module<Tensor, Tensor>
        {
            readonly Conv2d conv = new(2, 4, 3, padding: 1);
            readonly BatchNorm2d bn = new(4);
            readonly MaxPool2d pool = new(2);
            readonly Linear head = new(4 * 3 * 3, 3);
            public override Tensor Forward([Shape("N 2 6 6")] Tensor x) => head.Call(pool.Call(F.Relu(bn.Call(conv.Call(x)))).Flatten(1));
        }

        [Model]
        public partial class BnMlp : Module
        {
            readonly Linear a = new(7, 12), b = new(12, 3);
            readonly BatchNorm1d bn = new(12, momentum: null), bn2 = new(3, affine: false);
            readonly RMSNorm rms = new(12, eps: 1e-6);
            public Tensor Forward([Shape("N 7")] Tensor x) => bn2.Forward(b.Forward(F.Relu(rms.Forward(bn.Forward(a.Forward(x))))));
        }

        [Model]
        public partial class ResidualNorms : Module
        {
            readonly Linear a = new(8, 8), b = new(8, 3);
            readonly RMSNorm rms = new(8);
            readonly LayerNorm ln = new(8);
            public Tensor Forward([Shape("N 8")] Tensor x)
            {
                var h = rms.Forward(a.Forward(x).Tanh() + x);
                return b.Forward(ln.Forward(h * 2 - x));
            }
        }

        [Model]
        public partial class BroadcastGates : Module
        {
            readonly Linear a = new(6, 8), gate = new(6, 1), head = new(8, 2);
            public Tensor Forward([Shape("N 6")] Tensor x)
            {
                var h = a.Forward(x);
                var g = gate.Forward(x).Sigmoid();
                return head.Forward(h * g + (h - g).Tanh());
            }
        }

        [Model]
        public partial class BroadcastPair : Module
        {
            readonly Linear a = new(4, 4);
            public Tensor Forward([Shape("N T 4")] Tensor x, Tensor y) => a.Forward(x) * y.Tanh() + y;
        }

        [Model]
        public partial class ReluNorm : Module
        {
            readonly Linear a = new(8, 8), b = new(8, 3);
            readonly LayerNorm ln = new(8);
            // A Linear's ReLU feeding a norm: the ReLU goes to the GEMM epilogue, the norm reads its output.
            public Tensor Forward([Shape("N 8")] Tensor x) => b.Forward(ln.Forward(F.Relu(a.Forward(x))));
        }

        [Model]
        public partial class ScaledSoftmax : Module
        {
            readonly Linear a = new(8, 8), b = new(8, 4);
            public Tensor Forward([Shape("N 8")] Tensor x) => b.Forward(F.Softmax(a.Forward(x) * 0.35, -1)).LogSoftmax(1);
        }

        [Model]
        public partial class ClassifierLoss : Module
        {
            readonly Linear a = new(6, 10), b = new(10, 5);
            public Tensor Forward([Shape("N 6")] Tensor x, Tensor target) => F.CrossEntropy(b.Forward(F.Relu(a.Forward(x))), target);
        }

        [Model]
        public partial class NllClassifier : Module
        {
            readonly Linear a = new(6, 5);
            public Tensor Forward([Shape("N 6")] Tensor x, Tensor target) => F.NllLoss(F.LogSoftmax(a.Forward(x).Tanh() * 3, 1), target);
        }

        public sealed class Shift : Module<Tensor, Tensor>
        {
            public override Tensor Forward(Tensor x) => x * 2 + 1;
        }

        [Model]
        public partial class NormAndCustom : Module
        {
            readonly Linear a = new(6, 8), b = new(8, 2);
            readonly RMSNorm norm = new(8);
            readonly Shift shift = new();
            public Tensor Forward([Shape("N 6")] Tensor x) => b.Forward(shift.Forward(norm.Forward(F.Silu(a.Forward(x)))));
        }

        [Model]
        public partial class TokenEncoder : Module
        {
            readonly Embedding embed = new(20, 16, paddingIdx: 0);
            readonly TransformerEncoderLayer layer = new(16, 4, dimFeedforward: 32, batchFirst: true);
            readonly Linear head = new(16, 5);
            public Tensor Forward([Shape("N L")] Tensor tokens) => head.Forward(layer.Forward(embed.Forward(tokens)));
        }

        [Model]
        public partial class HandAttention : Module
        {
            readonly Linear q = new(8, 8), k = new(8, 8), v = new(8, 8), o = new(8, 8);
            public Tensor Forward([Shape("N L 8")] Tensor x)
            {
                var scores = q.Forward(x).Matmul(k.Forward(x).Transpose(1, 2)) / 2.8284271247461903;
                var weights = scores.Softmax(-1);
                return o.Forward(weights.Matmul(v.Forward(x)).Reshape(-1, 8)).Relu() + F.LogSoftmax(x.Reshape(-1, 8), dim: 1);
            }
        }

        [Model]
        public partial class AttentionBlock : Module
        {
            readonly MultiheadAttention attn = new(12, 3, dropout: 0.2, batchFirst: true);
            readonly LayerNorm norm = new(12);
            readonly Linear head = new(12, 4);
            public Tensor Forward([Shape("N L 12")] Tensor x)
            {
                var h = norm.Forward(x);
                h = x + attn.Forward(h, h, h, needWeights: false).Output;
                return head.Forward(attn.Forward(h, h, h).Output.Relu());
            }
        }

        [Model]
        public partial class LlamaBlock : Module
        {
            // One Llama decoder block: RMSNorm, grouped-query attention (4 query heads, 2 key/value heads of 4) with rotary
            // positions and causal grouped SDPA, SwiGLU feed-forward.
            readonly RMSNorm inputNorm = new(16), postNorm = new(16);
            readonly Linear q = new(16, 16, bias: false), k = new(16, 8, bias: false), v = new(16, 8, bias: false), o = new(16, 16, bias: false);
            readonly Linear gate = new(16, 24, bias: false), up = new(16, 24, bias: false), down = new(24, 16, bias: false);
            [Buffer] readonly Tensor cos = Tensor.Randn(5, 4), sin = Tensor.Randn(5, 4);
            public Tensor Forward([Shape("N 5 16")] Tensor x)
            {
                var h = inputNorm.Forward(x);
                var qh = F.RotaryEmbedding(q.Forward(h).View(-1, 5, 4, 4).Transpose(1, 2), cos, sin);
                var kh = F.RotaryEmbedding(k.Forward(h).View(-1, 5, 2, 4).Transpose(1, 2), cos, sin);
                var vh = v.Forward(h).View(-1, 5, 2, 4).Transpose(1, 2);
                var r = x + o.Forward(F.ScaledDotProductAttention(qh, kh, vh, isCausal: true, enableGqa: true).Transpose(1, 2).Reshape(-1, 5, 16));
                var n = postNorm.Forward(r);
                return r + down.Forward(F.SwiGlu(gate.Forward(n), up.Forward(n)));
            }
        }


        public sealed class BlockConfig { public int Hidden { get; init; } = 16; public int Heads { get; init; } = 4; public int KvHeads { get; init; } = 2; }

        [Model]
        public partial class ConfigAttention : Module
        {
            // Sized by a config object: the head counts are fields the compiled model reads as it runs.
            readonly int heads, kvHeads, headDim;
            readonly Linear q, k, v, o;
            public ConfigAttention(BlockConfig config)
            {
                heads = config.Heads; kvHeads = config.KvHeads; headDim = config.Hidden / config.Heads;
                q = new(config.Hidden, heads * headDim); k = new(config.Hidden, kvHeads * headDim);
                v = new(config.Hidden, kvHeads * headDim); o = new(heads * headDim, config.Hidden);
            }
            public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask) =>
                o.Forward(F.ScaledDotProductAttention(Rotated(q.Forward(x), heads, cos, sin), Rotated(k.Forward(x), kvHeads, cos, sin),
                    v.Forward(x).Unflatten(2, kvHeads, headDim).Transpose(1, 2), attnMask: mask is not null ? mask : null, isCausal: mask == null, enableGqa: true).Transpose(1, 2).Flatten(2));
            Tensor Rotated(Tensor t, int count, Tensor cos, Tensor sin) => F.RotaryEmbedding(t.Unflatten(2, count, headDim).Transpose(1, 2), cos, sin);
        }

        [Model]
        public partial class ConfigBlock : Module
        {
            // A [Model] block called with four tensors is inlined; its mask test folds (the compiled graph has every input).
            readonly RMSNorm norm;
            readonly ConfigAttention attention;
            readonly Linear head;
            [Buffer] readonly Tensor cos, sin;
            public ConfigBlock() : this(new BlockConfig()) { }
            public ConfigBlock(BlockConfig config)
            {
                norm = new(config.Hidden); attention = new(config); head = new(config.Hidden, 3);
                cos = Tensor.Randn(5, config.Hidden / config.Heads); sin = Tensor.Randn(5, config.Hidden / config.Heads);
            }
            public Tensor Forward(Tensor x, Tensor mask) => head.Forward(x + attention.Forward(norm.Forward(x), cos, sin, mask));
        }

        [Model]
        public partial class LearnedScale : Module
        {
            readonly Linear a = new(6, 6), b = new(6, 3);
            Tensor gamma = Parameter(Tensor.Full([6], 0.5f));
            Tensor position = Parameter(Tensor.Randn(4, 6));
            [Buffer] readonly Tensor offset = Tensor.Full([6], 0.25f);
            public Tensor Forward([Shape("N 4 6")] Tensor x)
            {
                var h = F.Gelu(a.Forward(x + position)) * gamma;
                return b.Forward((h - offset).Tanh() * 2);
            }
        }

        /// <summary>Numbers the build does not know — settings of the module, and arithmetic of them — with tensors: eager islands.</summary>
        [Model]
        public partial class SettingScale : Module
        {
            readonly Linear a = new(6, 8), b = new(8, 3);
            readonly double scale;
            readonly float shift;
            public SettingScale(double scale, float shift) { this.scale = scale; this.shift = shift; }
            public Tensor Forward([Shape("N 6")] Tensor x)
            {
                var h = F.Relu(a.Forward(x)) * scale;
                return b.Forward((shift - h).Tanh() / (scale * 2) + h);
            }
        }

        [Model]
        public partial class TwoInputs : Module
        {
            readonly Linear a = new(6, 6), b = new(6, 6), head = new(6, 2);
            public Tensor Forward([Shape("N 6")] Tensor x, [Shape("N 6")] Tensor y) => head.Forward(F.Relu(a.Forward(x)) * y.Sigmoid() + b.Forward(y));
        }

        [Model]
        public partial class MaskedEncoder : Module
        {
            readonly TransformerEncoderLayer layer = new(8, 2, dimFeedforward: 16, batchFirst: true);
            readonly Linear head = new(8, 3);
            public Tensor Forward([Shape("N L 8")] Tensor x, [Shape("L L")] Tensor mask) => head.Forward(layer.Forward(x, mask, null));
        }

        [Model]
        public partial class OptionalMask : Module
        {
            readonly TransformerEncoderLayer layer = new(8, 2, dimFeedforward: 16, batchFirst: true);
            readonly Linear head = new(8, 3);
            public Tensor Forward([Shape("N L 8")] Tensor x, Tensor? mask = null) => head.Forward(layer.Forward(x, mask, null));
        }

        [Model]
        public partial class Decoder : Module
        {
            readonly TransformerDecoderLayer layer = new(8, 2, dimFeedforward: 16, batchFirst: true);
            readonly Linear embed = new(8, 8), head = new(8, 3);
            public Tensor Forward([Shape("N T 8")] Tensor x, [Shape("N S 8")] Tensor memory) => head.Forward(layer.Forward(F.Gelu(embed.Forward(x)), memory));
        }

        [Model]
        public partial class Doubled : Module
        {
            readonly Linear a = new(8, 8);
            public Tensor Forward([Shape("N 8")] Tensor x, Tensor? unused = null) => Twice(a.Forward(x));
            static Tensor Twice(Tensor t)
            {
                for (int i = 0; i < 1; i++) t = t * 2;   // a loop: outside what the reader follows, so the call stays one
                return t;
            }
            // The eager fallback's Forward keeps the optional argument: this call compiles.
            public static Tensor Default(Doubled model, Tensor x) => model.Compile().Forward(x);
        }
        """;

    static (Assembly Assembly, Diagnostic[] Diagnostics, Diagnostic[] GeneratedWarnings, string GeneratedText) Build()
    {
        var compilation = AnalyzerHarness.Compile(Source);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new ModelGenerator());
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        var generated = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true).ToArray();
        string text = string.Concat(output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).Select(t => t.ToString()));
        return (Assembly.Load(stream.ToArray()), diagnostics.ToArray(), generated, text);
    }

    static readonly Lazy<(Assembly Assembly, Diagnostic[] Diagnostics, Diagnostic[] GeneratedWarnings, string GeneratedText)> Built = new(Build);

    /// <summary>
    /// A block sized by a config object compiles whole: the attention [Model] called with four tensors is inlined (its GEMMs
    /// in the block's graph), its head counts are read from the fields when the compiled model runs, and its
    /// null tests of the mask (<c>is not null</c>, <c>== null</c>) fold to its presence in the graph with the mask and to its
    /// absence in the one without it.
    /// </summary>
    [Fact]
    public void ConfigSizedBlocksInlineAndReadTheirSettings()
    {
        var text = Built.Value.GeneratedText;
        var plan = text.Split('\n').Single(l => l.Contains("<summary>ConfigBlock run by its generated kernels"));
        Assert.Contains("GEMM+bias (m.attention.__Kiln_q)", plan);
        Assert.DoesNotContain("eager ConfigAttention", plan);
        Assert.Contains("Unflatten(@dim: ((int)(2)), @sizes: new int[] { m.attention.__Kiln_heads, m.attention.__Kiln_headDim })", text);
        Assert.Contains("@attnMask: t[3], @isCausal: false", text);
        // ConfigAttention's own Compile() also has the graph for calls without the mask: the causal kernel, no mask.
        Assert.Contains("@attnMask: null, @isCausal: true", text);
        Assert.Contains("internal int __Kiln_kvHeads => this.kvHeads;", text);
    }

    /// <summary>
    /// F.SwiGlu lowers to the op table's swiglu inside a fused loop: the Llama block's gate and up projections meet in one
    /// loop (silu and the product never a tensor of their own), forward and backward generated from the table's formula.
    /// </summary>
    [Fact]
    public void SwiGluIsOneFusedLoop()
    {
        var plan = Built.Value.GeneratedText.Split('\n').Single(l => l.Contains("<summary>LlamaBlock run by its generated kernels"));
        Assert.Contains("one fused loop of swiglu", plan);
        Assert.DoesNotContain("silu", plan);
    }

    /// <summary>The generated code compiles without warnings (a user's TreatWarningsAsErrors build must not break on it).</summary>
    [Fact]
    public void GeneratedCodeHasNoWarnings() => Assert.True(Built.Value.GeneratedWarnings.Length == 0, string.Join("\n", Built.Value.GeneratedWarnings.Select(d => d.ToString())));

    [Theory]
    [InlineData("SimpleClassifier", new[] { 6, 30 }, new object[] { 30, 10 })]
    [InlineData("DeepChain", new[] { 6, 20 }, new object[0])]
    [InlineData("NoBiasSilu", new[] { 6, 16 }, new object[0])]
    [InlineData("SequentialMlp", new[] { 6, 12 }, new object[0])]
    [InlineData("LeNet", new[] { 3, 1, 28, 28 }, new object[0])]
    [InlineData("ConvFeatures", new[] { 4, 3, 8, 8 }, new object[0])]
    [InlineData("StridedGroups", new[] { 3, 4, 8, 8 }, new object[0])]
    [InlineData("DropFirst", new[] { 6, 10 }, new object[0])]
    [InlineData("TwoPools", new[] { 2, 2, 8, 8 }, new object[0])]
    [InlineData("WideMlp", new[] { 9, 64 }, new object[0])]
    [InlineData("Residual", new[] { 6, 8 }, new object[0])]
    [InlineData("ResidualBlock", new[] { 7, 12 }, new object[0])]
    [InlineData("ConvResidual", new[] { 3, 2, 6, 6 }, new object[0])]
    [InlineData("NormMlp", new[] { 5, 10 }, new object[0])]
    [InlineData("Encoder", new[] { 3, 5, 16 }, new object[0])]
    [InlineData("PreNormEncoder", new[] { 2, 7, 6 }, new object[0])]
    [InlineData("BlockStack", new[] { 5, 6 }, new object[0])]
    [InlineData("TrainingBranch", new[] { 6, 8 }, new object[0])]
    [InlineData("Arithmetic", new[] { 7, 8 }, new object[0])]
    [InlineData("ScalarOnlyOps", new[] { 4, 6 }, new object[0])]
    [InlineData("TableFunctions", new[] { 5, 8 }, new object[0])]
    [InlineData("HyperbolicFunctions", new[] { 5, 8 }, new object[0])]
    [InlineData("EpilogueForms", new[] { 13, 9 }, new object[0])]
    [InlineData("EpilogueForms", new[] { 3, 9 }, new object[0])]
    [InlineData("ConvBn", new[] { 4, 2, 6, 6 }, new object[0])]
    [InlineData("BnMlp", new[] { 9, 7 }, new object[0])]
    [InlineData("ScaledSoftmax", new[] { 6, 8 }, new object[0])]
    [InlineData("BroadcastGates", new[] { 7, 6 }, new object[0])]
    [InlineData("BroadcastGates", new[] { 2100, 6 }, new object[0])]
    [InlineData("ResidualNorms", new[] { 5, 8 }, new object[0])]
    [InlineData("ReluNorm", new[] { 6, 8 }, new object[0])]
    [InlineData("ResidualNorms", new[] { 2100, 8 }, new object[0])]
    [InlineData("NormAndCustom", new[] { 5, 6 }, new object[0])]
    [InlineData("HandAttention", new[] { 2, 5, 8 }, new object[0])]
    [InlineData("AttentionBlock", new[] { 3, 4, 12 }, new object[0])]
    [InlineData("LearnedScale", new[] { 3, 4, 6 }, new object[0])]
    [InlineData("LlamaBlock", new[] { 3, 5, 16 }, new object[0])]
    [InlineData("SettingScale", new[] { 5, 6 }, new object[] { 0.7, 0.25f })]
    public void CompiledEqualsEagerInTrainingAndEval(string name, int[] inputShape, object[] args)
    {
        var type = Built.Value.Assembly.GetType(name)!;
        Generator.ManualSeed(7);
        var model = (Kiln.NN.Module)Activator.CreateInstance(type, args)!;
        var compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.Default])!;
        var compiledForward = compiled.GetType().GetMethod("Forward")!;
        var eagerForward = type.GetMethods().First(m => m.Name == "Forward" && m.GetParameters().Length == 1 && m.GetParameters()[0].ParameterType == typeof(Tensor));
        var x = Tensor.Randn(inputShape, DType.Float32, new Generator(3));
        foreach (bool training in new[] { true, false })
        {
            if (training) model.Train(); else model.Eval();
            var (eagerOut, eagerGrads, eagerInputGrad) = Run(input => (Tensor)eagerForward.Invoke(model, [input])!);
            var (compiledOut, compiledGrads, compiledInputGrad) = Run(input => (Tensor)compiledForward.Invoke(compiled, [input])!);
            Close(eagerOut, compiledOut, $"{name} output (training={training})");
            for (int i = 0; i < eagerGrads.Length; i++) Close(eagerGrads[i], compiledGrads[i], $"{name} gradient {i} (training={training})");
            Close(eagerInputGrad, compiledInputGrad, $"{name} input gradient (training={training})");
        }

        (Tensor Out, Tensor[] Grads, Tensor InputGrad) Run(Func<Tensor, Tensor> forward)
        {
            model.ZeroGrad();
            Generator.ManualSeed(11);   // the same dropout draws on both sides
            var input = x.Detach().RequiresGrad_();
            var y = forward(input);
            // A fixed, non-uniform upstream gradient of the output's shape.
            (y * Tensor.Randn(y.Shape.ToArray(), DType.Float32, new Generator(4))).Sum().Backward();
            return (y.Detach(), model.Parameters().Select(p => p.Grad!.Clone()).ToArray(), input.Grad!.Clone());
        }
    }

    /// <summary>
    /// On a CUDA device (ILGPU's emulator here): the compiled model runs its fused groups as generated GPU kernels (the same
    /// fusion plan, emitted as [GpuKernel] methods) and its GEMMs and row ops as the CUDA backend's kernels; output and every
    /// gradient equal the eager model on the CPU, in training (the same dropout draws) and in eval.
    /// </summary>
    [Theory]
    [InlineData("SimpleClassifier", new[] { 6, 30 }, new object[] { 30, 10 })]
    [InlineData("DeepChain", new[] { 6, 20 }, new object[0])]
    [InlineData("NoBiasSilu", new[] { 6, 16 }, new object[0])]
    [InlineData("SequentialMlp", new[] { 6, 12 }, new object[0])]
    [InlineData("DropFirst", new[] { 6, 10 }, new object[0])]
    [InlineData("Residual", new[] { 6, 8 }, new object[0])]
    [InlineData("ResidualBlock", new[] { 7, 12 }, new object[0])]
    [InlineData("NormMlp", new[] { 5, 10 }, new object[0])]
    [InlineData("Arithmetic", new[] { 7, 8 }, new object[0])]
    [InlineData("ScalarOnlyOps", new[] { 4, 6 }, new object[0])]
    [InlineData("EpilogueForms", new[] { 13, 9 }, new object[0])]
    [InlineData("ScaledSoftmax", new[] { 6, 8 }, new object[0])]
    [InlineData("BroadcastGates", new[] { 7, 6 }, new object[0])]
    [InlineData("ResidualNorms", new[] { 5, 8 }, new object[0])]
    [InlineData("ReluNorm", new[] { 6, 8 }, new object[0])]
    [InlineData("LeNet", new[] { 2, 1, 28, 28 }, new object[0])]
    [InlineData("ConvFeatures", new[] { 2, 3, 8, 8 }, new object[0])]
    [InlineData("StridedGroups", new[] { 2, 4, 8, 8 }, new object[0])]
    [InlineData("TwoPools", new[] { 2, 2, 8, 8 }, new object[0])]
    [InlineData("TableFunctions", new[] { 3, 8 }, new object[0])]
    [InlineData("HyperbolicFunctions", new[] { 3, 8 }, new object[0])]
    [InlineData("LlamaBlock", new[] { 3, 5, 16 }, new object[0])]
    [InlineData("ConvBn", new[] { 4, 2, 6, 6 }, new object[0])]
    [InlineData("BnMlp", new[] { 9, 7 }, new object[0])]
    public void CompiledOnCudaEqualsEagerOnCpu(string name, int[] inputShape, object[] args)
    {
        bool was = Kiln.Cuda.Emulate;
        Kiln.Cuda.Emulate = true;
        try
        {
            var type = Built.Value.Assembly.GetType(name)!;
            Generator.ManualSeed(7);
            var model = (Kiln.NN.Module)Activator.CreateInstance(type, args)!;
            var eagerForward = type.GetMethods().First(m => m.Name == "Forward" && m.GetParameters().Length == 1 && m.GetParameters()[0].ParameterType == typeof(Tensor));
            var x = Tensor.Randn(inputShape, DType.Float32, new Generator(3));
            foreach (bool training in new[] { true, false })
            {
                model.To(Device.Cpu);
                if (training) model.Train(); else model.Eval();
                var (eagerOut, eagerGrads, eagerInputGrad) = Run(x, input => (Tensor)eagerForward.Invoke(model, [input])!);
                model.To(Device.Cuda());
                var compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.Default])!;
                var compiledForward = compiled.GetType().GetMethod("Forward")!;
                Tensor? node = null;
                var (cudaOut, cudaGrads, cudaInputGrad) = Run(x.Cuda(), input => { var y = (Tensor)compiledForward.Invoke(compiled, [input])!; node = y; return y; });
                Assert.True(cudaOut.IsCuda);
                // One compiled node with generated kernels (RMSNorm included; the Llama block's attention islands run eagerly on the device inside it).
                Assert.Equal(name + "Backward", node!.GradFn?.Name);
                Close(eagerOut, cudaOut.Cpu(), $"{name} output on CUDA (training={training})");
                for (int i = 0; i < eagerGrads.Length; i++) Close(eagerGrads[i], cudaGrads[i].Cpu(), $"{name} gradient {i} on CUDA (training={training})");
                Close(eagerInputGrad, cudaInputGrad.Cpu(), $"{name} input gradient on CUDA (training={training})");
            }

            (Tensor Out, Tensor[] Grads, Tensor InputGrad) Run(Tensor at, Func<Tensor, Tensor> forward)
            {
                model.ZeroGrad();
                Generator.ManualSeed(11);   // the same dropout draws on both sides
                var input = at.Detach().RequiresGrad_();
                var y = forward(input);
                using var w = Tensor.Randn(y.Shape.ToArray(), DType.Float32, new Generator(4)).To(y.Device);
                (y * w).Sum().Backward();
                return (y.Detach(), model.Parameters().Select(p => p.Grad!.Clone()).ToArray(), input.Grad!.Clone());
            }
        }
        finally { Kiln.Cuda.Emulate = was; }
    }

    /// <summary>
    /// ReduceOverhead: the compiled model's tensors come from its own pool — reserved on the first steps, then reused
    /// without adding blocks — and training steps still equal eager (dropout, residuals, attention included).
    /// </summary>
    [Theory]
    [InlineData("SimpleClassifier", new[] { 6, 30 }, new object[] { 30, 10 })]
    [InlineData("Encoder", new[] { 3, 5, 16 }, new object[0])]
    public void ReduceOverheadReusesItsReservedBlocksAndEqualsEager(string name, int[] shape, object[] args)
    {
        var type = Built.Value.Assembly.GetType(name)!;
        var model = (Kiln.NN.Module)Activator.CreateInstance(type, args)!;
        dynamic compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.ReduceOverhead])!;
        Kiln.Memory.MemoryPool pool = compiled.Pool;
        var forward = ((object)compiled).GetType().GetMethod("Forward")!;
        var eagerForward = type.GetMethods().First(m => m.Name == "Forward" && m.GetParameters().Length == 1 && m.GetParameters()[0].ParameterType == typeof(Tensor));
        var x = Tensor.Randn(shape, DType.Float32, new Generator(3));
        var additions = new System.Collections.Generic.List<long>();
        for (int step = 0; step < 4; step++)
        {
            using var scope = Tensor.Scope();
            model.ZeroGrad();
            Generator.ManualSeed((ulong)(20 + step));
            var y = (Tensor)forward.Invoke(compiled, new object[] { x })!;
            y.Sum().Backward();
            var compiledGrads = model.Parameters().Select(p => p.Grad!.Clone()).ToArray();
            model.ZeroGrad();
            Generator.ManualSeed((ulong)(20 + step));
            var e = (Tensor)eagerForward.Invoke(model, [x])!;
            e.Sum().Backward();
            Close(e, y, $"{name} output, step {step}");
            var eagerGrads = model.Parameters().Select(p => p.Grad!).ToArray();
            for (int i = 0; i < eagerGrads.Length; i++) Close(eagerGrads[i], compiledGrads[i], $"{name} gradient {i}, step {step}");
            additions.Add(pool.Additions);
        }
        Assert.True(pool.Reuses > 0, "later steps reuse the pool's blocks");
        Assert.Equal(additions[1], additions[3]);
        Assert.True(pool.ReservedBytes > 0);
    }

    /// <summary>MaxAutotune: the first call measures block sizes for the model's products and saves them; results still equal eager.</summary>
    [Theory]
    [InlineData("Encoder", new[] { 3, 5, 16 })]
    [InlineData("WideMlp", new[] { 9, 64 })]
    public void MaxAutotuneMeasuresSavesAndStillEqualsEager(string name, int[] shape)
    {
        string saved = Kiln.Compilation.Autotune.CacheDirectory, dir = Path.Combine(Path.GetTempPath(), "kiln-tune-" + Guid.NewGuid().ToString("N"));
        Kiln.Compilation.Autotune.CacheDirectory = dir;
        try
        {
            var type = Built.Value.Assembly.GetType(name)!;
            var model = (Kiln.NN.Module)Activator.CreateInstance(type)!;
            model.Eval();
            var compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.MaxAutotune])!;
            var eagerForward = type.GetMethods().First(m => m.Name == "Forward" && m.GetParameters().Length == 1 && m.GetParameters()[0].ParameterType == typeof(Tensor));
            var x = Tensor.Randn(shape, DType.Float32, new Generator(3));
            for (int call = 0; call < 2; call++)
            {
                model.ZeroGrad();
                var y = (Tensor)compiled.GetType().GetMethod("Forward")!.Invoke(compiled, [x])!;
                y.Sum().Backward();
                var compiledGrads = model.Parameters().Select(p => p.Grad!.Clone()).ToArray();
                model.ZeroGrad();
                var e = (Tensor)eagerForward.Invoke(model, [x])!;
                e.Sum().Backward();
                Close(e, y, $"{name} output, call {call}");
                var eagerGrads = model.Parameters().Select(p => p.Grad!).ToArray();
                for (int i = 0; i < eagerGrads.Length; i++) Close(eagerGrads[i], compiledGrads[i], $"{name} gradient {i}, call {call}");
            }
            var table = Kiln.Compilation.Autotune.Table(name);
            Assert.True(File.Exists(table.Path), "the tuned table is saved");
            // Forward and backward products (weight gradients read a transposed operand).
            Assert.Contains(table.Entries.Keys, k => k.TransposedA);
            Assert.True(table.Entries.Count >= 3, $"{table.Entries.Count} problems measured");
        }
        finally
        {
            Kiln.Compilation.Autotune.CacheDirectory = saved;
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [InlineData("SequentialMlp", new[] { 2, 12 }, "SequentialMlpBackward")]
    [InlineData("LeNet", new[] { 2, 1, 28, 28 }, "LeNetBackward")]
    [InlineData("ConvFeatures", new[] { 2, 3, 8, 8 }, "ConvFeaturesBackward")]
    [InlineData("StridedGroups", new[] { 2, 4, 8, 8 }, "StridedGroupsBackward")]
    [InlineData("DropFirst", new[] { 2, 10 }, "DropFirstBackward")]
    [InlineData("TwoPools", new[] { 2, 2, 8, 8 }, "TwoPoolsBackward")]
    [InlineData("WideMlp", new[] { 2, 64 }, "WideMlpBackward")]
    [InlineData("ResidualBlock", new[] { 2, 12 }, "ResidualBlockBackward")]
    [InlineData("Encoder", new[] { 2, 4, 16 }, "EncoderBackward")]
    [InlineData("BlockStack", new[] { 2, 6 }, "BlockStackBackward")]
    [InlineData("TrainingBranch", new[] { 2, 8 }, "TrainingBranchBackward")]
    [InlineData("Arithmetic", new[] { 2, 8 }, "ArithmeticBackward")]
    [InlineData("ConvBn", new[] { 2, 2, 6, 6 }, "ConvBnBackward")]
    [InlineData("NormAndCustom", new[] { 2, 6 }, "NormAndCustomBackward")]
    [InlineData("HandAttention", new[] { 2, 3, 8 }, "HandAttentionBackward")]
    [InlineData("AttentionBlock", new[] { 2, 3, 12 }, "AttentionBlockBackward")]
    [InlineData("LearnedScale", new[] { 2, 4, 6 }, "LearnedScaleBackward")]
    [Theory]
    public void ChainsAreOneCompiledNode(string name, int[] shape, string node)
    {
        var type = Built.Value.Assembly.GetType(name)!;
        var model = (Kiln.NN.Module)Activator.CreateInstance(type)!;
        var compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.Default])!;
        var y = (Tensor)compiled.GetType().GetMethod("Forward")!.Invoke(compiled, [Tensor.Randn(shape).RequiresGrad_()])!;
        Assert.Equal(node, y.GradFn!.Name);
    }

    [Fact]
    public void TheInputGradientMatchesToo()
    {
        var type = Built.Value.Assembly.GetType("DeepChain")!;
        var model = (Module<Tensor, Tensor>)Activator.CreateInstance(type)!;
        dynamic compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.Default])!;
        model.Eval();
        var x1 = Tensor.Randn([4, 20], DType.Float32, new Generator(9)).RequiresGrad_();
        var x2 = x1.Detach().RequiresGrad_();
        model.Forward(x1).Sum().Backward();
        ((Tensor)compiled.GetType().GetMethod("Forward").Invoke(compiled, new object[] { x2 })).Sum().Backward();
        Close(x1.Grad!, x2.Grad!, "input gradient");
        Assert.Equal("DeepChainBackward", ((Tensor)compiled.GetType().GetMethod("Forward").Invoke(compiled, new object[] { x2 })).GradFn!.Name);
    }

    /// <summary>What the compiled backward reads survives the end of a Tensor.Scope, as eager autograd's saved tensors do.</summary>
    [Fact]
    public void BackwardAfterTheScopeEndsStillWorks()
    {
        var type = Built.Value.Assembly.GetType("SimpleClassifier")!;
        var model = (Kiln.NN.Module)Activator.CreateInstance(type, [12, 3])!;
        var compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.Default])!;
        model.Eval();
        var x = Tensor.Randn([5, 12], DType.Float32, new Generator(2));
        Tensor loss;
        using (Tensor.Scope())
            loss = ((Tensor)compiled.GetType().GetMethod("Forward")!.Invoke(compiled, [x])!).Sum();
        // Reuse the freed blocks, so a backward reading released memory would read these numbers.
        using (Tensor.Scope()) for (int i = 0; i < 20; i++) Tensor.Full([5, 128], 1e6f);
        loss.Backward();
        var compiledGrads = model.Parameters().Select(p => p.Grad!.Clone()).ToArray();
        model.ZeroGrad();
        ((Tensor)type.GetMethods().First(m => m.Name == "Forward" && m.GetParameters().Length == 1).Invoke(model, [x])!).Sum().Backward();
        var eagerGrads = model.Parameters().Select(p => p.Grad!).ToArray();
        Assert.Equal(4, eagerGrads.Length);
        for (int i = 0; i < eagerGrads.Length; i++) Close(eagerGrads[i], compiledGrads[i], $"gradient {i}");
    }

    /// <summary>Eager islands keep what their local graph needs past the end of a Tensor.Scope, as the compiled kernels do.</summary>
    [Theory]
    [InlineData("NormAndCustom", new[] { 5, 6 })]
    [InlineData("ConvBn", new[] { 3, 2, 6, 6 })]
    [InlineData("HandAttention", new[] { 2, 5, 8 })]
    public void IslandsSurviveTheEndOfAScopeBeforeBackward(string name, int[] shape)
    {
        var type = Built.Value.Assembly.GetType(name)!;
        var model = (Kiln.NN.Module)Activator.CreateInstance(type)!;
        var compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.Default])!;
        model.Eval();
        var x = Tensor.Randn(shape, DType.Float32, new Generator(2));
        Tensor loss;
        using (Tensor.Scope())
            loss = ((Tensor)compiled.GetType().GetMethod("Forward")!.Invoke(compiled, [x])!).Sum();
        using (Tensor.Scope()) for (int i = 0; i < 20; i++) Tensor.Full([64, 64], 1e6f);
        loss.Backward();
        var compiledGrads = model.Parameters().Select(p => p.Grad!.Clone()).ToArray();
        model.ZeroGrad();
        ((Tensor)type.GetMethods().First(m => m.Name == "Forward" && m.GetParameters().Length == 1).Invoke(model, [x])!).Sum().Backward();
        var eagerGrads = model.Parameters().Select(p => p.Grad!).ToArray();
        for (int i = 0; i < eagerGrads.Length; i++) Close(eagerGrads[i], compiledGrads[i], $"{name} gradient {i}");
    }

    [Fact]
    public void AModelOutsideTheSubsetRunsEagerlyAndSaysWhy()
    {
        var d = Assert.Single(Built.Value.Diagnostics, d => d.Id == "KLN0102");
        Assert.Equal("Doubled.Compile() runs Forward eagerly: the call to Doubled.Twice is outside what Kiln compiles today (graphs of Linear, Conv2d, MaxPool2d, Flatten, LayerNorm, RMSNorm, BatchNorm, Embedding, self-attention, TransformerEncoderLayer, softmax, cross entropy, [Model] blocks, activations, dropout and elementwise arithmetic)", d.GetMessage());
        // A warning, so that dotnet build shows it (an info is not printed).
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
    }

    /// <summary>The shape analyzers and the generator read the same models: no shape error (or warning) on any of them.</summary>
    [Fact]
    public async System.Threading.Tasks.Task TheShapeAnalyzersFindNothingWrongInTheseModels()
    {
        var (_, analyzer) = await AnalyzerHarness.Run(Source);
        Assert.DoesNotContain(analyzer, d => d.Severity >= DiagnosticSeverity.Warning);
    }

    /// <summary>
    /// Layers without a fused form run eagerly inside the compiled model, each reported (info) at the call that uses it;
    /// BatchNorm, RMSNorm, Embedding, softmax and log-softmax have fused forms (ConvBn, NormAndCustom's norm, TokenEncoder
    /// and HandAttention's softmax are not listed).
    /// </summary>
    [Fact]
    public void EagerLayersInsideACompiledModelAreReportedWhereTheyAreCalled()
    {
        var islands = Built.Value.Diagnostics.Where(d => d.Id == "KLN0103").OrderBy(d => d.GetMessage()).ToArray();
        Assert.Equal(new[]
        {
            // A block sized by a config: its attention inlined, views over the config's head counts eager.
            "ConfigAttention.Compile() runs F.RotaryEmbedding eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigAttention.Compile() runs F.ScaledDotProductAttention eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigAttention.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigAttention.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigAttention.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigAttention.Compile() runs Tensor.Unflatten eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigAttention.Compile() runs Tensor.Unflatten eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigBlock.Compile() runs F.RotaryEmbedding eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigBlock.Compile() runs F.ScaledDotProductAttention eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigBlock.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigBlock.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigBlock.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigBlock.Compile() runs Tensor.Unflatten eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "ConfigBlock.Compile() runs Tensor.Unflatten eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "Decoder.Compile() runs TransformerDecoderLayer (layer) eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "HandAttention.Compile() runs Tensor.Matmul eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "HandAttention.Compile() runs Tensor.Matmul eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "HandAttention.Compile() runs Tensor.Reshape eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "HandAttention.Compile() runs Tensor.Reshape eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "HandAttention.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            // A Llama block: norms, projections, SwiGLU and residuals fused; attention (views, rotary, grouped SDPA) eager.
            "LlamaBlock.Compile() runs F.RotaryEmbedding eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs F.RotaryEmbedding eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs F.ScaledDotProductAttention eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs Tensor.Reshape eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs Tensor.Transpose eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs Tensor.View eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs Tensor.View eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "LlamaBlock.Compile() runs Tensor.View eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "MaskedEncoder.Compile() runs TransformerEncoderLayer (layer) eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "NormAndCustom.Compile() runs Shift (shift) eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "OptionalMask.Compile() runs TransformerEncoderLayer (layer) eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            // A tensor with a number read from the module when it runs (the fused loops take build-time constants only).
            "SettingScale.Compile() runs '(shift - h).Tanh() / (scale * 2)' eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "SettingScale.Compile() runs 'F.Relu(a.Forward(x)) * scale' eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
            "SettingScale.Compile() runs 'shift - h' eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
        }, islands.Select(d => d.GetMessage()));
        Assert.All(islands, d => Assert.Equal(DiagnosticSeverity.Info, d.Severity));
        var shift = islands.Single(d => d.GetMessage().Contains("Shift")).Location.GetLineSpan();
        Assert.Equal("shift.Forward(norm.Forward(F.Silu(a.Forward(x))))", Source.Split('\n')[shift.StartLinePosition.Line].Substring(shift.StartLinePosition.Character, shift.EndLinePosition.Character - shift.StartLinePosition.Character));
        Assert.Equal(islands.Length, Built.Value.Diagnostics.Length - 1);   // the islands and Doubled's KLN0102, nothing else
    }

    /// <summary>
    /// Forward with two inputs: both gradients and every parameter's match eager, training and eval; a layer called with
    /// more than its input (an encoder layer with a bool mask) runs as an eager island inside the compiled node.
    /// </summary>
    [Theory]
    [InlineData("TwoInputs")]
    [InlineData("BroadcastPair:suffix")]
    [InlineData("BroadcastPair:middle")]
    [InlineData("ClassifierLoss")]
    [InlineData("NllClassifier")]
    [InlineData("MaskedEncoder")]
    [InlineData("Decoder")]
    [InlineData("ConfigBlock")]
    public void ForwardWithTwoInputsMatchesEager(string test)
    {
        // "Model:variant" runs one model with differently shaped second inputs.
        string name = test.Split(':')[0];
        var type = Built.Value.Assembly.GetType(name)!;
        Generator.ManualSeed(4);
        var model = (Kiln.NN.Module)Activator.CreateInstance(type)!;
        var compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.Default])!;
        var forward = compiled.GetType().GetMethod("Forward")!;
        var eagerForward = type.GetMethod("Forward")!;
        Tensor x, y;
        if (name == "TwoInputs") { x = Tensor.Randn([5, 6], DType.Float32, new Generator(1)); y = Tensor.Randn([5, 6], DType.Float32, new Generator(2)); }
        else if (name == "BroadcastPair")
        {
            // [T, D] against [N, T, D] (a trailing block), [N, 1, D] (broadcast inside: an expanded copy).
            x = Tensor.Randn([3, 5, 4], DType.Float32, new Generator(1));
            y = Tensor.Randn(test.EndsWith(":suffix", StringComparison.Ordinal) ? [5, 4] : [3, 1, 4], DType.Float32, new Generator(2));
        }
        else if (name is "ClassifierLoss" or "NllClassifier")
        {
            // Class targets, one of them the ignore index: the loss is the mean over the other six.
            x = Tensor.Randn([7, 6], DType.Float32, new Generator(1));
            y = Tensor.From(new long[] { 0, 4, -100, 2, 2, 1, 3 }, 7);
        }
        else if (name == "MaskedEncoder") { x = Tensor.Randn([2, 5, 8], DType.Float32, new Generator(1)); y = Tensor.Ones([5, 5], DType.Bool).Triu(1); }
        else if (name == "ConfigBlock") { x = Tensor.Randn([2, 5, 16], DType.Float32, new Generator(1)); y = Tensor.Randn([2, 1, 5, 5], DType.Float32, new Generator(2)); }
        else { x = Tensor.Randn([2, 5, 8], DType.Float32, new Generator(1)); y = Tensor.Randn([2, 4, 8], DType.Float32, new Generator(2)); }
        foreach (bool training in new[] { true, false })
        {
            if (training) model.Train(); else model.Eval();
            (Tensor Out, Tensor[] Grads, Tensor XGrad, Tensor? YGrad) Run(System.Reflection.MethodInfo method, object target)
            {
                model.ZeroGrad();
                Generator.ManualSeed(11);
                var xi = x.Detach().RequiresGrad_();
                var yi = y.DType is DType.Bool or DType.Int64 ? y : y.Detach().RequiresGrad_();
                var o = (Tensor)method.Invoke(target, [xi, yi])!;
                (o * Tensor.Randn(o.Shape.ToArray(), DType.Float32, new Generator(9))).Sum().Backward();
                return (o.Detach(), model.Parameters().Select(p => p.Grad!.Clone()).ToArray(), xi.Grad!.Clone(), yi.Grad?.Clone());
            }
            var e = Run(eagerForward, model);
            var c = Run(forward, compiled);
            Close(e.Out, c.Out, $"{name} output (training={training})");
            for (int i = 0; i < e.Grads.Length; i++) Close(e.Grads[i], c.Grads[i], $"{name} gradient {i} (training={training})");
            Close(e.XGrad, c.XGrad, $"{name} first input's gradient");
            if (e.YGrad is not null) Close(e.YGrad, c.YGrad!, $"{name} second input's gradient");
        }
        Assert.Equal(name + "Backward", ((Tensor)forward.Invoke(compiled, [x.Detach().RequiresGrad_(), y])!).GradFn!.Name);
    }

    /// <summary>
    /// A <c>Tensor? mask = null</c> parameter compiles both ways: with a mask one graph, called without it (null, or the
    /// default) a second graph read with the mask as the constant null — both the compiled node, both equal eager.
    /// </summary>
    [Fact]
    public void AnOptionalMaskCompilesWithAndWithoutIt()
    {
        var type = Built.Value.Assembly.GetType("OptionalMask")!;
        Generator.ManualSeed(4);
        var model = (Kiln.NN.Module)Activator.CreateInstance(type)!;
        model.Eval();
        dynamic compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.Default])!;
        var eagerForward = type.GetMethod("Forward")!;
        var x = Tensor.Randn([2, 5, 8], DType.Float32, new Generator(1));
        var mask = Tensor.Ones([5, 5], DType.Bool).Triu(1);
        foreach (var m in new[] { mask, null })
        {
            var xi = x.Detach().RequiresGrad_();
            Tensor c = compiled.Forward(xi, m);
            c.Sum().Backward();
            var xe = x.Detach().RequiresGrad_();
            var e = (Tensor)eagerForward.Invoke(model, [xe, m])!;
            e.Sum().Backward();
            Close(e, c, $"output (mask={(m is null ? "null" : "causal")})");
            Close(xe.Grad!, xi.Grad!, $"input gradient (mask={(m is null ? "null" : "causal")})");
            Assert.Equal("OptionalMaskBackward", c.GradFn!.Name);
        }
        // The default argument is there as in the model's Forward.
        Tensor d = compiled.Forward(x.Detach().RequiresGrad_());
        Close((Tensor)eagerForward.Invoke(model, [x, null])!, d, "output with the default mask");
        Assert.Equal("OptionalMaskBackward", d.GradFn!.Name);
        Assert.Contains("=> input1 is null ? ForwardWithout(x) : ForwardWith(x, input1);", Built.Value.GeneratedText);
    }

    /// <summary>Token ids (int64) through an Embedding (an eager island) into a compiled Transformer layer: equal to eager, padding row without gradient.</summary>
    [Fact]
    public void TokenInputsRunThroughAnEmbeddingIsland()
    {
        var type = Built.Value.Assembly.GetType("TokenEncoder")!;
        Generator.ManualSeed(2);
        var model = (Kiln.NN.Module)Activator.CreateInstance(type)!;
        var compiled = type.GetMethod("Compile")!.Invoke(model, [Kiln.Compilation.CompileMode.Default])!;
        var forward = compiled.GetType().GetMethod("Forward")!;
        var eagerForward = type.GetMethod("Forward")!;
        var tokens = Tensor.RandInt(0, 20, [3, 6], generator: new Generator(6));
        foreach (bool training in new[] { true, false })
        {
            if (training) model.Train(); else model.Eval();
            model.ZeroGrad();
            Generator.ManualSeed(11);
            var e = (Tensor)eagerForward.Invoke(model, [tokens])!;
            (e * e).Sum().Backward();
            var eagerGrads = model.Parameters().Select(p => p.Grad!.Clone()).ToArray();
            model.ZeroGrad();
            Generator.ManualSeed(11);
            var c = (Tensor)forward.Invoke(compiled, [tokens])!;
            Assert.Equal("TokenEncoderBackward", c.GradFn!.Name);
            (c * c).Sum().Backward();
            Close(e, c, $"output (training={training})");
            var grads = model.Parameters().ToArray();
            for (int i = 0; i < grads.Length; i++) Close(eagerGrads[i], grads[i].Grad!, $"gradient {i} (training={training})");
            Assert.All(grads[0].Grad!.Select(0, 0).ToArray<float>(), v => Assert.Equal(0f, v));   // the padding row
        }
    }

    /// <summary>The compiled BatchNorm updates the running statistics (and the batch count) exactly as the eager layer does, with a momentum and as a cumulative average.</summary>
    [Theory]
    [InlineData("ConvBn", new[] { 6, 2, 6, 6 })]
    [InlineData("BnMlp", new[] { 10, 7 })]
    public void BatchNormInsideACompiledModelUpdatesItsRunningStatistics(string name, int[] shape)
    {
        var type = Built.Value.Assembly.GetType(name)!;
        var forward = type.GetMethods().First(m => m.Name == "Forward" && m.GetParameters().Length == 1);
        Generator.ManualSeed(5);
        var eager = (Kiln.NN.Module)Activator.CreateInstance(type)!;
        Generator.ManualSeed(5);
        var other = (Kiln.NN.Module)Activator.CreateInstance(type)!;
        dynamic compiled = type.GetMethod("Compile")!.Invoke(other, [Kiln.Compilation.CompileMode.Default])!;
        var x = Tensor.Randn(shape, DType.Float32, new Generator(8)) * 3 + 1;
        for (int step = 0; step < 3; step++)
        {
            ((Tensor)forward.Invoke(eager, [x])!).Sum().Backward();
            ((Tensor)compiled.GetType().GetMethod("Forward").Invoke(compiled, new object[] { x })).Sum().Backward();
        }
        var expected = eager.NamedBuffers().ToDictionary(b => b.Name, b => b.Buffer);
        foreach (var (buffer, value) in other.NamedBuffers())
            Close(expected[buffer].To(DType.Float32), value.To(DType.Float32), "buffer " + buffer);
        Assert.Contains(other.NamedBuffers(), b => b.Name == "bn.running_mean");
        Assert.Equal(3L, other.NamedBuffers().First(b => b.Name == "bn.num_batches_tracked").Buffer.Item<long>());
    }

    static void Close(Tensor expected, Tensor actual, string what)
    {
        var e = expected.ToArray<float>();
        var a = actual.ToArray<float>();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5 * Math.Max(1, Math.Abs(e[i])), $"{what}[{i}]: compiled {a[i]} vs eager {e[i]}");
    }
}
