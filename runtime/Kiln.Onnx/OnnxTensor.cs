using System;
using System.Runtime.InteropServices;
using Onnx;

namespace Kiln.Onnx;

/// <summary>ONNX <c>TensorProto</c> ↔ Kiln tensors.</summary>
internal static class OnnxTensor
{
    // TensorProto.DataType codes.
    const int Float = 1, UInt8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9, Float16 = 10, Double = 11, BFloat16 = 16;

    /// <summary>The Kiln dtype of ONNX element type <paramref name="code"/>, or null.</summary>
    public static DType? DTypeOf(int code) => code switch
    {
        Float => DType.Float32,
        UInt8 => DType.UInt8,
        Int8 => DType.Int8,
        Int32 => DType.Int32,
        Int64 => DType.Int64,
        Bool => DType.Bool,
        Float16 => DType.Float16,
        Double => DType.Float64,
        BFloat16 => DType.BFloat16,
        _ => null,
    };

    /// <summary>A serialized <c>TensorProto</c> file (the inputs and outputs of ONNX's test data sets).</summary>
    public static Tensor ReadFile(string path)
    {
        using var s = System.IO.File.OpenRead(path);
        TensorProto t;
        try { t = TensorProto.Parser.ParseFrom(s); }
        catch (Google.Protobuf.InvalidProtocolBufferException e) { throw new KilnException("onnx", $"onnx: {path} is not a TensorProto: {e.Message}", KilnErrorKind.Format); }
        return ToTensor(t, path);
    }

    public static Tensor ToTensor(TensorProto t, string source)
    {
        string where = $"onnx: {source}: initializer '{t.Name}'";
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new KilnException("onnx", $"{where} keeps its data in an external file, which this reader does not follow", KilnErrorKind.Unsupported);
        var dtype = DTypeOf(t.DataType) ?? throw new KilnException("onnx", $"{where} has element type {t.DataType}, which Kiln does not read", KilnErrorKind.Unsupported);
        var shape = new int[t.Dims.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (t.Dims[i] < 0 || t.Dims[i] > int.MaxValue) throw new KilnException("onnx", $"{where} has dim {t.Dims[i]}", KilnErrorKind.Format);
            shape[i] = (int)t.Dims[i];
            count *= shape[i];
        }
        int size = dtype.SizeOf();
        byte[] bytes;
        if (!t.RawData.IsEmpty) bytes = t.RawData.ToByteArray();
        else bytes = dtype switch
        {
            DType.Float32 => MemoryMarshal.AsBytes<float>([.. t.FloatData]).ToArray(),
            DType.Float64 => MemoryMarshal.AsBytes<double>([.. t.DoubleData]).ToArray(),
            DType.Int64 => MemoryMarshal.AsBytes<long>([.. t.Int64Data]).ToArray(),
            // int32, int8, uint8, bool, float16, bfloat16 are stored widened in int32_data.
            DType.Int32 => MemoryMarshal.AsBytes<int>([.. t.Int32Data]).ToArray(),
            DType.Int8 or DType.UInt8 or DType.Bool => Narrow(t, b => (byte)b),
            _ => Narrow16(t),
        };
        if (bytes.LongLength != count * size)
            throw new KilnException("onnx", $"{where} holds {bytes.LongLength} bytes for shape [{string.Join(", ", shape)}] of {dtype.Name()} ({count * size} expected)", KilnErrorKind.Format);
        return Tensor.FromBytes(bytes, shape, dtype);
    }

    static byte[] Narrow(TensorProto t, Func<int, byte> f)
    {
        var r = new byte[t.Int32Data.Count];
        for (int i = 0; i < r.Length; i++) r[i] = f(t.Int32Data[i]);
        return r;
    }

    static byte[] Narrow16(TensorProto t)
    {
        var r = new byte[t.Int32Data.Count * 2];
        for (int i = 0; i < t.Int32Data.Count; i++) BitConverter.TryWriteBytes(r.AsSpan(i * 2), (ushort)t.Int32Data[i]);
        return r;
    }
}
