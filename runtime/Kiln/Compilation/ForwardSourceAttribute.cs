using System;
using System.ComponentModel;

namespace Kiln.Compilation;

/// <summary>
/// The source file of a built-in composite layer, embedded by Kiln's build so that the [Model] generator can read the
/// layer's Forward in a user's build. Not for use in user code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ForwardSourceAttribute : Attribute
{
    /// <summary>Records <paramref name="source"/>, the text of the file that declares the layer.</summary>
    public ForwardSourceAttribute(string source) => Source = source;

    /// <summary>The text of the file that declares the layer.</summary>
    public string Source { get; }
}
