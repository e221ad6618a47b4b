using Google.Protobuf;

namespace Kiln.TensorBoard;

/// <summary>Field writers for hand-encoded protobuf messages (tag then value).</summary>
internal static class ProtoFields
{
    public static void WriteInt32Field(this CodedOutputStream o, int field, int value)
    {
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteInt32(value);
    }

    public static void WriteBytesField(this CodedOutputStream o, int field, byte[] value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(value));
    }

    public static void WriteStringField(this CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }
}
