using System;
using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Peft;

/// <summary>
/// The down/up module pairs of a linear-like LoRA layer (<c>lora_A</c>, <c>lora_B</c>, <c>lora_dropout</c>, PEFT's
/// ModuleDicts keyed by adapter name) and the forward they add: result + B(A(dropout(x)))·scale per active adapter.
/// </summary>
internal sealed class LoraPairs
{
    public ModuleDict<Module<Tensor, Tensor>> A { get; } = new();
    public ModuleDict<Module<Tensor, Tensor>> B { get; } = new();
    public ModuleDict<Module<Tensor, Tensor>> Dropout { get; } = new();

    /// <summary>The three dictionaries under PEFT's names, for the host layer to register.</summary>
    public IEnumerable<(string Name, Module Module)> Members => [("lora_A", A), ("lora_B", B), ("lora_dropout", Dropout)];

    public void Add(LoraAdapters lora, string name, int r, double scaling, double dropout, LoraInit init,
        Func<Module<Tensor, Tensor>> down, Func<Module<Tensor, Tensor>> up, DType dtype)
    {
        var a = down();
        var b = up();
        LoraMath.InitLinearPair(Weight(a), Weight(b), r, init);
        if (dtype != DType.Float32) { a.To(dtype); b.To(dtype); }
        A[name] = a; B[name] = b;
        Dropout[name] = dropout > 0 ? new Kiln.NN.Dropout(dropout) : new Identity();
        lora.Add(name, r, scaling);
    }

    public void Remove(LoraAdapters lora, string name)
    {
        A.Remove(name); B.Remove(name); Dropout.Remove(name); lora.Remove(name);
    }

    public Tensor Forward(LoraAdapters lora, Tensor result, Tensor x)
    {
        foreach (var n in lora.Unmerged())
        {
            var a = A[n];
            var xin = x.DType == Weight(a).DType ? x : x.To(Weight(a).DType);
            var update = B[n].Forward(a.Forward(Dropout[n].Forward(xin))).Mul(lora.Scaling(n));
            result = result.Add(update.DType == result.DType ? update : update.To(result.DType));
        }
        return result;
    }

    /// <summary>
    /// The active pairs as low-rank terms a compiled model fuses (A's and B's weights, the scale), or null when the
    /// forward is not that sum: a dropout that drops now, or weights other than float32 on the CPU.
    /// </summary>
    public IReadOnlyList<LowRankTerm>? Terms(LoraAdapters lora)
    {
        var terms = new List<LowRankTerm>();
        foreach (var n in lora.Unmerged())
        {
            if (A[n] is not Linear a || B[n] is not Linear b || !FusableWeight(a.Weight) || !FusableWeight(b.Weight)) return null;
            if (Dropout[n] is Kiln.NN.Dropout { Training: true, P: > 0 }) return null;
            terms.Add(new LowRankTerm(a.Weight, b.Weight, lora.Scaling(n)));
        }
        return terms;
    }

    /// <summary>Whether a weight is one the compiled CPU kernels read (float32, on the CPU).</summary>
    public static bool FusableWeight(Tensor w) => w.DType == DType.Float32 && !w.IsCuda;

    /// <summary>scale·(B·A) as a [out, in·k…] product of the two weights, float32.</summary>
    public Tensor Product(LoraAdapters lora, string name)
    {
        var a = Weight(A[name]).To(DType.Float32);
        var b = Weight(B[name]).To(DType.Float32);
        return b.Reshape(b.Size(0), -1).Matmul(a.Reshape(a.Size(0), -1)).Mul(lora.Scaling(name));
    }

    public IEnumerable<(string, Tensor)> Tensors(string name)
    {
        yield return ("lora_A.weight", Weight(A[name]));
        yield return ("lora_B.weight", Weight(B[name]));
    }

    static Tensor Weight(Module m) => m switch
    {
        Linear l => l.Weight,
        ConvBase c => c.Weight,
        _ => throw new InvalidOperationException($"LoRA: unexpected adapter module {m.GetType().Name}"),
    };
}
