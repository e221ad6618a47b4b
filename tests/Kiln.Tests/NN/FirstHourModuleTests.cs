using System.Linq;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>The first-hour modules whose numbers are not a golden case: channel dropout's masks, parameter containers.</summary>
public class FirstHourModuleTests
{
    [Fact]
    public void Dropout2dZeroesWholeChannelsAndScalesTheRest()
    {
        var layer = new Dropout2d(0.25);
        using var x = Tensor.Ones(8, 64, 3, 3);
        using var y = layer.Call(x);
        var values = y.ToArray<float>();
        int kept = 0;
        for (int channel = 0; channel < 8 * 64; channel++)
        {
            var block = values.Skip(channel * 9).Take(9).Distinct().ToArray();
            Assert.Single(block);                                         // one decision per channel
            Assert.Contains(block[0], new[] { 0f, 1f / 0.75f });
            if (block[0] != 0) kept++;
        }
        Assert.InRange(kept / 512.0, 0.68, 0.82);                         // 75 % kept, within ~4 standard deviations
        layer.Eval();
        using var same = layer.Call(x);
        Assert.Equal(x.ToArray<float>(), same.ToArray<float>());
        Assert.Equal("Dropout2d(p=0.25, inplace=False)", layer.ToString());
    }

    [Fact]
    public void ParameterContainersRegisterTheirParameters()
    {
        var list = new ParameterList(Tensor.Zeros(3, 4), Tensor.Ones(2));
        list.Add(Tensor.Ones(5));
        Assert.Equal(new[] { "0", "1", "2" }, list.StateDict().Keys);
        Assert.All(list, p => Assert.True(p.RequiresGrad));
        Assert.Equal(3, list.Parameters().Count());
        Assert.Contains("(0): Parameter containing: [torch.float32 of size 3x4]", list.ToString());

        var dict = new ParameterDict(("scale", Tensor.Ones(1)));
        dict["shift"] = Tensor.Zeros(2);
        Assert.Equal(new[] { "scale", "shift" }, dict.StateDict().Keys);
        Assert.Throws<KilnException>(() => dict["missing"]);
    }

    [Fact]
    public void LossModulesPrintAndReduceLikePyTorch()
    {
        var loss = new MSELoss(Reduction.Sum);
        Assert.Equal("MSELoss()", loss.ToString());
        using var a = Tensor.From(1f, 2f, 3f);
        using var b = Tensor.From(1f, 0f, 0f);
        Assert.Equal(13f, loss.Call(a, b).Item<float>());
        Assert.Equal("CrossEntropyLoss()", new CrossEntropyLoss().ToString());
        Assert.Equal("InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)", new InstanceNorm2d(3).ToString());
    }
}
