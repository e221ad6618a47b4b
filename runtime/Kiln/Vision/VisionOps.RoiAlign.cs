using System;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Sampling;

namespace Kiln.Vision;

public static partial class VisionOps
{
    /// <summary>
    /// Region-of-interest align (<c>torchvision.ops.roi_align</c>): for each region of <paramref name="boxes"/> [K, 5]
    /// (batch index, x1, y1, x2, y2 in input coordinates), the features of <paramref name="input"/> [N, C, H, W] pooled to
    /// [K, C, outputHeight, outputWidth], each bin the mean of bilinear samples. <paramref name="spatialScale"/> maps box
    /// coordinates onto the feature map; <paramref name="samplingRatio"/> samples per bin side (≤ 0: ceil of the bin
    /// size); <paramref name="aligned"/> shifts by half a pixel (Detectron2's corrected convention). Differentiable in the
    /// input (the boxes, as in torchvision, get no gradient). Runs on the host (other devices round-trip through it).
    /// </summary>
    public static Tensor RoiAlign(Tensor input, Tensor boxes, int outputHeight, int outputWidth, double spatialScale = 1, int samplingRatio = -1, bool aligned = false)
    {
        const string op = "roi_align";
        if (input.Dim != 4) throw new KilnException(op, $"{op}: expected input [N, C, H, W], got {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        if (boxes.Dim != 2 || boxes.Size(1) != 5)
            throw new KilnException(op, $"{op}: expected boxes [K, 5] (batch index, x1, y1, x2, y2), got {ShapeText.Format(boxes.ShapeArray)}", KilnErrorKind.Shape);
        if (outputHeight < 1 || outputWidth < 1) throw new KilnException(op, $"{op}: output size must be positive, got ({outputHeight}, {outputWidth})");
        if (!input.DType.IsFloatingPoint()) throw new KilnException(op, $"{op}: expected a floating-point input, got {input.DType}", KilnErrorKind.DType);
        var rois = Host(boxes);
        for (int k = 0; k < boxes.Size(0); k++)
        {
            double b = rois[k * 5];
            if (b != Math.Floor(b) || b < 0 || b >= input.Size(0))
                throw new KilnException(op, $"{op}: box {k} names batch index {b}, outside the input's {input.Size(0)} images");
        }
        if (input.IsCuda || input.DType is not (DType.Float32 or DType.Float64))
        {
            var hostType = input.DType == DType.Float64 ? DType.Float64 : DType.Float32;
            using var host = input.To(Device.Cpu).To(hostType);
            using var pooled = RoiAlign(host, boxes.To(Device.Cpu), outputHeight, outputWidth, spatialScale, samplingRatio, aligned);
            using var typed = pooled.To(input.DType);
            return typed.To(input.Device);
        }
        var s = new RoiAlignShape(input.Size(0), input.Size(1), input.Size(2), input.Size(3), boxes.Size(0), outputHeight, outputWidth, spatialScale, samplingRatio, aligned);
        return input.DType == DType.Float32 ? AlignOnHost<float>(input, rois, s) : AlignOnHost<double>(input, rois, s);
    }

    /// <summary><see cref="RoiAlign(Tensor, Tensor, int, int, double, int, bool)"/> with one [L, 4] box tensor per image (torchvision's list form).</summary>
    public static Tensor RoiAlign(Tensor input, Tensor[] boxesPerImage, int outputHeight, int outputWidth, double spatialScale = 1, int samplingRatio = -1, bool aligned = false)
    {
        var parts = new Tensor[boxesPerImage.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            var b = boxesPerImage[i];
            CheckBoxes("roi_align", b, $"boxes[{i}]");
            parts[i] = Tensor.Cat([Tensor.Full([b.Size(0), 1], i, b.DType, b.Device), b], 1);
        }
        return RoiAlign(input, Tensor.Cat(parts, 0), outputHeight, outputWidth, spatialScale, samplingRatio, aligned);
    }

    static unsafe Tensor AlignOnHost<T>(Tensor input, double[] rois, RoiAlignShape s) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Tensor Forward()
        {
            using var image = input.Contiguous();
            var output = Tensor.Empty([s.Rois, s.C, s.PooledH, s.PooledW], input.DType);
            RoiAlignKernel<T>.Forward((T*)image.DataPointer, rois, (T*)output.DataPointer, s);
            return output;
        }
        if (!Autograd.IsGradEnabled || !input.RequiresGrad) return Forward();
        return Autograd.Function("roi_align", [input], Forward, grad =>
        {
            using var noGrad = Autograd.NoGrad();
            using var g = grad.Contiguous();
            var inputGrad = Tensor.Zeros(input.ShapeArray, input.DType);
            RoiAlignKernel<T>.Backward((T*)g.DataPointer, rois, (T*)inputGrad.DataPointer, s);
            return [inputGrad];
        });
    }
}
