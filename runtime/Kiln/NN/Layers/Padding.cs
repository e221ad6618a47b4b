using System;

namespace Kiln.NN;

/// <summary>
/// The padding layers (<c>nn.ZeroPad1d/2d/3d</c>, <c>nn.ConstantPad1d/2d/3d</c>, <c>nn.ReflectionPad1d/2d/3d</c>,
/// <c>nn.ReplicationPad1d/2d/3d</c>, <c>nn.CircularPad1d/2d/3d</c>): F.Pad with a fixed mode and (left, right[, top,
/// bottom[, front, back]]) amounts.
/// </summary>
public abstract class PaddingLayer : Module<Tensor, Tensor>
{
    private protected PaddingLayer(string mode, int[] padding, int sides, double value = 0)
    {
        if (padding.Length != 2 * sides)
            throw new KilnException(GetType().Name, $"{GetType().Name}: expected {2 * sides} padding amounts (left, right{(sides >= 2 ? ", top, bottom" : "")}{(sides == 3 ? ", front, back" : "")}), got {padding.Length}");
        Mode = mode;
        Padding = (int[])padding.Clone();
        Value = value;
    }

    private protected static int[] Same(int amount, int sides)
    {
        var all = new int[2 * sides];
        Array.Fill(all, amount);
        return all;
    }

    /// <summary>The amounts: left, right (, top, bottom).</summary>
    public int[] Padding { get; }
    /// <summary>F.Pad's mode: constant, reflect, replicate or circular.</summary>
    public string Mode { get; }
    /// <summary>The fill value of constant padding.</summary>
    public double Value { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Pad(input, Padding, Mode, Value);
    /// <inheritdoc/>
    public override string ExtraRepr() => Py(Padding);
}

/// <summary>Pads the last two dims with zeros (<c>nn.ZeroPad2d</c>).</summary>
public sealed class ZeroPad2d : PaddingLayer
{
    /// <summary>The same amount on all four sides.</summary>
    public ZeroPad2d(int padding) : base("constant", Same(padding, 2), 2) { }
    /// <summary>Left, right, top, bottom.</summary>
    public ZeroPad2d(int[] padding) : base("constant", padding, 2) { }
}

/// <summary>Pads the last dim with a constant (<c>nn.ConstantPad1d</c>).</summary>
public sealed class ConstantPad1d : PaddingLayer
{
    /// <summary>The same amount on both sides.</summary>
    public ConstantPad1d(int padding, double value) : base("constant", Same(padding, 1), 1, value) { }
    /// <summary>Left, right.</summary>
    public ConstantPad1d(int[] padding, double value) : base("constant", padding, 1, value) { }
    /// <inheritdoc/>
    public override string ExtraRepr() => $"padding={Py(Padding)}, value={Py(Value)}";
}

/// <summary>Pads the last two dims with a constant (<c>nn.ConstantPad2d</c>).</summary>
public sealed class ConstantPad2d : PaddingLayer
{
    /// <summary>The same amount on all four sides.</summary>
    public ConstantPad2d(int padding, double value) : base("constant", Same(padding, 2), 2, value) { }
    /// <summary>Left, right, top, bottom.</summary>
    public ConstantPad2d(int[] padding, double value) : base("constant", padding, 2, value) { }
    /// <inheritdoc/>
    public override string ExtraRepr() => $"padding={Py(Padding)}, value={Py(Value)}";
}

/// <summary>Pads the last dim with its reflection (<c>nn.ReflectionPad1d</c>).</summary>
public sealed class ReflectionPad1d : PaddingLayer
{
    /// <summary>The same amount on both sides.</summary>
    public ReflectionPad1d(int padding) : base("reflect", Same(padding, 1), 1) { }
    /// <summary>Left, right.</summary>
    public ReflectionPad1d(int[] padding) : base("reflect", padding, 1) { }
}

/// <summary>Pads the last two dims with their reflection (<c>nn.ReflectionPad2d</c>).</summary>
public sealed class ReflectionPad2d : PaddingLayer
{
    /// <summary>The same amount on all four sides.</summary>
    public ReflectionPad2d(int padding) : base("reflect", Same(padding, 2), 2) { }
    /// <summary>Left, right, top, bottom.</summary>
    public ReflectionPad2d(int[] padding) : base("reflect", padding, 2) { }
}

/// <summary>Pads the last dim by repeating its edge values (<c>nn.ReplicationPad1d</c>).</summary>
public sealed class ReplicationPad1d : PaddingLayer
{
    /// <summary>The same amount on both sides.</summary>
    public ReplicationPad1d(int padding) : base("replicate", Same(padding, 1), 1) { }
    /// <summary>Left, right.</summary>
    public ReplicationPad1d(int[] padding) : base("replicate", padding, 1) { }
}

/// <summary>Pads the last two dims by repeating their edge values (<c>nn.ReplicationPad2d</c>).</summary>
public sealed class ReplicationPad2d : PaddingLayer
{
    /// <summary>The same amount on all four sides.</summary>
    public ReplicationPad2d(int padding) : base("replicate", Same(padding, 2), 2) { }
    /// <summary>Left, right, top, bottom.</summary>
    public ReplicationPad2d(int[] padding) : base("replicate", padding, 2) { }
}

/// <summary>Pads the last dim with zeros (<c>nn.ZeroPad1d</c>).</summary>
public sealed class ZeroPad1d : PaddingLayer
{
    /// <summary>The same amount on both sides.</summary>
    public ZeroPad1d(int padding) : base("constant", Same(padding, 1), 1) { }
    /// <summary>Left, right.</summary>
    public ZeroPad1d(int[] padding) : base("constant", padding, 1) { }
}

/// <summary>Pads the last three dims with zeros (<c>nn.ZeroPad3d</c>).</summary>
public sealed class ZeroPad3d : PaddingLayer
{
    /// <summary>The same amount on all six sides.</summary>
    public ZeroPad3d(int padding) : base("constant", Same(padding, 3), 3) { }
    /// <summary>Left, right, top, bottom, front, back.</summary>
    public ZeroPad3d(int[] padding) : base("constant", padding, 3) { }
}

/// <summary>Pads the last three dims with a constant (<c>nn.ConstantPad3d</c>).</summary>
public sealed class ConstantPad3d : PaddingLayer
{
    /// <summary>The same amount on all six sides.</summary>
    public ConstantPad3d(int padding, double value) : base("constant", Same(padding, 3), 3, value) { }
    /// <summary>Left, right, top, bottom, front, back.</summary>
    public ConstantPad3d(int[] padding, double value) : base("constant", padding, 3, value) { }
    /// <inheritdoc/>
    public override string ExtraRepr() => $"padding={Py(Padding)}, value={Py(Value)}";
}

/// <summary>Pads the last three dims with their reflection (<c>nn.ReflectionPad3d</c>).</summary>
public sealed class ReflectionPad3d : PaddingLayer
{
    /// <summary>The same amount on all six sides.</summary>
    public ReflectionPad3d(int padding) : base("reflect", Same(padding, 3), 3) { }
    /// <summary>Left, right, top, bottom, front, back.</summary>
    public ReflectionPad3d(int[] padding) : base("reflect", padding, 3) { }
}

/// <summary>Pads the last three dims by repeating their edge values (<c>nn.ReplicationPad3d</c>).</summary>
public sealed class ReplicationPad3d : PaddingLayer
{
    /// <summary>The same amount on all six sides.</summary>
    public ReplicationPad3d(int padding) : base("replicate", Same(padding, 3), 3) { }
    /// <summary>Left, right, top, bottom, front, back.</summary>
    public ReplicationPad3d(int[] padding) : base("replicate", padding, 3) { }
}

/// <summary>Pads the last dim by wrapping around (<c>nn.CircularPad1d</c>).</summary>
public sealed class CircularPad1d : PaddingLayer
{
    /// <summary>The same amount on both sides.</summary>
    public CircularPad1d(int padding) : base("circular", Same(padding, 1), 1) { }
    /// <summary>Left, right.</summary>
    public CircularPad1d(int[] padding) : base("circular", padding, 1) { }
}

/// <summary>Pads the last two dims by wrapping around (<c>nn.CircularPad2d</c>).</summary>
public sealed class CircularPad2d : PaddingLayer
{
    /// <summary>The same amount on all four sides.</summary>
    public CircularPad2d(int padding) : base("circular", Same(padding, 2), 2) { }
    /// <summary>Left, right, top, bottom.</summary>
    public CircularPad2d(int[] padding) : base("circular", padding, 2) { }
}

/// <summary>Pads the last three dims by wrapping around (<c>nn.CircularPad3d</c>).</summary>
public sealed class CircularPad3d : PaddingLayer
{
    /// <summary>The same amount on all six sides.</summary>
    public CircularPad3d(int padding) : base("circular", Same(padding, 3), 3) { }
    /// <summary>Left, right, top, bottom, front, back.</summary>
    public CircularPad3d(int[] padding) : base("circular", padding, 3) { }
}
