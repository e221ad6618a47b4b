using System;
using System.Collections.Generic;

namespace Kiln.Compilation;

/// <summary>
/// Code the kernel compiler has no fused form for — a layer (BatchNorm, RMSNorm, Embedding, a user's own module) or a
/// tensor expression (<c>h.Softmax(-1)</c>, <c>q.Matmul(k.Transpose(1, 2))</c>) — run inside a compiled model by the eager
/// engine, while the compiled model's other kernels still fuse around it. Its forward records a local autograd graph from
/// detached copies of its inputs and its trainable parameters; the compiled backward asks that graph for their gradients
/// (<c>torch.autograd.grad</c>), so it computes, updates its state (running statistics, random draws) and differentiates
/// exactly as in the eager model.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class EagerIsland
{
    readonly Tensor[] _inputs, _parameters;
    readonly bool[] _needs;
    readonly Tensor _output;

    EagerIsland(Tensor[] inputs, bool[] needs, Tensor output, Tensor[] parameters)
    {
        _inputs = inputs; _needs = needs; _output = output; _parameters = parameters;
        Output = output.Detach();
    }

    /// <summary>The island's output, detached from its local graph (the compiled kernels after it read it).</summary>
    public Tensor Output { get; }

    /// <summary>The trainable parameters of <paramref name="layer"/>, in the order their gradients come back from <see cref="Backward"/>.</summary>
    internal static Tensor[] TrainableParameters(Kiln.NN.Module layer)
    {
        var list = new List<Tensor>();
        foreach (var p in layer.Parameters()) if (p.RequiresGrad) list.Add(p);
        return list.ToArray();
    }

    /// <summary>The tensors among <paramref name="tensors"/> that need a gradient (the model tensors an expression reads).</summary>
    internal static Tensor[] Trainable(params Tensor?[] tensors)
    {
        var list = new List<Tensor>();
        foreach (var t in tensors) if (t is { RequiresGrad: true } && !list.Contains(t)) list.Add(t);
        return list.ToArray();
    }

    /// <summary>A one-input island (a layer's Forward or Call); the input gets a gradient only when <paramref name="needInput"/>.</summary>
    internal static EagerIsland Run(Tensor[] parameters, Func<Tensor, Tensor> forward, Tensor x, bool needInput) =>
        Run(parameters, inputs => forward(inputs[0]), new[] { x }, new[] { needInput });

    /// <summary>
    /// Runs <paramref name="forward"/> on detached copies of <paramref name="inputs"/> with recording on; input i gets a
    /// gradient only when <paramref name="needInputs"/>[i].
    /// </summary>
    internal static EagerIsland Run(Tensor[] parameters, Func<Tensor[], Tensor> forward, Tensor[] inputs, bool[] needInputs)
    {
        using var _ = Autograd.EnableGrad();
        var copies = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            copies[i] = inputs[i].Detach();
            if (needInputs[i] && copies[i].DType.IsFloatingPoint()) copies[i].RequiresGrad_();
            else needInputs[i] = false;
        }
        var output = forward(copies);
        return new EagerIsland(copies, needInputs, output, parameters);
    }

    /// <summary>The gradients of the inputs (null where not asked) and of each parameter (null where the output does not depend on it).</summary>
    public (Tensor?[] Inputs, Tensor?[] Parameters) Backward(Tensor grad)
    {
        var wrt = new List<Tensor>(_parameters.Length + _inputs.Length);
        for (int i = 0; i < _inputs.Length; i++) if (_needs[i]) wrt.Add(_inputs[i]);
        wrt.AddRange(_parameters);
        var inputs = new Tensor?[_inputs.Length];
        var parameters = new Tensor?[_parameters.Length];
        if (wrt.Count == 0 || !_output.RequiresGrad) return (inputs, parameters);
        var grads = Autograd.Grad(new[] { _output }, wrt, new Tensor?[] { grad }, allowUnused: true);
        int k = 0;
        for (int i = 0; i < _inputs.Length; i++) if (_needs[i]) inputs[i] = grads[k++];
        Array.Copy(grads, k, parameters, 0, _parameters.Length);
        return (inputs, parameters);
    }
}
