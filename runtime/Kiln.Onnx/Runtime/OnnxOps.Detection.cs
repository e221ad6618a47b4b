using System;
using System.Collections.Generic;
using Kiln.Vision;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static void AddDetection(Dictionary<string, Op> t)
    {
        t["NonMaxSuppression"] = c =>
        {
            // Per image and class: boxes by decreasing score above score_threshold, kept greedily (VisionOps' suppression)
            // up to max_output_boxes_per_class (0, the default, keeps none); rows (image, class, box).
            var boxes = c.In(0);
            var scores = c.In(1);
            if (boxes.Dim != 3 || boxes.Size(2) != 4 || scores.Dim != 3 || scores.Size(0) != boxes.Size(0) || scores.Size(2) != boxes.Size(1))
                throw c.Error($"boxes [{string.Join(", ", boxes.ShapeArray)}] and scores [{string.Join(", ", scores.ShapeArray)}] should be [B, N, 4] and [B, C, N]");
            long limit = c.Optional(2) is { Numel: > 0 } m ? c.Longs(m)[0] : 0;
            double iou = c.Optional(3) is { Numel: > 0 } i ? i.To(DType.Float64).Item<double>() : 0;
            double? threshold = c.Optional(4) is { Numel: > 0 } s ? s.To(DType.Float64).Item<double>() : null;
            bool centers = c.Int("center_point_box", 0) != 0;
            var rows = new List<long>();
            int images = boxes.Size(0), classes = scores.Size(1), count = boxes.Size(1);
            for (int b = 0; b < images; b++)
            {
                var coords = boxes.Select(0, b).To(DType.Float64).Contiguous().ToArray<double>();
                if (centers)
                    for (int k = 0; k < count; k++)
                    {
                        double cx = coords[4 * k], cy = coords[4 * k + 1], w = coords[4 * k + 2], h = coords[4 * k + 3];
                        coords[4 * k] = cx - w / 2; coords[4 * k + 1] = cy - h / 2; coords[4 * k + 2] = cx + w / 2; coords[4 * k + 3] = cy + h / 2;
                    }
                for (int cls = 0; cls < classes; cls++)
                {
                    var sc = scores.Select(0, b).Select(0, cls).To(DType.Float64).Contiguous().ToArray<double>();
                    var order = new List<int>();
                    foreach (int k in VisionOps.ByScore(sc)) if (threshold is not { } th || sc[k] > th) order.Add(k);
                    var kept = VisionOps.SuppressedInOrder(coords, [.. order], iou, (int)Math.Min(limit, int.MaxValue), corners: true);
                    foreach (int k in kept) { rows.Add(b); rows.Add(cls); rows.Add(k); }
                }
            }
            return One(Tensor.From(rows.ToArray(), rows.Count / 3, 3));
        };
        t["RoiAlign"] = c =>
        {
            string mode = c.String("mode", "avg");
            if (mode != "avg") throw c.Unsupported($"mode '{mode}'");
            var x = c.In(0);
            var rois = c.In(1);
            var batch = c.In(2);
            if (rois.Dim != 2 || rois.Size(1) != 4 || batch.Dim != 1 || batch.Size(0) != rois.Size(0))
                throw c.Error($"rois [{string.Join(", ", rois.ShapeArray)}] and batch_indices [{string.Join(", ", batch.ShapeArray)}] should be [K, 4] and [K]");
            // opset 16's half_pixel is torchvision's aligned = true; output_half_pixel (and opset 10) the legacy convention.
            bool aligned = c.Opset >= 16 && c.String("coordinate_transformation_mode", "half_pixel") == "half_pixel";
            var boxes = Tensor.Cat([batch.To(rois.DType).Unsqueeze(1), rois], 1);
            int ratio = checked((int)c.Int("sampling_ratio", 0));
            return One(VisionOps.RoiAlign(x, boxes, checked((int)c.Int("output_height", 1)), checked((int)c.Int("output_width", 1)),
                c.Float("spatial_scale", 1f), ratio, aligned));
        };
    }
}
