using System;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// The streaming attention kernel shifts each row's scores by their running max before exp: with scores far above
/// float's exp range (e^89 overflows) a missed element — in a vector's tail or a later key block — gives inf or NaN.
/// Compared with softmax(q·kᵀ·scale)·v in float64.
/// </summary>
public class AttentionStabilityTests
{
    [Theory]
    [InlineData(3, 19, 18)]     // the max in the scalar tail after one 16-lane vector
    [InlineData(2, 150, 140)]   // in the second key block (128 keys a block), its tail
    [InlineData(5, 40, 0)]      // first
    [InlineData(4, 40, 20)]     // in a later vector
    public void HugeScoresAnywhereInTheRowStayFinite(int l, int s, int peak)
    {
        const int e = 4;
        var g = new Generator(9);
        var q = Tensor.Randn([1, l, e], generator: g);
        var k = Tensor.Randn([1, s, e], generator: g);
        var v = Tensor.Randn([1, s, e], generator: g);
        // Key `peak` points along every query at length 60: its scores are about 60·|q|·0.5, far past exp's float range.
        var kd = k.ToArray<float>();
        var qd = q.ToArray<float>();
        for (int c = 0; c < e; c++) kd[peak * e + c] = 60f * Math.Sign(qd[c] == 0 ? 1 : qd[c]) + (float)c;
        for (int i = 0; i < l; i++) for (int c = 0; c < e; c++) qd[i * e + c] = Math.Abs(qd[i * e + c]) * Math.Sign(kd[peak * e + c]) + 1f * Math.Sign(kd[peak * e + c]);
        q = Tensor.From(qd, 1, l, e);
        k = Tensor.From(kd, 1, s, e);

        var output = F.ScaledDotProductAttention(q, k, v).ToArray<float>();

        var vd = v.ToArray<float>();
        double scale = 1 / Math.Sqrt(e);
        for (int i = 0; i < l; i++)
        {
            var scores = new double[s];
            double max = double.NegativeInfinity;
            for (int j = 0; j < s; j++)
            {
                for (int c = 0; c < e; c++) scores[j] += (double)qd[i * e + c] * kd[j * e + c] * scale;
                max = Math.Max(max, scores[j]);
            }
            Assert.True(max > 100, $"row {i}: the test needs scores past float's exp range, got a max of {max}");
            double sum = 0;
            for (int j = 0; j < s; j++) sum += scores[j] = Math.Exp(scores[j] - max);
            for (int c = 0; c < e; c++)
            {
                double expected = 0;
                for (int j = 0; j < s; j++) expected += scores[j] / sum * vd[j * e + c];
                float got = output[i * e + c];
                Assert.True(float.IsFinite(got) && Math.Abs(got - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)),
                    $"row {i}, column {c}: {got} vs {expected}");
            }
        }
    }
}
