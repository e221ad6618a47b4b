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
    Tensor?[]? _saved;
    Tensor? _savedOutput;
    readonly int[] _inputVersions;
    int _outputVersion;
    readonly int[][] _shapes;
    readonly DType[] _dtypes;

    internal readonly string Op;
    internal readonly OpArgs OpArgs;
    internal readonly long Sequence;
    /// <summary>Per input: the node that produced it, or null.</summary>
    internal readonly GradNode?[] NextNodes;
    /// <summary>Per input: the leaf tensor that accumulates its gradient, or null.</summary>
    internal readonly Tensor?[] NextLeaves;
    /// <summary>The output tensor, kept only once it has hooks or retains its gradient.</summary>
    internal Tensor? HookOwner;

    internal GradNode(string op, OpArgs? args, Tensor?[] inputs, Tensor output)
    {
        Op = op;
        OpArgs = args ?? OpArgs.None;
        Sequence = System.Threading.Interlocked.Increment(ref _sequence);
        _saved = inputs;
        _savedOutput = output;
        _outputVersion = output.Storage.Version;
        _inputVersions = new int[inputs.Length];
        _shapes = new int[inputs.Length][];
        _dtypes = new DType[inputs.Length];
        NextNodes = new GradNode?[inputs.Length];
        NextLeaves = new Tensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var t = inputs[i];
            if (t == null) { _shapes[i] = Array.Empty<int>(); continue; }
            _inputVersions[i] = t.Storage.Version;
            _dtypes[i] = t.DType;
            _shapes[i] = (int[])t.ShapeArray.Clone();
            if (!t.RequiresGrad) continue;
            if (t.GradFn != null) NextNodes[i] = t.GradFn;
            else NextLeaves[i] = t;
        }
    }

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
    public bool IsReleased => _saved == null;

    /// <summary>The dtype input <paramref name="i"/> had; its gradient is cast back to it.</summary>
    internal DType InputDType(int i) => _dtypes[i];

    internal void Release()
    {
        _saved = null;
        _savedOutput = null;
    }

    /// <summary>After an in-place op the same tensor object holds the new value; it becomes this node's output.</summary>
    internal void Rebind(Tensor output)
    {
        _savedOutput = output;
        _outputVersion = output.Storage.Version;
    }

    // ---- IGradContext<Tensor> ----------------------------------------------------------------------

    Tensor IGradContext<Tensor>.Input(int i) => Check(Saved[i]!, _inputVersions[i], $"input {i}");
    Tensor IGradContext<Tensor>.Output => Check(_savedOutput ?? throw Freed(), _outputVersion, "output 0");
    int[] IGradContext<Tensor>.InputShape(int i) => _shapes[i];
    int IGradContext<Tensor>.InputCount => _shapes.Length;
    OpArgs IGradContext<Tensor>.Args => OpArgs;
    bool IGradContext<Tensor>.NeedsGrad(int i) => NextNodes[i] != null || NextLeaves[i] != null;

    Tensor?[] Saved => _saved ?? throw Freed();

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
                $"(it is {which} of {Name}).");
        }
        return t;
    }
}
