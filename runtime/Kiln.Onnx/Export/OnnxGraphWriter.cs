using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Kiln.Onnx.Export;

/// <summary>Accumulates an ONNX graph: nodes, initializers (weights and constants) and fresh value names.</summary>
internal sealed class OnnxGraphWriter
{
    readonly GraphProto _graph = new();
    readonly HashSet<string> _initializers = [];
    int _next;

    public GraphProto Graph => _graph;

    public string Fresh(string hint) => $"{hint}_{_next++}";

    /// <summary>Adds <paramref name="t"/> as an initializer named <paramref name="name"/> (once).</summary>
    public string Initializer(string name, Tensor t)
    {
        if (_initializers.Add(name)) _graph.Initializer.Add(ToProto(name, t));
        return name;
    }

    /// <summary>A constant initializer holding <paramref name="t"/> under a fresh name.</summary>
    public string Constant(Tensor t, string hint = "const") => Initializer(Fresh(hint), t);

    public string Longs(params long[] values) => Constant(Tensor.From(values).Reshape(values.Length), "shape");

    public string Scalar(double value, DType dtype) => Constant(Tensor.Full([], value, dtype), "scalar");

    /// <summary>Adds a node reading <paramref name="inputs"/>; returns its (first) output's name.</summary>
    public string Node(string op, IReadOnlyList<string> inputs, Action<NodeProto>? attributes = null, string? output = null)
    {
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        string o = output ?? Fresh(op.ToLowerInvariant());
        node.Output.Add(o);
        attributes?.Invoke(node);
        _graph.Node.Add(node);
        return o;
    }

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    public static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    public static AttributeProto String(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

    public static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    /// <summary>ONNX's element type code of a Kiln dtype.</summary>
    public static int ElementType(DType d) => d switch
    {
        DType.Float32 => 1,
        DType.UInt8 => 2,
        DType.Int8 => 3,
        DType.Int32 => 6,
        DType.Int64 => 7,
        DType.Bool => 9,
        DType.Float16 => 10,
        DType.Float64 => 11,
        DType.BFloat16 => 16,
        _ => throw new KilnException("onnx export", $"onnx export: dtype {d} has no ONNX element type", KilnErrorKind.Unsupported),
    };

    static TensorProto ToProto(string name, Tensor t)
    {
        var p = new TensorProto { Name = name, DataType = ElementType(t.DType) };
        for (int i = 0; i < t.Dim; i++) p.Dims.Add(t.Size(i));
        using var c = t.IsCuda ? t.ToHost() : t.ContiguousInternal();
        unsafe { p.RawData = ByteString.CopyFrom(new ReadOnlySpan<byte>(c.DataPointer, checked((int)(c.Numel * c.DType.SizeOf())))); }
        return p;
    }

    /// <summary>A graph input or output: element type and shape, dim 0 named <paramref name="batchName"/> when it varies.</summary>
    public static ValueInfoProto ValueInfo(string name, DType dtype, int[] shape, string? batchName)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = ElementType(dtype), Shape = new TensorShapeProto() };
        for (int i = 0; i < shape.Length; i++)
            tensorType.Shape.Dim.Add(i == 0 && batchName is not null
                ? new TensorShapeProto.Types.Dimension { DimParam = batchName }
                : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
