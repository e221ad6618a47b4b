using System;
using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>
/// One parametrized tensor (<c>ParametrizationList</c>): its originals as parameters (<c>original</c>, or
/// <c>original0</c>, <c>original1</c>, … when the right inverse gives several) and the parametrization as child
/// <c>0</c>, so state dicts use PyTorch's keys (<c>parametrizations.weight.original0</c>).
/// </summary>
public sealed class ParametrizationList : Module
{
    readonly string[] _originals;

    internal ParametrizationList(Parametrization parametrization, Tensor value, bool wasBuffer)
    {
        WasBuffer = wasBuffer;
        RegisterModule("0", parametrization);
        Tensor[] originals;
        using (Autograd.NoGrad()) originals = parametrization.RightInverse(value);
        if (originals.Length == 0)
            throw new KilnException("register_parametrization", $"register_parametrization: {parametrization.GetType().Name}.RightInverse returned no tensors", KilnErrorKind.Argument);
        _originals = new string[originals.Length];
        for (int i = 0; i < originals.Length; i++)
        {
            _originals[i] = originals.Length == 1 ? "original" : "original" + i;
            // The originals train in place of the tensor: leaves that require gradients when it did.
            var leaf = originals[i].Detach().Contiguous();
            RegisterParameter(_originals[i], value.RequiresGrad ? leaf.RequiresGrad_() : leaf);
        }
    }

    /// <summary>Whether the tensor was a buffer (removing the parametrization makes it one again).</summary>
    internal bool WasBuffer { get; }

    /// <summary>The parametrization.</summary>
    public Parametrization Parametrization => Child<Parametrization>("0");

    /// <summary>The original tensors, in order.</summary>
    public IReadOnlyList<Tensor> Originals
    {
        get
        {
            var list = new Tensor[_originals.Length];
            for (int i = 0; i < list.Length; i++) list[i] = TensorMember(_originals[i])!;
            return list;
        }
    }

    /// <summary>The parametrized tensor, computed now from the originals (recorded, so gradients reach them).</summary>
    public Tensor Value => Parametrization.Forward(Originals);

    /// <inheritdoc/>
    protected override string TypeName => "ParametrizationList";
}
