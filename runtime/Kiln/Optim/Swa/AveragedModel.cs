using System;
using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Optim.Swa;

/// <summary>
/// How an averaged tensor moves towards a model's: the new average from the current one, the model's value and how
/// many models were averaged before (<c>avg_fn</c>).
/// </summary>
/// <param name="averaged">The running average (read only; return a new tensor).</param>
/// <param name="current">The model's tensor now.</param>
/// <param name="numAveraged">How many models the average holds so far (1 or more when this is called).</param>
public delegate Tensor AverageFunction(Tensor averaged, Tensor current, long numAveraged);

/// <summary>
/// A copy of a model whose parameters are a running average of the model's over training
/// (<c>torch.optim.swa_utils.AveragedModel</c>): stochastic weight averaging by default (the equal-weight mean of every
/// <see cref="UpdateParameters"/> call), or an exponential moving average with <see cref="Ema"/>. The copy's state dict
/// holds <c>n_averaged</c> and the model's keys under <c>module.</c>, as PyTorch's.
/// </summary>
/// <remarks>
/// C# has no general deep copy, so the copy is built by <c>create</c> (a fresh instance of the same architecture) and
/// then given the model's parameters and buffers through its state dict.
/// </remarks>
/// <typeparam name="T">The model's type.</typeparam>
/// <example>
/// <code>
/// var swa = new AveragedModel&lt;Net&gt;(model, () => new Net());
/// var swaScheduler = new SWALR(optimizer, swaLr: 0.05);
/// // each epoch after the SWA start: swa.UpdateParameters(model); swaScheduler.Step();
/// SwaUtils.UpdateBn(loader, swa.Module);
/// </code>
/// </example>
public sealed class AveragedModel<T> : Module<Tensor, Tensor> where T : Module
{
    readonly AverageFunction _average;

    /// <summary>An averaged copy of <paramref name="model"/>, built by <paramref name="create"/> and loaded with the model's state.</summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="create">Builds a fresh model of the same architecture (its initial values are overwritten).</param>
    /// <param name="device">Where the copy lives (the model's device when null).</param>
    /// <param name="avgFn">The averaging rule; the equal-weight running mean when null.</param>
    /// <param name="useBuffers">Average the buffers too (batch-norm statistics), instead of leaving them to <see cref="SwaUtils.UpdateBn(IEnumerable{Tensor}, Module{Tensor, Tensor}, Device?)"/>.</param>
    /// <exception cref="KilnException">When the copy's state-dict keys or shapes differ from the model's.</exception>
    public AveragedModel(T model, Func<T> create, Device? device = null, AverageFunction? avgFn = null, bool useBuffers = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(create);
        var copy = create() ?? throw new KilnException("AveragedModel", "AveragedModel: create returned null", KilnErrorKind.Argument);
        if (ReferenceEquals(copy, model))
            throw new KilnException("AveragedModel", "AveragedModel: create must build a new model, not return the one being averaged", KilnErrorKind.Argument);
        copy.LoadStateDict(model.StateDict());
        // deepcopy keeps the model's device; a given device moves the copy there.
        if ((device ?? FirstDevice(model)) is { } d) copy.To(d);
        _average = avgFn ?? Mean;
        UseBuffers = useBuffers;
        RegisterModule("module", copy);
        RegisterBuffer("n_averaged", Tensor.Scalar(0L).To(device ?? Device.Cpu));
    }

    /// <summary>The averaged copy.</summary>
    public T Module => Child<T>("module");

    /// <summary>Whether buffers are averaged with the parameters.</summary>
    public bool UseBuffers { get; }

    /// <summary>How many models the average holds (<c>n_averaged</c>).</summary>
    public long NumAveraged => TensorMember("n_averaged")!.Item<long>();

    /// <summary>Runs the averaged copy (the copy must take one tensor).</summary>
    public override Tensor Forward(Tensor input) => Module is Module<Tensor, Tensor> m
        ? m.Forward(input)
        : throw new KilnException("AveragedModel", $"AveragedModel: {typeof(T).Name} does not take one tensor; call Module's own forward", KilnErrorKind.Unsupported);

    /// <summary>
    /// Folds <paramref name="model"/>'s current parameters (and buffers, with <see cref="UseBuffers"/>) into the average
    /// (<c>update_parameters</c>): the first call copies them, later ones apply the averaging rule. Tensors pair up in
    /// registration order, as PyTorch's zip.
    /// </summary>
    /// <exception cref="KilnException">When the model's tensors do not pair up with the copy's in count and shape; nothing changes then.</exception>
    public void UpdateParameters(T model)
    {
        const string op = "AveragedModel.update_parameters";
        ArgumentNullException.ThrowIfNull(model);
        var mine = Tensors(Module);
        var theirs = Tensors(model);
        if (mine.Count != theirs.Count)
            throw new KilnException(op, $"{op}: the model has {theirs.Count} {(UseBuffers ? "parameters and buffers" : "parameters")}, the average {mine.Count}", KilnErrorKind.Argument);
        for (int i = 0; i < mine.Count; i++)
            if (!Compiler.Shapes.ShapeRules.SameShape(mine[i].ShapeArray, theirs[i].ShapeArray))
                throw new KilnException(op, $"{op}: tensor {i} of the model has shape {Compiler.Shapes.ShapeText.Format(theirs[i].ShapeArray)}, the average's {Compiler.Shapes.ShapeText.Format(mine[i].ShapeArray)}", KilnErrorKind.Shape);
        long n = NumAveraged;
        using (Autograd.NoGrad())
        {
            for (int i = 0; i < mine.Count; i++)
            {
                var target = mine[i];
                using var current = theirs[i].Device == target.Device ? theirs[i].Detach() : theirs[i].To(target.Device);
                if (n == 0) { target.Copy_(current); continue; }
                if (!target.DType.IsFloatingPoint())
                {
                    // An integer buffer (num_batches_tracked): PyTorch's rule in floating point, truncated as it is stored.
                    using var wideTarget = target.To(DType.Float64);
                    using var wideCurrent = current.To(DType.Float64);
                    using var averagedWide = _average(wideTarget, wideCurrent, n);
                    using var truncated = averagedWide.Trunc();
                    target.Copy_(truncated);
                    continue;
                }
                using var averaged = _average(target, current, n);
                target.Copy_(averaged);
            }
            var count = TensorMember("n_averaged")!;
            using var one = Tensor.Scalar(1L);   // an int64 one: a double would promote the count to float
            using var placed = one.To(count.Device);
            count.Add_(placed);
        }
    }

    static Device? FirstDevice(Module m)
    {
        foreach (var p in m.Parameters()) return p.Device;
        return null;
    }

    List<Tensor> Tensors(Module m)
    {
        var list = new List<Tensor>();
        foreach (var p in m.Parameters()) list.Add(p);
        if (UseBuffers) foreach (var b in m.Buffers()) list.Add(b);
        return list;
    }

    /// <summary>The equal-weight running mean: averaged + (current - averaged)/(n + 1).</summary>
    static Tensor Mean(Tensor averaged, Tensor current, long numAveraged)
    {
        using var step = current - averaged;
        using var share = step / (double)(numAveraged + 1);
        return averaged + share;
    }

    /// <summary>The exponential moving average decay·averaged + (1 - decay)·current (PyTorch 2's <c>get_ema_avg_fn</c>).</summary>
    /// <param name="decay">How much of the average each update keeps, in [0, 1].</param>
    public static AverageFunction Ema(double decay = 0.999)
    {
        if (!(decay is >= 0 and <= 1))
            throw new KilnException("AveragedModel", $"AveragedModel: the EMA decay must be in [0, 1], got {decay}", KilnErrorKind.Argument);
        return (averaged, current, _) =>
        {
            using var kept = averaged * decay;
            using var added = current * (1 - decay);
            return kept + added;
        };
    }
}
