using Kiln.Analyzers.FrontEnd;
using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generators;

/// <summary>How a field becomes a module member.</summary>
internal enum MemberKind
{
    Module, Parameter, Buffer, TrainableTensor,
    /// <summary>A number or flag (heads, a scale): not registered, only exposed to models that inline this one.</summary>
    Setting,
}

/// <summary>One member field or auto-property of a [Model] class (what the generated registration needs, nothing else).</summary>
internal sealed record MemberInfo(string Access, string Name, string TypeName, MemberKind Kind, bool Writable, bool Persistent, bool Exposable = false);

/// <summary>Where something is in the source, as plain values (a Location is not comparable across compilations).</summary>
internal sealed record SourceSpot(string Path, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    public static SourceSpot? Of(SyntaxNode? node) => node is null ? null : Of(node.GetLocation());

    public static SourceSpot? Of(Location? location)
    {
        if (location is null || location.SourceTree is null) return null;
        var span = location.GetLineSpan();
        return new SourceSpot(location.SourceTree.FilePath, location.SourceSpan.Start, location.SourceSpan.Length, span.StartLinePosition.Line,
            span.StartLinePosition.Character, span.EndLinePosition.Line, span.EndLinePosition.Character);
    }

    public Location ToLocation() => Location.Create(Path, new Microsoft.CodeAnalysis.Text.TextSpan(Start, Length),
        new Microsoft.CodeAnalysis.Text.LinePositionSpan(new(StartLine, StartColumn), new(EndLine, EndColumn)));
}

/// <summary>Forward's signature (for the eager fallback) and its compiled form, or why there is none.</summary>
internal sealed record ForwardInfo(string ReturnType, string Parameters, string Arguments, Kiln.Compiler.Ir.IrGraph? Graph, Kiln.Compiler.Ir.IrGraph? EvalGraph,
    string? NotCompiled, SourceSpot? NotCompiledAt, EquatableArray<IslandInfo> Islands, SourceSpot? At = null, Kiln.Compiler.Ir.IrGraph? NullGraph = null,
    Kiln.Compiler.Ir.IrGraph? NullEvalGraph = null)
{
    public static ForwardInfo From(IMethodSymbol forward, SemanticModel semantics, CancellationToken cancel)
    {
        var format = SymbolDisplayFormat.FullyQualifiedFormat;
        // As declared (Tensor? and a default null kept), so the eager fallback's Forward takes the same calls.
        var typeFormat = format.AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);
        string parameters = string.Join(", ", forward.Parameters.Select(p => p.Type.ToDisplayString(typeFormat) + " " + p.Name
            + (p.HasExplicitDefaultValue ? " = " + (p.ExplicitDefaultValue is null ? "default" : Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatPrimitive(p.ExplicitDefaultValue, quoteStrings: true, useHexadecimalNumbers: false)) : "")));
        string arguments = string.Join(", ", forward.Parameters.Select(p => p.Name));
        var read = GraphLowering.Lower(forward, semantics, cancel);
        return new ForwardInfo(forward.ReturnType.ToDisplayString(format), parameters, arguments, read.Graph, read.EvalGraph,
            read.Graph is null ? read.Unsupported : null, read.Graph is null ? SourceSpot.Of(read.Where) : null,
            new EquatableArray<IslandInfo>(read.Graph is null ? ImmutableArray<IslandInfo>.Empty
                : read.Islands.Select(i => new IslandInfo(i.Layer, SourceSpot.Of(i.Where))).Distinct().ToImmutableArray()),
            SourceSpot.Of(forward.Locations.FirstOrDefault()), read.NullGraph, read.NullEvalGraph);
    }
}

/// <summary>A layer the compiled model runs eagerly, and where Forward calls it.</summary>
internal sealed record IslandInfo(string Layer, SourceSpot? Where);

/// <summary>A Forward parameter's [Shape], as written.</summary>
internal sealed record ShapeInfo(string Parameter, string Dims);

/// <summary>
/// The pipeline model of one [Model] class: plain strings and equatable arrays only (no symbols or syntax), so the
/// incremental pipeline can compare it across edits and skip regeneration when it is unchanged.
/// </summary>
internal sealed record ModelInfo(string? Namespace, string Name, string TypeParameters, bool Generatable,
    EquatableArray<MemberInfo> Members, EquatableArray<ShapeInfo> Shapes, ForwardInfo? Forward)
{
    public static ModelInfo From(GeneratorAttributeSyntaxContext context, CancellationToken cancel)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (ClassDeclarationSyntax)context.TargetNode;
        // A nested or non-partial class cannot take a generated part (the analyzer says so); it still runs by reflection.
        bool generatable = type.ContainingType is null && declaration.Modifiers.Any(m => m.Text == "partial");
        var members = ImmutableArray.CreateBuilder<MemberInfo>();
        foreach (var m in type.GetMembers())
        {
            cancel.ThrowIfCancellationRequested();
            if (m.IsStatic || m.IsImplicitlyDeclared && m is not IFieldSymbol) continue;
            if (HasAttribute(m, "NotAMemberAttribute")) continue;
            switch (m)
            {
                case IFieldSymbol f when f.AssociatedSymbol is null && !f.IsConst:
                    Add(f, f.Name, Kiln.Compiler.Naming.MemberName(f.Name), f.Type, !f.IsReadOnly, m);
                    break;
                case IPropertySymbol p when IsAutoProperty(p):
                    Add(p, p.Name, p.Name, p.Type, p.SetMethod is { IsInitOnly: false }, m);
                    break;
            }
        }
        var forward = type.GetMembers("Forward").OfType<IMethodSymbol>().FirstOrDefault(f => !f.IsStatic && f.DeclaringSyntaxReferences.Length > 0);
        var shapes = forward is null ? ImmutableArray<ShapeInfo>.Empty : forward.Parameters
            .Select(p => (p.Name, Dims: p.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == "ShapeAttribute")?.ConstructorArguments.FirstOrDefault().Value as string))
            .Where(x => x.Dims is not null).Select(x => new ShapeInfo(x.Name, x.Dims!)).ToImmutableArray();
        return new ModelInfo(type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(), type.Name,
            type.TypeParameters.Length == 0 ? "" : "<" + string.Join(", ", type.TypeParameters.Select(t => t.Name)) + ">",
            generatable, new EquatableArray<MemberInfo>(members.ToImmutable()), new EquatableArray<ShapeInfo>(shapes),
            forward is null ? null : ForwardInfo.From(forward, context.SemanticModel, cancel));

        void Add(ISymbol symbol, string access, string name, ITypeSymbol memberType, bool writable, ISymbol attributes)
        {
            string typeName = memberType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            // [PyTorchName("q_proj")]: the member's name in state dicts and checkpoints, as the runtime's reflection reads it.
            var rename = attributes.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == "PyTorchNameAttribute");
            if (rename is { ConstructorArguments.Length: 1 } && rename.ConstructorArguments[0].Value is string given) name = given;
            if (ForwardSyntax.IsModule(memberType)) members.Add(new MemberInfo(access, name, typeName, MemberKind.Module, writable, true, GeneratedAccessor.CanExpose(memberType)));
            else if (memberType.Name == "Tensor" && memberType.ContainingNamespace?.ToDisplayString() == "Kiln")
            {
                var buffer = attributes.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == "BufferAttribute");
                bool persistent = buffer is null || buffer.NamedArguments.All(a => a.Key != "Persistent" || a.Value.Value is true);
                var kind = buffer is not null ? MemberKind.Buffer : HasAttribute(attributes, "ParameterAttribute") ? MemberKind.Parameter : MemberKind.TrainableTensor;
                members.Add(new MemberInfo(access, name, typeName, kind, writable, persistent, Exposable: true));
            }
            else if (GeneratedAccessor.IsSetting(memberType)) members.Add(new MemberInfo(access, name, typeName, MemberKind.Setting, writable, false, Exposable: true));
        }
    }

    static bool IsAutoProperty(IPropertySymbol p) =>
        !p.IsIndexer && p.GetMethod is not null && p.ContainingType.GetMembers().OfType<IFieldSymbol>().Any(f => SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, p));

    static bool HasAttribute(ISymbol s, string name) => s.GetAttributes().Any(a => a.AttributeClass?.Name == name);
}
