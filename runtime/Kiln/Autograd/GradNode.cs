using System;
using System.Globalization;
using System.Text;
using Kiln.Compiler.Autodiff;
using Kiln.Compiler.Ops;

namespace Kiln;

/// <summary>
/// One recorded op in the autograd graph (<c>tensor.grad_fn</c>): what it saved from the forward pass,
/// where each input's gradient goes, and the op name its derivative rule is filed under.
/// </summary>
public sealed class GradNode : IGradContext<Tensor>
{
    static long _sequence;

    /// <summary>What the node knows about one input: its saved value and version, shape and dtype, and where its gradient goes.</summary>
    internal struct InputInfo
    {
        public Tensor? Saved;
        public int Version;
        public int[] Shape;
        public DType DType;
        /// <summary>The node that produced the input, or null.</summary>
        public GradNode? Next;
        /// <summary>The leaf that accumulates the input's gradient, or null.</summary>
        public Tensor? Leaf;
    }

    // One array for everything per input: recording an op allocates the node and this, nothing else.
    readonly InputInfo[] _inputs;
    Tensor? _savedOutput;
    int _outputVersion;
    bool _released;

    internal readonly string Op;
    /// <summary>The backward of a user-defined function (Autograd.Function), used instead of the registry's rule.</summary>
    internal Func<Tensor, Tensor?[]>? Custom;
    /// <summary>What a user-defined function's forward saved for its backward (released with the node).</summary>
    internal FunctionContext? Context;
    internal readonly OpArgs OpArgs;
    internal readonly long Sequence;
    /// <summary>The output tensor, kept only once it has hooks or retains its gradient.</summary>
    internal Tensor? HookOwner;

    internal GradNode(string op, OpArgs? args, Tensor?[] inputs, Tensor output)
    {
        Op = op;
        OpArgs = args ?? OpArgs.None;
        Sequence = System.Threading.Interlocked.Increment(ref _sequence);
        _savedOutput = output;
        output.Pin();
        _outputVersion = output.Storage.Version;
        _inputs = new InputInfo[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var t = inputs[i];
            ref var info = ref _inputs[i];
            if (t == null) { info.Shape = Array.Empty<int>(); continue; }
            info.Saved = t;
            t.Pin();
            info.Version = t.Storage.Version;
            info.Shape = t.ShapeArray; // shape arrays are never mutated, so no copy
            info.DType = t.DType;
            if (!t.RequiresGrad) continue;
            if (t.GradFn != null) info.Next = t.GradFn;
            else info.Leaf = t;
        }
    }

    internal int InputCount => _inputs.Length;
    internal GradNode? NextNode(int i) => _inputs[i].Next;
    internal Tensor? NextLeaf(int i) => _inputs[i].Leaf;
    /// <summary>The value input <paramref name="i"/> had when the op ran (exporters read constants and parameters from it).</summary>
    internal Tensor? SavedInput(int i) => _inputs[i].Saved;
    /// <summary>The shape input <paramref name="i"/> had.</summary>
    internal int[] InputShape(int i) => _inputs[i].Shape;
    /// <summary>The op's arguments (dims, window geometry, ...).</summary>
    internal OpArgs Args => OpArgs;
    /// <summary>The op's registry name (<c>conv2d</c>, <c>addmm</c>, ...).</summary>
    internal string OpName => Op;
    /// <summary>The output the op produced, while the node holds it.</summary>
    internal Tensor? SavedOutput => _savedOutput;

    /// <summary>PyTorch-style name, e.g. <c>MulBackward</c>.</summary>
    public string Name
    {
        get
        {
            var sb = new StringBuilder();
            foreach (var part in Op.Split('_'))
                if (part.Length > 0) sb.Append(char.ToUpper(part[0], CultureInfo.InvariantCulture)).Append(part, 1, part.Length - 1);
            return sb.Append("Backward").ToString();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"<{Name}>";

    /// <summary>True once backward freed what this node saved.</summary>
    public bool IsReleased => _released;

    /// <summary>The dtype input <paramref name="i"/> had; its gradient is cast back to it.</summary>
    internal DType InputDType(int i) => _inputs[i].DType;

    internal void Release()
    {
        if (_released) return;
        _released = true;
        _savedOutput?.Unpin();
        _savedOutput = null;
        Context?.Release();
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i].Saved?.Unpin();
            _inputs[i].Saved = null;
        }
    }

    /// <summary>After an in-place op the same tensor object holds the new value; it becomes this node's output.</summary>
    internal void Rebind(Tensor output)
    {
        output.Pin();
        _savedOutput?.Unpin();
        _savedOutput = output;
        _outputVersion = output.Storage.Version;
    }

    // ---- IGradContext<Tensor> ----------------------------------------------------------------------

    Tensor IGradContext<Tensor>.Input(int i) => Check(_released ? throw Freed() : _inputs[i].Saved!, _inputs[i].Version, $"input {i}");
    Tensor IGradContext<Tensor>.Output => Check(_savedOutput ?? throw Freed(), _outputVersion, "output 0");
    int[] IGradContext<Tensor>.InputShape(int i) => _inputs[i].Shape;
    int IGradContext<Tensor>.InputCount => _inputs.Length;
    OpArgs IGradContext<Tensor>.Args => OpArgs;
    bool IGradContext<Tensor>.NeedsGrad(int i) => _inputs[i].Next != null || _inputs[i].Leaf != null;

    static KilnException Freed() => new(null,
        "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). " +
        "Saved intermediate values of the graph are freed when you call Backward() or Autograd.Grad(). " +
        "Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.");

    Tensor Check(Tensor t, int version, string which)
    {
        int now = t.Storage.Version;
        if (now != version)
        {
            string producer = t.GradFn != null ? $", which is output 0 of {t.GradFn.Name}," : "";
            throw new KilnException(Op,
                $"one of the variables needed for gradient computation has been modified by an inplace operation: " +
                $"[{t.DType} [{string.Join(", ", t.Shape)}]]{producer} is at version {now}; expected version {version} instead " +
                $"(it is {which} of {Name}).", KilnErrorKind.State);
        }
        return t;
    }
}
