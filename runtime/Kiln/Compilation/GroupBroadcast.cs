using Kiln.Compiler.Shapes;

namespace Kiln.Compilation;

/// <summary>
/// Where element i of a fused group reads one of its values: <c>(i / Div) % Mod</c> — the value itself (Div 1, Mod its
/// size), a trailing block ([D] against [N, D]), a leading block ([N, 1] against [N, D]) or a single number. A value
/// broadcast some other way is expanded into a full-size copy first, so every broadcast PyTorch accepts works.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public readonly struct BroadcastMap
{
    internal BroadcastMap(int div, int mod, bool full, int[] shape) { Div = div; Mod = mod; Full = full; Shape = shape; }

    /// <summary>Divisor of the group index.</summary>
    public int Div { get; }
    /// <summary>Modulus after the division.</summary>
    public int Mod { get; }
    /// <summary>Whether the value is read element for element (index i).</summary>
    public bool Full { get; }
    /// <summary>The value's own shape (its gradient is summed back to it).</summary>
    public int[] Shape { get; }
    /// <summary>The value's element read at group index <paramref name="i"/>.</summary>
    public int Index(int i) => i / Div % Mod;
}

/// <summary>The shape a fused group of elementwise ops computes over (its values broadcast together) and how it reads each value.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class GroupBroadcast
{
    GroupBroadcast(int[] shape, BroadcastMap[] maps, Tensor[] values) { Shape = shape; Maps = maps; Values = values; }

    /// <summary>The group's shape.</summary>
    public int[] Shape { get; }
    /// <summary>How the group reads each value, in order.</summary>
    public BroadcastMap[] Maps { get; }
    /// <summary>The values as the group reads them (expanded copies where needed).</summary>
    public Tensor[] Values { get; }

    /// <summary>
    /// Broadcasts <paramref name="values"/> (contiguous) by PyTorch's rules — a clear error naming the shapes otherwise —
    /// replacing any value whose broadcast is not one block of dims by its expanded copy.
    /// </summary>
    internal static GroupBroadcast Plan(string op, Tensor[] values)
    {
        foreach (var v in values)
            if (v.DType != DType.Float32)
                throw new KilnException(op, $"{op}: compiled models compute in float32, got a {v.DType} value of shape {ShapeText.Format(v.ShapeArray)} (keep the model's tensors float32, or run the eager model)", KilnErrorKind.DType);
        int[] shape = values[0].ShapeArray;
        for (int k = 1; k < values.Length; k++) shape = ShapeRules.Broadcast(op, shape, values[k].ShapeArray);
        var maps = new BroadcastMap[values.Length];
        for (int k = 0; k < values.Length; k++)
        {
            var own = (int[])values[k].ShapeArray.Clone();
            if (Block(shape, own) is { } m) { maps[k] = new BroadcastMap(m.Div, m.Mod, ShapeRules.SameShape(own, shape), own); continue; }
            using (Autograd.NoGrad()) using (var expanded = values[k].Expand(shape)) values[k] = expanded.Contiguous();
            maps[k] = new BroadcastMap(1, checked((int)ShapeRules.Numel(shape)), true, own);
        }
        return new GroupBroadcast(shape, maps, values);
    }

    /// <summary>(Div, Mod) when the value's non-broadcast dims (aligned right) form one contiguous block; otherwise null.</summary>
    static (int Div, int Mod)? Block(int[] shape, int[] own)
    {
        int lead = shape.Length - own.Length;
        int first = -1, last = -1;
        for (int i = 0; i < shape.Length; i++)
        {
            int d = i < lead ? 1 : own[i - lead];
            if (d == shape[i] && d != 1) { if (first < 0) first = i; last = i; }
        }
        if (first < 0) return (1, 1);                                   // a single number
        long div = 1, mod = 1;
        for (int i = first; i <= last; i++)
        {
            int d = i < lead ? 1 : own[i - lead];
            if (d != shape[i]) return null;                            // broadcast inside the block
            mod *= d;
        }
        for (int i = last + 1; i < shape.Length; i++) div *= shape[i];
        return (checked((int)div), checked((int)mod));
    }

    /// <summary>A group-shaped gradient summed back to value <paramref name="k"/>'s shape.</summary>
    public Tensor SumTo(Tensor grad, int k)
    {
        if (Maps[k].Full && ShapeRules.SameShape(Maps[k].Shape, Shape)) return grad;
        using (Autograd.NoGrad()) return TensorAlgebra.Instance.SumTo(grad, Maps[k].Shape);
    }
}
