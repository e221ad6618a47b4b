namespace Kiln.NN;

/// <summary>
/// Marks a built-in layer whose Forward is written in the subset the [Model] generator reads: Kiln's build embeds the
/// layer's source (<see cref="Compilation.ForwardSourceAttribute"/>), and a compiled model that uses the layer reads its
/// real Forward from there, with the settings its creation gives, instead of a hand-written expansion.
/// </summary>
[System.AttributeUsage(System.AttributeTargets.Class, Inherited = false)]
internal sealed class ComposedLayerAttribute : System.Attribute
{
}
