using System.Collections.Generic;
using Kiln.Compiler.Autodiff;
using Kiln.Compiler.Ops;

namespace Kiln.Compilation;

/// <summary>
/// One forward call as a compiled kernel kept it (its inputs, output and arguments), so its backward is the registry's
/// derivative rule (<see cref="Derivatives"/>) run on tensors rather than a second hand-written derivative.
/// </summary>
internal sealed class SavedCall : IGradContext<Tensor>
{
    readonly Tensor[] _inputs;
    readonly Tensor _output;

    SavedCall(Tensor[] inputs, Tensor output, OpArgs args) { _inputs = inputs; _output = output; Args = args; }

    public Tensor Input(int i) => _inputs[i];
    public Tensor Output => _output;
    public int[] InputShape(int i) => (int[])_inputs[i].ShapeArray.Clone();
    public int InputCount => _inputs.Length;
    public OpArgs Args { get; }
    public bool NeedsGrad(int i) => true;

    /// <summary>The gradients of <paramref name="op"/>'s inputs, unrecorded.</summary>
    public static Tensor?[] Backward(string op, Tensor[] inputs, Tensor output, Tensor grad, OpArgs? args = null)
    {
        using (Autograd.NoGrad())
            return Derivatives.Backward(op, TensorAlgebra.Instance, new SavedCall(inputs, output, args ?? OpArgs.None), grad);
    }
}
