using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static void AddRandom(Dictionary<string, Op> t)
    {
        // Draws from Kiln's generator (seeded by the node's seed attribute when it has one): the same distributions as
        // ONNX's, never numpy's numbers.
        t["RandomUniform"] = c => One(Uniform(c, ToInts(c.Ints("shape") ?? throw c.Error("shape is required")), RandomType(c, null)));
        t["RandomUniformLike"] = c => One(Uniform(c, c.In(0).ShapeArray, RandomType(c, c.In(0))));
        t["RandomNormal"] = c => One(Normal(c, ToInts(c.Ints("shape") ?? throw c.Error("shape is required")), RandomType(c, null)));
        t["RandomNormalLike"] = c => One(Normal(c, c.In(0).ShapeArray, RandomType(c, c.In(0))));
        t["Bernoulli"] = c =>
        {
            var p = c.In(0);
            var draws = Tensor.Rand(p.ShapeArray, DType.Float64, RandomSource(c));
            return One(draws.Lt(p.To(DType.Float64)).To(RandomType(c, p)));
        };
        t["Multinomial"] = c =>
        {
            // Rows of unnormalized log-probabilities; sample_size draws per row with replacement.
            var logits = c.In(0);
            var probs = logits.To(DType.Float64).Softmax(-1);
            var dtype = c.Has("dtype") ? OnnxTensor.DTypeOf((int)c.Int("dtype", 6)) ?? throw c.Unsupported("that dtype") : DType.Int32;
            return One(probs.Multinomial(checked((int)c.Int("sample_size", 1)), replacement: true, RandomSource(c)).To(dtype));
        };
        t["BitShift"] = c =>
        {
            string direction = c.String("direction", "");
            return direction switch
            {
                "LEFT" => One(c.In(0).BitwiseLeftShift(c.In(1))),
                "RIGHT" => One(c.In(0).BitwiseRightShift(c.In(1))),
                _ => throw c.Error($"direction '{direction}' is not LEFT or RIGHT"),
            };
        };
    }

    static Generator RandomSource(NodeContext c) => c.Has("seed") ? new Generator((ulong)(long)c.Float("seed", 0f)) : Generator.Default;

    /// <summary>The dtype attribute, else the input's type (the "Like" forms), else float32.</summary>
    static DType RandomType(NodeContext c, Tensor? like) =>
        c.Has("dtype") ? OnnxTensor.DTypeOf((int)c.Int("dtype", 1)) ?? throw c.Unsupported($"dtype {c.Int("dtype", 1)}") : like?.DType ?? DType.Float32;

    static Tensor Uniform(NodeContext c, int[] shape, DType dtype)
    {
        double low = c.Float("low", 0f), high = c.Float("high", 1f);
        return (Tensor.Rand(shape, DType.Float64, RandomSource(c)) * (high - low) + low).To(dtype);
    }

    static Tensor Normal(NodeContext c, int[] shape, DType dtype)
    {
        double mean = c.Float("mean", 0f), scale = c.Float("scale", 1f);
        return (Tensor.Randn(shape, DType.Float64, RandomSource(c)) * scale + mean).To(dtype);
    }
}
