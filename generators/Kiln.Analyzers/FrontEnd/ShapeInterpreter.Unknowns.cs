using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler;
using Kiln.Compiler.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.FrontEnd;

/// <summary>
/// Checking with partly known shapes. A Forward parameter without [Shape] is not a reason to stop checking: a Conv2d
/// still fixes the channels of what it gives, a Linear its last dim, so channel chains and Linear chains are checked
/// from there on. Unknown sizes are named ?1, ?2, ...; a size built from one (a flattened product) is unknown too, and
/// no rule is asked about an unknown size, so nothing is guessed.
/// </summary>
internal sealed partial class ShapeInterpreter
{
    int _unknownCount;

    /// <summary>A fresh unknown size.</summary>
    SymbolicDim Unknown() => SymbolicDim.Unknown(++_unknownCount);

    static bool IsUnknown(SymbolicDim d) => d.HasUnknown;

    static bool HasUnknown(SymbolicDim[] dims)
    {
        foreach (var d in dims) if (d.HasUnknown) return true;
        return false;
    }

    /// <summary>The trailing <paramref name="rank"/> dims of <paramref name="x"/>, unknown ones made up where an open shape lacks them.</summary>
    SymbolicDim[] Trailing(TensorShape x, int rank)
    {
        if (!x.Open) return x.Dims;
        var dims = new SymbolicDim[Math.Max(rank, x.Dims.Length)];
        int lead = dims.Length - x.Dims.Length;
        for (int i = 0; i < lead; i++) dims[i] = Unknown();
        Array.Copy(x.Dims, 0, dims, lead, x.Dims.Length);
        return dims;
    }

    /// <summary>An output: open again when the input was (only its trailing <paramref name="keep"/> dims are meant).</summary>
    static TensorShape Result(TensorShape x, SymbolicDim[] dims, int keep) =>
        x.Open ? new TensorShape(dims.Skip(Math.Max(0, dims.Length - keep)).ToArray(), open: true) : new TensorShape(dims);

    /// <summary>A layer step whose input has unknown sizes: the checks the known ones allow, and what it gives.</summary>
    object? PartialStage(IOperation call, LayerSpec layer, TensorShape x)
    {
        int? I(string name) => layer.Int(name);
        switch (layer.Kind)
        {
            case "Linear":
            case "NonDynamicallyQuantizableLinear":
            {
                if (layer.Size("inFeatures") is null || layer.Size("outFeatures") is not { } outF) return null;
                var dims = Trailing(x, 1);
                if (!IsUnknown(dims[dims.Length - 1])) return StageKnownOpen(call, layer, x, dims, 1);
                var y = (SymbolicDim[])dims.Clone();
                y[y.Length - 1] = outF;
                return Result(x, y, x.Dims.Length == 0 ? 1 : x.Dims.Length);
            }
            case "Conv2d":
            case "MaxPool2d":
            case "AvgPool2d":
            {
                var dims = Trailing(x, 4);
                if (dims.Length != 4 && dims.Length != 3) return null;
                int n = dims.Length;
                // Unknown heights and widths stay unknown; the rule takes such a size to be large enough for any window.
                bool hUnknown = IsUnknown(dims[n - 2]), wUnknown = IsUnknown(dims[n - 1]);
                if (layer.Kind == "Conv2d" && IsUnknown(dims[n - 3]))
                {
                    if (layer.Size("outChannels") is not { } cout) return null;
                    var y = (SymbolicDim[])dims.Clone();
                    y[n - 3] = cout;
                    y[n - 2] = Unknown();
                    y[n - 1] = Unknown();
                    return Result(x, y, 3);
                }
                if (StageKnownOpen(call, layer, x, dims, 3) is not TensorShape r) return null;
                var outDims = (SymbolicDim[])r.Dims.Clone();
                if (hUnknown) outDims[outDims.Length - 2] = Unknown();
                if (wUnknown) outDims[outDims.Length - 1] = Unknown();
                return new TensorShape(outDims, r.Open);
            }
            case "BatchNorm1d":
            case "BatchNorm2d":
            {
                var dims = Trailing(x, layer.Kind == "BatchNorm2d" ? 4 : 2);
                if (x.Open || dims.Length < 2 || IsUnknown(dims[1])) return x;
                return StageKnownOpen(call, layer, x, dims, dims.Length) ?? x;
            }
            case "LayerNorm":
            case "RMSNorm":
                return x.Dims.Length > 0 && !IsUnknown(x.Dims[x.Dims.Length - 1]) ? StageKnownOpen(call, layer, x, Trailing(x, 1), x.Dims.Length) ?? x : x;
            case var kind when KeepsShape(kind):
                return x;
            case "Flatten":
            {
                if (x.Open) return null;
                return Quietly(() => Shape(ShapeRules<SymbolicDim, SymbolicDim, SymbolicDims>.Flatten(x.Dims, I("startDim") ?? 1, I("endDim") ?? -1)));
            }
            default:
                return null; // not followed with unknown sizes: the shape is unknown from here
        }
    }

    /// <summary>The known-shape step run on <paramref name="dims"/> (an open shape's made-up form), open again after.</summary>
    object? StageKnownOpen(IOperation call, LayerSpec layer, TensorShape x, SymbolicDim[] dims, int keep) =>
        StageKnown(call, layer, new TensorShape(dims)) is TensorShape r ? Result(x, r.Dims, keep) : null;

    /// <summary>
    /// What a layer gives even when its check failed, so the steps after it are still checked: a Linear's out_features,
    /// a Conv2d's out_channels (its heights and widths unknown), a normalization's input. Null for the rest.
    /// </summary>
    object? Recovered(LayerSpec layer, TensorShape x)
    {
        switch (layer.Kind)
        {
            case "Linear":
            case "NonDynamicallyQuantizableLinear":
                if (layer.Size("outFeatures") is not { } outF || x.Dims.Length == 0) return null;
                var y = (SymbolicDim[])x.Dims.Clone();
                y[y.Length - 1] = outF;
                return new TensorShape(y, x.Open);
            case "Conv2d":
                if (layer.Size("outChannels") is not { } cout || x.Dims.Length < 3) return null;
                var c = (SymbolicDim[])x.Dims.Clone();
                c[c.Length - 3] = cout;
                c[c.Length - 2] = Unknown();
                c[c.Length - 1] = Unknown();
                return new TensorShape(c, x.Open);
            case "BatchNorm1d":
            case "BatchNorm2d":
            case "LayerNorm":
            case "RMSNorm":
                return x;
            default:
                return null;
        }
    }
}
