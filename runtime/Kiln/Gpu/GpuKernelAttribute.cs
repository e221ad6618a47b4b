using System;

namespace Kiln.Gpu;

/// <summary>
/// Marks a static method as a GPU kernel (an ILGPU kernel method). The build step (<c>Kiln.Build</c>) compiles every marked
/// method to PTX ahead of time; a generic kernel is compiled once per attribute, closed over that attribute's type arguments.
/// </summary>
/// <remarks>
/// A kernel whose first parameter is an ILGPU index (<c>Index1D</c>, ...) is implicitly grouped; any other kernel is
/// explicitly grouped and launched with a <c>KernelConfig</c>.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class GpuKernelAttribute : Attribute
{
    /// <summary>A kernel compiled as declared (non-generic) or closed over <paramref name="typeArguments"/>.</summary>
    public GpuKernelAttribute(params Type[] typeArguments) => TypeArguments = typeArguments;

    /// <summary>The generic arguments of this instantiation; empty for a non-generic kernel.</summary>
    public Type[] TypeArguments { get; }
}
