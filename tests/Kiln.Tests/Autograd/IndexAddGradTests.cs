using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// index_select's gradient adds each picked row's gradient into its row (the float32 rows kernel; float64 through
/// scatter_add): repeated and negative (wrapped) indices included, compared with the sums written out.
/// </summary>
public class IndexAddGradTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void RepeatedAndNegativeIndicesAddIntoTheirRows(DType dtype)
    {
        long[] picks = [-1, 0, 4, 4, -5, 2];
        var weight = Tensor.Zeros([5, 19], dtype).RequiresGrad_();
        var coef = Tensor.Arange(0, picks.Length * 19, 1, dtype).Reshape(picks.Length, 19);
        using (var idx = Tensor.From(picks, picks.Length))
            (weight.IndexSelect(0, idx) * coef).Sum().Backward();

        var grad = weight.Grad!.To(DType.Float64).ToArray<double>();
        for (int row = 0; row < 5; row++)
            for (int c = 0; c < 19; c++)
            {
                double expected = 0;
                for (int p = 0; p < picks.Length; p++)
                    if ((picks[p] + 5) % 5 == row) expected += p * 19 + c;
                Assert.Equal(expected, grad[row * 19 + c]);
            }
    }
}
