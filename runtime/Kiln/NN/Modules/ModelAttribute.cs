using System;

namespace Kiln.NN;

/// <summary>
/// Marks a module class for Kiln's build-time compiler: its shapes are checked as you type (diagnostics KLN0001…,
/// docs/diagnostics.md) from the layers its fields hold and the <see cref="ShapeAttribute"/> of its
/// <c>Forward</c> parameters. The class should be <c>partial</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ModelAttribute : Attribute
{
}

/// <summary>
/// The shape of a tensor parameter or return value, as space-separated dims: integers, or names that stand for one
/// size throughout the model — a constructor parameter (<c>inputSize</c>) or any other name (<c>N</c>, the batch).
/// Example: <c>[Shape("N 1 28 28")]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.ReturnValue, Inherited = false)]
public sealed class ShapeAttribute(string dims) : Attribute
{
    /// <summary>The dims as written.</summary>
    public string Dims { get; } = dims;
}
