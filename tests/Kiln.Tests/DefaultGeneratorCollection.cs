using Xunit;

namespace Kiln.Tests;

/// <summary>
/// Tests that seed <see cref="Generator.Default"/> (process-wide, as PyTorch's default generator) and then compare draws
/// — dropout masks replayed, compiled against eager — run alone: another test class drawing from it on a parallel
/// thread between the seed and the draw would change their numbers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DefaultGeneratorCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Default generator";
}
