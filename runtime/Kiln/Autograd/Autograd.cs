using System;
using System.Collections.Generic;

namespace Kiln;

/// <summary>Kiln's <c>torch.autograd</c>: grad-mode scopes, functional gradients, anomaly detection and gradient checking.</summary>
public static partial class Autograd
{
    /// <summary>True when ops record the graph on this thread.</summary>
    public static bool IsGradEnabled => GradMode.Enabled;

    /// <summary><c>using (Autograd.NoGrad())</c>: no graph is recorded inside (thread-local, nestable).</summary>
    public static IDisposable NoGrad() => GradMode.Set(false);

    /// <summary>
    /// A differentiable op with a hand-written backward (<c>torch.autograd.Function</c>): <paramref name="forward"/> runs
    /// without recording; its result gets one graph node named after <paramref name="name"/> (<c>MyOpBackward</c>) whose
    /// backward maps the output's gradient to one gradient per input (null where an input gets none). A backward made
    /// of tensor ops is itself differentiable, so <c>createGraph</c> works through it.
    /// </summary>
    public static Tensor Function(string name, IReadOnlyList<Tensor?> inputs, Func<Tensor> forward, Func<Tensor, Tensor?[]> backward) =>
        Function(name, inputs, _ => forward(), backward);

    /// <summary>
    /// <see cref="Function(string, IReadOnlyList{Tensor?}, Func{Tensor}, Func{Tensor, Tensor?[]})"/> whose forward keeps
    /// tensors for the backward through <see cref="FunctionContext.Save"/> (<c>ctx.save_for_backward</c>): they outlive a
    /// <c>Tensor.Scope()</c> or <c>Dispose</c> until the graph is released.
    /// </summary>
    public static Tensor Function(string name, IReadOnlyList<Tensor?> inputs, Func<FunctionContext, Tensor> forward, Func<Tensor, Tensor?[]> backward)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new KilnException("function", "function: a custom function needs a name");
        var context = new FunctionContext();
        Tensor output;
        using (NoGrad()) output = forward(context);
        // The node goes on the result: a forward that hands back one of its inputs gets a copy, so the input keeps its history.
        foreach (var t in inputs)
            if (ReferenceEquals(t, output)) { using (NoGrad()) output = output.Clone(); break; }
        var result = Tensor.RecordFunction(name, output, inputs, backward, context);
        if (result.GradFn?.Context != context) context.Release();   // nothing will run the backward
        return result;
    }

    /// <summary>
    /// Activation checkpointing (<c>torch.utils.checkpoint</c>): runs <paramref name="function"/> on <paramref name="input"/>
    /// without keeping its intermediate tensors, and in the backward runs it again (recording) to get the gradients of the
    /// input and of <paramref name="parameters"/> — memory for compute, per block of a deep model. As torch's
    /// <c>preserve_rng_state</c>, the replay draws from the default generator at the state the forward found, so dropout
    /// masks repeat exactly; the generator is then put back where the rest of the program left it.
    /// </summary>
    public static Tensor Checkpoint(Func<Tensor, Tensor> function, Tensor input, IEnumerable<Tensor> parameters)
    {
        var trainable = new List<Tensor>();
        foreach (var p in parameters) if (p.RequiresGrad) trainable.Add(p);
        var inputs = new List<Tensor?>(trainable.Count + 1) { input };
        inputs.AddRange(trainable);
        var rng = Generator.Default;
        ulong seed = rng.Seed;
        long offset = rng.Offset;
        return Function("Checkpoint", inputs, ctx => { ctx.Save(input); return function(input); }, gradOutput =>
        {
            using var _ = EnableGrad();
            using var replay = input.Detach().RequiresGrad_();
            ulong nowSeed = rng.Seed;
            long nowOffset = rng.Offset;
            rng.SetState(seed, offset);
            Tensor output;
            try { output = function(replay); }
            finally { rng.SetState(nowSeed, nowOffset); }
            var wrt = new List<Tensor>(trainable.Count + 1) { replay };
            wrt.AddRange(trainable);
            return Grad([output], wrt, [gradOutput], allowUnused: true);
        });
    }

    [ThreadStatic] static List<Action>? _queued;

    /// <summary>
    /// Runs <paramref name="callback"/> once the backward pass running on this thread has finished accumulating every
    /// gradient (PyTorch's engine <c>queue_callback</c>; DistributedDataParallel finishes its gradient all-reduce there).
    /// Called outside a backward, it runs at the end of the next one.
    /// </summary>
    public static void QueueCallback(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        (_queued ??= new()).Add(callback);
    }

    internal static void RunQueuedCallbacks()
    {
        while (_queued is { Count: > 0 } list)
        {
            var batch = list.ToArray();
            list.Clear();
            foreach (var c in batch) c();
        }
    }

    internal static void DropQueuedCallbacks() => _queued?.Clear();

    /// <summary>Re-enables recording inside a <see cref="NoGrad"/> scope.</summary>
    public static IDisposable EnableGrad() => GradMode.Set(true);

    /// <summary>Like <see cref="NoGrad"/>, for inference code (Kiln records nothing either way).</summary>
    public static IDisposable InferenceMode() => GradMode.Set(false);

    /// <summary>Inside the scope, the first NaN or infinity produced by a backward function raises an error naming it and its forward op.</summary>
    public static IDisposable DetectAnomaly() => GradMode.BeginAnomaly();

    /// <summary>
    /// Gradients of <paramref name="outputs"/> with respect to <paramref name="inputs"/> (<c>torch.autograd.grad</c>),
    /// without touching any <see cref="Tensor.Grad"/>. With <paramref name="createGraph"/> the results are differentiable.
    /// </summary>
    public static Tensor?[] Grad(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? gradOutputs = null,
        bool? retainGraph = null, bool createGraph = false, bool allowUnused = false) =>
        AutogradEngine.Run(outputs, gradOutputs, retainGraph ?? createGraph, createGraph, inputs, allowUnused)!;

    /// <summary>Gradient of one output with respect to one input.</summary>
    public static Tensor Grad(Tensor output, Tensor input, bool createGraph = false) =>
        Grad(new[] { output }, new[] { input }, createGraph: createGraph)[0]!;

    /// <summary>
    /// Compares analytic gradients with central finite differences in float64 (<c>torch.autograd.gradcheck</c>).
    /// Inputs are converted to float64 copies; returns true or throws a <see cref="KilnException"/> naming the
    /// input, the element and both Jacobian entries.
    /// </summary>
    public static bool GradCheck(Func<Tensor[], Tensor> fn, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        var xs = new Tensor[inputs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            using (GradMode.Set(false)) xs[i] = inputs[i].To(DType.Float64).Clone();
            if (inputs[i].RequiresGrad) xs[i].RequiresGrad_();
        }
        Tensor y = fn(xs);
        long outCount = y.Numel;
        using var yFlat0 = y.Detach();
        var diffInputs = new List<int>();
        for (int i = 0; i < xs.Length; i++) if (xs[i].RequiresGrad) diffInputs.Add(i);
        // Analytic Jacobian rows: one backward per output element.
        var analytic = new double[diffInputs.Count][,];
        for (int k = 0; k < diffInputs.Count; k++) analytic[k] = new double[outCount, xs[diffInputs[k]].Numel];
        for (long o = 0; o < outCount; o++)
        {
            var seed = Tensor.Zeros(y.ShapeArray, DType.Float64);
            using (var flat = seed.Reshape(-1)) flat.Select(0, o).Fill_(1);
            var gs = Grad(new[] { y }, diffInputs.ConvertAll(i => xs[i]), new[] { seed }, retainGraph: true, allowUnused: true);
            for (int k = 0; k < diffInputs.Count; k++)
            {
                if (gs[k] is null) continue;
                var row = gs[k]!.Contiguous().ToArray<double>();
                for (int j = 0; j < row.Length; j++) analytic[k][o, j] = row[j];
            }
        }
        // Numerical Jacobian columns: perturb each input element (fn may itself take gradients, so grad mode stays on).
        for (int k = 0; k < diffInputs.Count; k++)
        {
            var x = xs[diffInputs[k]];
            for (long j = 0; j < x.Numel; j++)
            {
                double orig = Set(x, j, null);
                Set(x, j, orig + eps);
                var plus = fn(xs).To(DType.Float64).Reshape(-1).ToArray<double>();
                Set(x, j, orig - eps);
                var minus = fn(xs).To(DType.Float64).Reshape(-1).ToArray<double>();
                Set(x, j, orig);
                for (long o = 0; o < outCount; o++)
                {
                    double num = (plus[o] - minus[o]) / (2 * eps), ana = analytic[k][o, j];
                    if (Math.Abs(num - ana) > atol + rtol * Math.Abs(num))
                        throw new KilnException("gradcheck",
                            $"gradcheck: Jacobian mismatch for output {o} with respect to input {diffInputs[k]}, element {j}: numerical {num:R}, analytical {ana:R}", KilnErrorKind.Shape);
                }
            }
        }
        return true;
    }

    /// <summary>Reads element j of x (flattened) and, when given, overwrites it outside the graph.</summary>
    static double Set(Tensor x, long j, double? value)
    {
        using var off = GradMode.Set(false);
        using var flat = x.Reshape(-1);
        using var cell = flat.Select(0, j);
        double old = cell.Item<double>();
        if (value is { } v) cell.Fill_(v);
        return old;
    }
}
