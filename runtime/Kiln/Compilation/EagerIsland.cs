using System;
using System.Collections.Generic;

namespace Kiln.Compilation;

/// <summary>
/// A layer the kernel compiler has no fused form for (BatchNorm, RMSNorm, a user's own module, ...), run inside a
/// compiled model by the eager engine — the compiled model's other kernels still fuse around it. Its forward records a
/// local autograd graph from a detached copy of its input and the layer's trainable parameters; the compiled backward
/// asks that graph for their gradients (<c>torch.autograd.grad</c>), so the layer computes, updates its state (running
/// statistics, random draws) and differentiates exactly as in the eager model.
/// </summary>
public sealed class EagerIsland
{
    readonly Tensor _input, _output;
    readonly Tensor[] _parameters;
    readonly bool _needInput;

    EagerIsland(Tensor input, Tensor output, Tensor[] parameters, bool needInput)
    {
        _input = input; _output = output; _parameters = parameters; _needInput = needInput;
        Output = output.Detach();
    }

    /// <summary>The layer's output, detached from the island's local graph (the compiled kernels after it read it).</summary>
    public Tensor Output { get; }

    /// <summary>The trainable parameters of <paramref name="layer"/>, in the order their gradients come back from <see cref="Backward"/>.</summary>
    public static Tensor[] TrainableParameters(Kiln.NN.Module layer)
    {
        var list = new List<Tensor>();
        foreach (var p in layer.Parameters()) if (p.RequiresGrad) list.Add(p);
        return list.ToArray();
    }

    /// <summary>
    /// Runs <paramref name="forward"/> (the layer's Forward or Call) on <paramref name="x"/> with recording on; the input
    /// gets a gradient only when <paramref name="needInput"/>.
    /// </summary>
    public static EagerIsland Run(Tensor[] parameters, Func<Tensor, Tensor> forward, Tensor x, bool needInput)
    {
        using var _ = Autograd.EnableGrad();
        var input = x.Detach();
        if (needInput) input.RequiresGrad_();
        var output = forward(input);
        return new EagerIsland(input, output, parameters, needInput);
    }

    /// <summary>The gradients of the input (null when not asked) and of each parameter (null where the output does not depend on it).</summary>
    public (Tensor? Input, Tensor?[] Parameters) Backward(Tensor grad)
    {
        var wrt = new List<Tensor>(_parameters.Length + 1);
        if (_needInput) wrt.Add(_input);
        wrt.AddRange(_parameters);
        if (wrt.Count == 0 || !_output.RequiresGrad) return (null, new Tensor?[_parameters.Length]);
        var grads = Autograd.Grad(new[] { _output }, wrt, new Tensor?[] { grad }, allowUnused: true);
        var result = new Tensor?[_parameters.Length];
        Array.Copy(grads, _needInput ? 1 : 0, result, 0, _parameters.Length);
        return (_needInput ? grads[0] : null, result);
    }
}
