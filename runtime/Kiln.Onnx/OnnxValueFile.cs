using System.Collections.Generic;
using Google.Protobuf;
using Onnx;

namespace Kiln.Onnx;

/// <summary>
/// Serialized ONNX values as ONNX's test data stores them: a <c>TensorProto</c>, or (onnx-data.proto, which the
/// generated types here do not include) a <c>SequenceProto</c> of tensors or an <c>OptionalProto</c>, read field by field.
/// Which one a file holds comes from the graph's declared type for that input or output.
/// </summary>
internal static class OnnxValueFile
{
    /// <summary>The value in <paramref name="path"/>: a <see cref="Tensor"/>, an <see cref="OnnxSequence"/> or an <see cref="OnnxOptional"/>.</summary>
    public static object? Read(string path, TypeProto? type)
    {
        if (type is null || type.ValueCase == TypeProto.ValueOneofCase.TensorType) return OnnxTensor.ReadFile(path);
        var bytes = System.IO.File.ReadAllBytes(path);
        try
        {
            return type.ValueCase switch
            {
                TypeProto.ValueOneofCase.SequenceType => ReadSequence(bytes, path),
                TypeProto.ValueOneofCase.OptionalType => ReadOptional(bytes, path),
                _ => throw new KilnException("onnx", $"onnx: {path} holds a {type.ValueCase} value, which Kiln does not read", KilnErrorKind.Unsupported),
            };
        }
        catch (InvalidProtocolBufferException e) { throw new KilnException("onnx", $"onnx: {path} is not a valid value file: {e.Message}", KilnErrorKind.Format); }
    }

    // Field numbers shared by SequenceProto and OptionalProto: 3 tensor(s), 5 sequence; others (sparse, map) unread.
    const int TensorField = 3, SequenceField = 5;

    static OnnxSequence ReadSequence(byte[] bytes, string path)
    {
        var items = new List<Tensor>();
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            if (field == TensorField) items.Add(OnnxTensor.ToTensor(TensorProto.Parser.ParseFrom(input.ReadBytes()), path));
            else if (field is 4 or SequenceField or 6 or 7)
                throw new KilnException("onnx", $"onnx: {path} is a sequence of sparse tensors, sequences, maps or optionals, which Kiln does not read", KilnErrorKind.Unsupported);
            else input.SkipLastField();
        }
        return new OnnxSequence(items);
    }

    static OnnxOptional ReadOptional(byte[] bytes, string path)
    {
        object? value = null;
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            if (field == TensorField) value = OnnxTensor.ToTensor(TensorProto.Parser.ParseFrom(input.ReadBytes()), path);
            else if (field == SequenceField) value = ReadSequence(input.ReadBytes().ToByteArray(), path);
            else if (field is 4 or 6 or 7) throw new KilnException("onnx", $"onnx: {path} holds an optional sparse tensor, map or optional, which Kiln does not read", KilnErrorKind.Unsupported);
            else input.SkipLastField();
        }
        return new OnnxOptional(value);
    }
}
