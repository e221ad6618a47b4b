using System;
using System.Collections.Generic;
using Kiln.Compiler.Shapes;

namespace Kiln.Vision;

/// <summary>
/// torchvision.ops for detection models: box geometry (<see cref="BoxArea"/>, <see cref="BoxIou"/>,
/// <see cref="GeneralizedBoxIou"/>, <see cref="BoxConvert"/>), non-maximum suppression (<see cref="Nms"/>,
/// <see cref="BatchedNms"/>) and <see cref="RoiAlign(Tensor, Tensor, int, int, double, int, bool)"/>. Boxes are
/// [K, 4] as (x1, y1, x2, y2) unless said otherwise.
/// </summary>
public static partial class VisionOps
{
    /// <summary>The area of each box [K, 4] (x1, y1, x2, y2): (x2 - x1)·(y2 - y1) (<c>box_area</c>).</summary>
    public static Tensor BoxArea(Tensor boxes)
    {
        CheckBoxes("box_area", boxes, "boxes");
        return (boxes.Select(1, 2) - boxes.Select(1, 0)) * (boxes.Select(1, 3) - boxes.Select(1, 1));
    }

    /// <summary>Intersection over union of every pair: [N, M] for boxes [N, 4] and [M, 4] (<c>box_iou</c>).</summary>
    public static Tensor BoxIou(Tensor boxes1, Tensor boxes2)
    {
        var (inter, union) = InterUnion("box_iou", boxes1, boxes2);
        return inter / union;
    }

    /// <summary>
    /// Generalized IoU of every pair (<c>generalized_box_iou</c>): IoU - (hull - union) / hull, with hull the smallest box
    /// holding both; [N, M].
    /// </summary>
    public static Tensor GeneralizedBoxIou(Tensor boxes1, Tensor boxes2)
    {
        var (inter, union) = InterUnion("generalized_box_iou", boxes1, boxes2);
        var a = boxes1.Unsqueeze(1);
        var b = boxes2.Unsqueeze(0);
        var lo = a.Narrow(2, 0, 2).Minimum(b.Narrow(2, 0, 2));
        var hi = a.Narrow(2, 2, 2).Maximum(b.Narrow(2, 2, 2));
        var wh = (hi - lo).Clamp(0, null);
        var hull = wh.Select(2, 0) * wh.Select(2, 1);
        return inter / union - (hull - union) / hull;
    }

    /// <summary>
    /// Boxes from one format to another (<c>box_convert</c>): "xyxy" (corners), "xywh" (top-left corner, width, height) or
    /// "cxcywh" (centre, width, height).
    /// </summary>
    public static Tensor BoxConvert(Tensor boxes, string inFormat, string outFormat)
    {
        const string op = "box_convert";
        CheckBoxes(op, boxes, "boxes");
        foreach (var f in new[] { inFormat, outFormat })
            if (f is not ("xyxy" or "xywh" or "cxcywh")) throw new KilnException(op, $"{op}: unsupported box format '{f}' (xyxy, xywh or cxcywh)");
        if (inFormat == outFormat) return boxes.Clone();
        var c0 = boxes.Select(-1, 0);
        var c1 = boxes.Select(-1, 1);
        var c2 = boxes.Select(-1, 2);
        var c3 = boxes.Select(-1, 3);
        (Tensor x1, Tensor y1, Tensor x2, Tensor y2) = inFormat switch
        {
            "xyxy" => (c0, c1, c2, c3),
            "xywh" => (c0, c1, c0 + c2, c1 + c3),
            _ => (c0 - c2 * 0.5, c1 - c3 * 0.5, c0 + c2 * 0.5, c1 + c3 * 0.5),
        };
        Tensor[] parts = outFormat switch
        {
            "xyxy" => [x1, y1, x2, y2],
            "xywh" => [x1, y1, x2 - x1, y2 - y1],
            _ => [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1],
        };
        return Tensor.Stack(parts, -1);
    }

    /// <summary>
    /// Non-maximum suppression (<c>torchvision.ops.nms</c>): the indices (int64, by decreasing score) of the boxes kept
    /// when, in score order, each box suppresses every later one whose IoU with it exceeds <paramref name="iouThreshold"/>.
    /// </summary>
    public static Tensor Nms(Tensor boxes, Tensor scores, double iouThreshold)
    {
        const string op = "nms";
        CheckBoxes(op, boxes, "boxes");
        if (scores.Dim != 1 || scores.Size(0) != boxes.Size(0))
            throw new KilnException(op, $"{op}: expected scores [{boxes.Size(0)}] for boxes {ShapeText.Format(boxes.ShapeArray)}, got {ShapeText.Format(scores.ShapeArray)}", KilnErrorKind.Shape);
        var b = Host(boxes);
        var s = Host(scores);
        var order = ByScore(s);
        var kept = SuppressedInOrder(b, order, iouThreshold, int.MaxValue, corners: false);
        var result = new long[kept.Count];
        for (int i = 0; i < result.Length; i++) result[i] = kept[i];
        return Tensor.From(result, result.Length).To(boxes.Device);
    }

    /// <summary>
    /// Non-maximum suppression within each category (<c>batched_nms</c>): boxes of different <paramref name="categories"/>
    /// never suppress each other; indices by decreasing score over all categories.
    /// </summary>
    public static Tensor BatchedNms(Tensor boxes, Tensor scores, Tensor categories, double iouThreshold)
    {
        const string op = "batched_nms";
        CheckBoxes(op, boxes, "boxes");
        if (categories.Dim != 1 || categories.Size(0) != boxes.Size(0))
            throw new KilnException(op, $"{op}: expected idxs [{boxes.Size(0)}] for boxes {ShapeText.Format(boxes.ShapeArray)}, got {ShapeText.Format(categories.ShapeArray)}", KilnErrorKind.Shape);
        if (boxes.Size(0) == 0) return Tensor.Zeros([0], DType.Int64, boxes.Device);
        // torchvision's trick: each category's boxes moved apart by more than any box spans, then one suppression.
        using var noGrad = Autograd.NoGrad();
        double span = boxes.Max().To(DType.Float64).Item<double>() + 1;
        var offsets = categories.To(boxes.DType) * span;
        return Nms(boxes + offsets.Unsqueeze(1), scores, iouThreshold);
    }

    /// <summary>
    /// The greedy suppression both torchvision's and ONNX's NMS run: in <paramref name="order"/>, keep a box unless a kept
    /// one overlaps it by IoU above <paramref name="iouThreshold"/>; at most <paramref name="limit"/> kept. Boxes are
    /// [K·4] doubles, (x1, y1, x2, y2) or, with <paramref name="corners"/>, any two opposite corners.
    /// </summary>
    internal static List<int> SuppressedInOrder(double[] boxes, int[] order, double iouThreshold, int limit, bool corners)
    {
        var kept = new List<int>();
        foreach (int i in order)
        {
            if (kept.Count >= limit) break;
            bool keep = true;
            foreach (int j in kept)
                if (Iou(boxes, i, j, corners) > iouThreshold) { keep = false; break; }
            if (keep) kept.Add(i);
        }
        return kept;
    }

    /// <summary>Indices by decreasing score, ties by index (a stable order).</summary>
    internal static int[] ByScore(double[] scores)
    {
        var order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => scores[b].CompareTo(scores[a]) is var c && c != 0 ? c : a.CompareTo(b));
        return order;
    }

    static double Iou(double[] boxes, int i, int j, bool corners)
    {
        double ax1 = boxes[4 * i], ay1 = boxes[4 * i + 1], ax2 = boxes[4 * i + 2], ay2 = boxes[4 * i + 3];
        double bx1 = boxes[4 * j], by1 = boxes[4 * j + 1], bx2 = boxes[4 * j + 2], by2 = boxes[4 * j + 3];
        if (corners)
        {
            (ax1, ax2) = (Math.Min(ax1, ax2), Math.Max(ax1, ax2));
            (ay1, ay2) = (Math.Min(ay1, ay2), Math.Max(ay1, ay2));
            (bx1, bx2) = (Math.Min(bx1, bx2), Math.Max(bx1, bx2));
            (by1, by2) = (Math.Min(by1, by2), Math.Max(by1, by2));
        }
        double w = Math.Max(0, Math.Min(ax2, bx2) - Math.Max(ax1, bx1)), h = Math.Max(0, Math.Min(ay2, by2) - Math.Max(ay1, by1));
        double inter = w * h, union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
        return union > 0 ? inter / union : 0;
    }

    static (Tensor Inter, Tensor Union) InterUnion(string op, Tensor boxes1, Tensor boxes2)
    {
        CheckBoxes(op, boxes1, "boxes1");
        CheckBoxes(op, boxes2, "boxes2");
        var a = boxes1.Unsqueeze(1);   // [N, 1, 4]
        var b = boxes2.Unsqueeze(0);   // [1, M, 4]
        var lo = a.Narrow(2, 0, 2).Maximum(b.Narrow(2, 0, 2));
        var hi = a.Narrow(2, 2, 2).Minimum(b.Narrow(2, 2, 2));
        var wh = (hi - lo).Clamp(0, null);
        var inter = wh.Select(2, 0) * wh.Select(2, 1);
        var union = BoxArea(boxes1).Unsqueeze(1) + BoxArea(boxes2).Unsqueeze(0) - inter;
        return (inter, union);
    }

    static void CheckBoxes(string op, Tensor boxes, string what)
    {
        if (boxes.Dim != 2 || boxes.Size(1) != 4)
            throw new KilnException(op, $"{op}: expected {what} as [K, 4], got {ShapeText.Format(boxes.ShapeArray)}", KilnErrorKind.Shape);
        if (!boxes.DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: expected floating-point {what}, got {boxes.DType}", KilnErrorKind.DType);
    }

    static double[] Host(Tensor t) => t.Detach().To(Device.Cpu).To(DType.Float64).Contiguous().ToArray<double>();
}
