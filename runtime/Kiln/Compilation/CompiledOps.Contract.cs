using System;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using Kiln.Gpu;
using Kiln.Kernels.Gemm;
using Kiln.Memory;
using Kiln.NN;

namespace Kiln.Compilation;

// The entry points generated code reaches through this contract type besides the layer kernels of the other parts: each
// forwards to the one implementation (fused Linear epilogues, eager islands, fused groups' broadcasting, dropout draws
// and loops, compile modes, self-attention, generated GPU kernels). Public API that users call too (Tensor, F, layers,
// Autograd.Function) is called as users call it; nothing else outside this type is called by generated code.
public static partial class CompiledOps
{
    /// <summary>The number of outputs of a Linear over <paramref name="x"/> (the dropout mask's length).</summary>
    public static int LinearOutputCount(Tensor x, Tensor weight) => FusedLinear.OutputCount(x, weight);

    /// <summary>A Linear with its activation and dropout applied in the GEMM's epilogue; the pre-activation kept when asked.</summary>
    public static (Tensor Output, Tensor? PreActivation) LinearEpilogue(Tensor x, Tensor weight, Tensor? bias, GemmActivation activation, float[]? multiplier, bool keepPreActivation) =>
        FusedLinear.Forward(x, weight, bias, activation, multiplier, keepPreActivation);

    /// <summary>The backward of <see cref="LinearEpilogue(Tensor, Tensor, Tensor?, GemmActivation, float[], bool)"/> through a ReLU read from its output (scaled by dropout's 1/(1-p)).</summary>
    public static (Tensor? Input, Tensor Weight, Tensor? Bias) LinearEpilogueBackward(Tensor x, Tensor weight, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput) =>
        FusedLinear.Backward(x, weight, hasBias, grad, output, scale, needInput);

    /// <summary>
    /// Whether a Linear member computes what the compiled GEMM computes: a plain <see cref="Linear"/> (or attention's
    /// output projection), or a layer with low-rank terms it can fuse (<see cref="ILowRankLinear"/>). Any other subclass
    /// (quantized, observed, adapters with dropout while training) runs the eager Forward.
    /// </summary>
    public static bool Fusable(Linear layer) =>
        layer.GetType() == typeof(Linear) || layer is NonDynamicallyQuantizableLinear || (layer is ILowRankLinear l && l.FusableTerms() is not null);

    /// <summary>
    /// Whether autocast is on for <paramref name="input"/>'s device: the compiled method then runs the eager Forward, whose
    /// products run in the 16-bit type (the generated kernels are float32).
    /// </summary>
    public static bool Autocasting(Tensor input) => Autocast.IsEnabled(input.Device.Type);

    /// <summary>Whether a layer with its weight stored [in, out] computes what the compiled GEMM computes (x·W + b) on a float32 weight.</summary>
    public static bool Fusable(ITransposedLinear layer) => layer.IsPlainLinear && layer.Weight.DType == DType.Float32;

    /// <summary>The weight of a layer stored [in, out] as the [out, in] view the compiled GEMM reads (no copy; its gradient reaches the stored weight).</summary>
    public static Tensor LinearWeight(ITransposedLinear layer) => layer.Weight.T;

    /// <summary>None: a layer stored [in, out] with adapters is not <see cref="Fusable(ITransposedLinear)"/> (its model runs the eager Forward).</summary>
    public static LowRankTerms? LowRank(ITransposedLinear layer) => null;

    /// <summary>The low-rank terms a fusable Linear adds for this call, or null when it adds none.</summary>
    public static LowRankTerms? LowRank(Linear layer) =>
        layer is ILowRankLinear l && l.FusableTerms() is { Count: > 0 } terms ? new LowRankTerms(terms) : null;

    /// <summary>The trainable tensors of <paramref name="terms"/> (none without terms), listed as the compiled node's inputs.</summary>
    public static Tensor[] LowRankTensors(LowRankTerms? terms) => terms?.Tensors ?? Array.Empty<Tensor>();

    /// <summary>A Linear with its low-rank terms (LoRA) added before the epilogue's activation and dropout; the terms' inner products saved into <paramref name="ctx"/>.</summary>
    public static (Tensor Output, Tensor? PreActivation) LinearEpilogue(FunctionContext ctx, Tensor x, Tensor weight, Tensor? bias, GemmActivation activation, float[]? multiplier, bool keepPreActivation, LowRankTerms? lowRank) =>
        FusedLinear.Forward(ctx, x, weight, bias, activation, multiplier, keepPreActivation, lowRank);

    /// <summary>The backward of the low-rank <see cref="LinearEpilogue(FunctionContext, Tensor, Tensor, Tensor?, GemmActivation, float[], bool, LowRankTerms?)"/>: no weight gradient unless <paramref name="needWeight"/>, the terms' into <see cref="LowRankTerms.Gradients"/>.</summary>
    public static (Tensor? Input, Tensor? Weight, Tensor? Bias) LinearEpilogueBackward(Tensor x, Tensor weight, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput, LowRankTerms? lowRank, bool needWeight) =>
        FusedLinear.Backward(x, weight, hasBias, grad, output, scale, needInput, lowRank, needWeight);

    /// <summary>Dropout's scale of kept values: 1/(1-p) while dropping, else 1.</summary>
    public static float DropoutScale(bool dropping, double p) => FusedLinear.DropoutScale(dropping, p);

    /// <summary>The trainable parameters of a layer run as an eager island (found when the model runs).</summary>
    public static Tensor[] IslandParameters(Kiln.NN.Module layer) => EagerIsland.TrainableParameters(layer);

    /// <summary>The trainable tensors among those an expression island reads.</summary>
    public static Tensor[] IslandParameters(params Tensor?[] tensors) => EagerIsland.Trainable(tensors);

    /// <summary>Runs code without a fused form on the eager engine inside the compiled node, recording it for its backward.</summary>
    public static EagerIsland RunIsland(Tensor[] parameters, Func<Tensor[], Tensor> forward, Tensor[] inputs, bool[] needInputs) =>
        EagerIsland.Run(parameters, forward, inputs, needInputs);

    /// <summary>How a fused group over several values reads each of them (broadcast to the group's shape).</summary>
    public static GroupBroadcast PlanBroadcast(string op, Tensor[] values) => GroupBroadcast.Plan(op, values);

    /// <summary>Reserves the generator's counters for <paramref name="count"/> dropout draws, in Forward's order.</summary>
    public static DropoutDraw ReserveDropout(long count, double p) => DropoutDraw.Reserve(count, p);

    /// <summary>Eight lanes of a broadcast value from element <paramref name="i"/> of the group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBroadcast(ReadOnlySpan<float> value, int i, BroadcastMap map) => VectorMath.Load(value, i, map);

    /// <summary>A fused loop over <paramref name="total"/> elements, in ranges over Kiln's worker threads.</summary>
    public static void ForRanges(long total, long grain, Action<long, long> body) => Threads.For(total, grain, body);

    /// <summary>The compile mode's tile choices for this model while the scope lasts (MaxAutotune).</summary>
    public static Autotune.Scope EnterTuning(CompileMode mode, string model) => Autotune.Enter(mode, model);

    /// <summary>Makes the ReduceOverhead pool current while the scope lasts (null: nothing changes).</summary>
    public static IDisposable UsePool(MemoryPool? pool) => MemoryPool.Use(pool);

    /// <summary>A tensor handed out of the compiled node, never a block of the pool.</summary>
    public static Tensor? OutsidePool(MemoryPool? pool, Tensor? tensor) => MemoryPool.Outside(pool, tensor);

    /// <summary>Whether a MultiheadAttention layer has the form the compiled self-attention handles.</summary>
    public static bool Fusable(MultiheadAttention layer) => CompiledAttention.Fusable(layer);

    /// <summary>Self-attention of a MultiheadAttention layer (projections included), its state kept for the backward.</summary>
    public static CompiledAttention SelfAttention(FunctionContext ctx, MultiheadAttention layer, Tensor x) => CompiledAttention.Forward(ctx, layer, x);

    /// <summary>The launcher of generated kernel <paramref name="kernel"/> on <paramref name="onDevice"/>'s device.</summary>
    public static TDelegate GpuLauncher<TDelegate>(Tensor onDevice, MethodInfo kernel) where TDelegate : Delegate => GeneratedKernels.Launcher<TDelegate>(onDevice, kernel);

    /// <summary>The stream of <paramref name="onDevice"/>'s device.</summary>
    public static AcceleratorStream GpuStream(Tensor onDevice) => GeneratedKernels.Stream(onDevice);

    /// <summary>A float32 tensor's device memory as a kernel argument.</summary>
    public static ArrayView<float> GpuView(Tensor t) => GeneratedKernels.View(t);

    /// <summary>An empty kernel argument (a mask that is not drawn).</summary>
    public static ArrayView<float> GpuNone => GeneratedKernels.None;

    /// <summary>A dropout mask copied to <paramref name="like"/>'s device (null stays null).</summary>
    public static Tensor? GpuUpload(float[]? mask, Tensor like) => GeneratedKernels.Upload(mask, like);

    /// <summary>The kernel form of a broadcast map.</summary>
    public static GroupIndex GpuIndex(BroadcastMap map) => GroupIndex.Of(map);

    /// <summary>The kernel index that reads a value element for element.</summary>
    public static GroupIndex GpuIdentity => GroupIndex.Identity;
}
