using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    /// <summary>The domain of ONNX's training operators.</summary>
    const string TrainingDomain = "ai.onnx.preview.training";

    static void AddTraining(Dictionary<string, Op> t)
    {
        // Each takes R (learning rate), T (update count), then n tensors X, n gradients G and n of each state, and gives the
        // n new X followed by the new states, by ONNX's formulas (norm_coefficient adds an L2 term to each gradient).
        t[TrainingDomain + ":Adagrad"] = c =>
        {
            int n = OptimizerGroups(c, states: 1);
            double r = Scalar(c, 0) / (1 + Scalar(c, 1) * c.Float("decay_factor", 0f));
            double eps = c.Float("epsilon", 1e-6f), l2 = c.Float("norm_coefficient", 0f);
            var result = new Tensor?[2 * n];
            for (int i = 0; i < n; i++)
            {
                var x = c.In(2 + i);
                var g = c.In(2 + n + i) + x * l2;
                var h = c.In(2 + 2 * n + i) + g * g;
                result[i] = x - r * g / (h.Sqrt() + eps);
                result[n + i] = h;
            }
            return result;
        };
        t[TrainingDomain + ":Momentum"] = c =>
        {
            int n = OptimizerGroups(c, states: 1);
            double r = Scalar(c, 0), alpha = c.Float("alpha", 0f), beta = Scalar(c, 1) > 0 ? c.Float("beta", 0f) : 1, l2 = c.Float("norm_coefficient", 0f);
            string mode = c.String("mode", "standard");
            if (mode is not ("standard" or "nesterov")) throw c.Error($"mode '{mode}' is not standard or nesterov");
            var result = new Tensor?[2 * n];
            for (int i = 0; i < n; i++)
            {
                var x = c.In(2 + i);
                var g = c.In(2 + n + i) + x * l2;
                var v = c.In(2 + 2 * n + i) * alpha + g * beta;
                result[i] = mode == "standard" ? x - v * r : x - (g + v * alpha) * r;
                result[n + i] = v;
            }
            return result;
        };
        t[TrainingDomain + ":Adam"] = c =>
        {
            int n = OptimizerGroups(c, states: 2);
            double r = Scalar(c, 0), step = Scalar(c, 1);
            double alpha = c.Float("alpha", 0.9f), beta = c.Float("beta", 0.999f), eps = c.Float("epsilon", 1e-6f);
            double l2 = c.Float("norm_coefficient", 0f), l2Post = c.Float("norm_coefficient_post", 0f);
            if (step > 0) r *= Math.Sqrt(1 - Math.Pow(beta, step)) / (1 - Math.Pow(alpha, step));
            var result = new Tensor?[3 * n];
            for (int i = 0; i < n; i++)
            {
                var x = c.In(2 + i);
                var g = c.In(2 + n + i) + x * l2;
                var v = c.In(2 + 2 * n + i) * alpha + g * (1 - alpha);
                var h = c.In(2 + 3 * n + i) * beta + g * g * (1 - beta);
                result[i] = (x - v / (h.Sqrt() + eps) * r) * (1 - l2Post);
                result[n + i] = v;
                result[2 * n + i] = h;
            }
            return result;
        };
    }

    /// <summary>How many tensors an optimizer node updates: its inputs are R, T and (2 + <paramref name="states"/>) groups of n.</summary>
    static int OptimizerGroups(NodeContext c, int states)
    {
        int groups = 2 + states;
        if (c.InputCount < 2 + groups || (c.InputCount - 2) % groups != 0)
            throw c.Error($"{c.InputCount} inputs: expected R, T and {groups} groups of equal length");
        return (c.InputCount - 2) / groups;
    }

    static double Scalar(NodeContext c, int input) => c.In(input).To(DType.Float64).Reshape(-1).ToArray<double>()[0];
}
