using Xunit;

namespace Kiln.Analyzers.Tests.Generation;

/// <summary>Tests that create layers or seed Kiln's default generator run one at a time (dropout draws depend on its state).</summary>
[CollectionDefinition(Name)]
public sealed class DefaultGenerator
{
    public const string Name = "Kiln's default generator";
}
