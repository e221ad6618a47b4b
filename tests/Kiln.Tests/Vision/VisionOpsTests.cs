using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.Tests.Golden;
using Kiln.Vision;
using Xunit;

namespace Kiln.Tests.Vision;

/// <summary>
/// torchvision.ops against torchvision 0.14 (tests/golden/make_vision_ops_golden.py): box area, IoU, generalized IoU and
/// conversions with their gradients (fp32: rel 1e-5 for the elementwise ones, 1e-4 for the pooled roi_align), NMS and
/// batched NMS (the same indices in the same order), roi_align in both conventions with the input's gradient; finite
/// differences in float64; bad input.
/// </summary>
public class VisionOpsTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "vision_ops.json"))).RootElement;

    public static IEnumerable<object[]> Cases() => Root.GetProperty("cases").EnumerateArray().Select(c => new object[] { c.GetProperty("name").GetString()! });

    static Tensor Call(JsonElement c, Tensor[] x)
    {
        string name = c.GetProperty("name").GetString()!;
        if (name.StartsWith("box_convert_", StringComparison.Ordinal))
        {
            var f = c.GetProperty("formats").EnumerateArray().Select(e => e.GetString()!).ToArray();
            return VisionOps.BoxConvert(x[0], f[0], f[1]);
        }
        if (name.StartsWith("roi_align_", StringComparison.Ordinal))
        {
            var size = c.GetProperty("output_size").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            return VisionOps.RoiAlign(x[0], GoldenData.BuildBase(c.GetProperty("rois")), size[0], size[1], c.GetProperty("scale").GetDouble(),
                c.GetProperty("ratio").GetInt32(), c.GetProperty("aligned").GetBoolean());
        }
        return name switch
        {
            "box_area" => VisionOps.BoxArea(x[0]),
            "box_iou" => VisionOps.BoxIou(x[0], x[1]),
            "generalized_box_iou" => VisionOps.GeneralizedBoxIou(x[0], x[1]),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchvision(string name)
    {
        var c = Root.GetProperty("cases").EnumerateArray().First(e => e.GetProperty("name").GetString() == name);
        var x = c.GetProperty("inputs").EnumerateArray().Select(e => GoldenData.BuildBase(e).RequiresGrad_()).ToArray();
        var y = Call(c, x);
        double rel = name.StartsWith("roi_align", StringComparison.Ordinal) ? 1e-4 : 1e-5;
        CourseData.Close(name, c.GetProperty("output"), y, rel, 1e-6);
        (y * GoldenData.BuildBase(c.GetProperty("weight"))).Sum().Backward();
        var grads = c.GetProperty("grads").EnumerateArray().ToArray();
        for (int i = 0; i < x.Length; i++) CourseData.Close($"{name} grad {i}", grads[i], x[i].Grad!, 1e-4, 1e-5);
    }

    [Fact]
    public void NmsKeepsWhatTorchvisionKeeps()
    {
        foreach (var c in Root.GetProperty("nms").EnumerateArray())
        {
            var boxes = GoldenData.BuildBase(c.GetProperty("boxes"));
            var scores = GoldenData.BuildBase(c.GetProperty("scores"));
            double iou = c.GetProperty("iou").GetDouble();
            var keep = VisionOps.Nms(boxes, scores, iou);
            Assert.Equal(DType.Int64, keep.DType);
            Assert.Equal(Longs(c.GetProperty("keep")), keep.ToArray<long>());
            var batched = VisionOps.BatchedNms(boxes, scores, GoldenData.BuildBase(c.GetProperty("idxs")), iou);
            Assert.Equal(Longs(c.GetProperty("batched_keep")), batched.ToArray<long>());
        }
    }

    static long[] Longs(JsonElement spec) => spec.GetProperty("data").EnumerateArray().Select(e => e.GetInt64()).ToArray();

    [Fact]
    public void GradientsPassFiniteDifferences()
    {
        var g = new Generator(5);
        var image = Tensor.Randn([2, 2, 6, 7], DType.Float64, g).RequiresGrad_();
        var rois = Tensor.From(new[] { 0, 0.7, 1.3, 5.2, 4.1, 1, -1.0, 2.0, 3.5, 7.5, 1, 2.2, 0.4, 2.9, 1.1 }, 3, 5);
        foreach (bool aligned in new[] { false, true })
            foreach (int ratio in new[] { -1, 2 })
                Assert.True(Autograd.GradCheck(x => VisionOps.RoiAlign(x[0], rois, 2, 3, 1.0, ratio, aligned), [image]));
        var a = (Tensor.Rand([3, 2], DType.Float64, g) * 5).Detach();
        var boxes1 = Tensor.Cat([a, a + Tensor.Rand([3, 2], DType.Float64, g) * 4 + 1], 1).Detach().RequiresGrad_();
        var b = (Tensor.Rand([2, 2], DType.Float64, g) * 5).Detach();
        var boxes2 = Tensor.Cat([b, b + Tensor.Rand([2, 2], DType.Float64, g) * 4 + 1], 1).Detach().RequiresGrad_();
        Assert.True(Autograd.GradCheck(x => VisionOps.BoxIou(x[0], x[1]), [boxes1, boxes2]));
        Assert.True(Autograd.GradCheck(x => VisionOps.GeneralizedBoxIou(x[0], x[1]), [boxes1, boxes2]));
        Assert.True(Autograd.GradCheck(x => VisionOps.BoxConvert(x[0], "cxcywh", "xyxy"), [boxes1]));
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        var image = Tensor.Zeros(1, 2, 4, 4);
        Assert.Contains("expected boxes [K, 5]", Assert.Throws<KilnException>(() => VisionOps.RoiAlign(image, Tensor.Zeros(2, 4), 2, 2)).Message);
        Assert.Contains("batch index 3", Assert.Throws<KilnException>(() => VisionOps.RoiAlign(image, Tensor.From(new float[] { 3, 0, 0, 1, 1 }, 1, 5), 2, 2)).Message);
        Assert.Contains("expected input [N, C, H, W]", Assert.Throws<KilnException>(() => VisionOps.RoiAlign(Tensor.Zeros(2, 4, 4), Tensor.Zeros(1, 5), 2, 2)).Message);
        Assert.Contains("nms: expected scores [3]", Assert.Throws<KilnException>(() => VisionOps.Nms(Tensor.Zeros(3, 4), Tensor.Zeros(2), 0.5)).Message);
        Assert.Contains("box_iou: expected boxes2 as [K, 4]", Assert.Throws<KilnException>(() => VisionOps.BoxIou(Tensor.Zeros(3, 4), Tensor.Zeros(3, 5))).Message);
        Assert.Contains("unsupported box format 'yxyx'", Assert.Throws<KilnException>(() => VisionOps.BoxConvert(Tensor.Zeros(3, 4), "yxyx", "xyxy")).Message);
    }
}
