using System;

namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// The sliding-window geometry of a 2-D convolution or pool (kernel, dilation, padding, stride per spatial dim)
    /// and its output-size arithmetic, shared by unfold/fold, conv, pools and the shape analyzers.
    /// </summary>
    public readonly struct ConvGeometry
    {
        /// <summary>Kernel height and width.</summary>
        public readonly int KH, KW;
        /// <summary>Dilation.</summary>
        public readonly int DH, DW;
        /// <summary>Zero padding on each side.</summary>
        public readonly int PH, PW;
        /// <summary>Stride.</summary>
        public readonly int SH, SW;

        /// <summary>A geometry; every value is validated (kernel, dilation and stride positive, padding non-negative).</summary>
        public ConvGeometry(string op, int kh, int kw, int dh, int dw, int ph, int pw, int sh, int sw)
        {
            if (kh <= 0 || kw <= 0) throw new KilnException(op, $"{op}: kernel size should be greater than zero, but got kernel_size=({kh}, {kw})", KilnErrorKind.Shape);
            if (dh <= 0 || dw <= 0) throw new KilnException(op, $"{op}: dilation should be greater than zero, but got dilation=({dh}, {dw})", KilnErrorKind.Shape);
            if (sh <= 0 || sw <= 0) throw new KilnException(op, $"{op}: stride should be greater than zero, but got stride=({sh}, {sw})", KilnErrorKind.Shape);
            if (ph < 0 || pw < 0) throw new KilnException(op, $"{op}: padding should be non-negative, but got padding=({ph}, {pw})", KilnErrorKind.Shape);
            KH = kh; KW = kw; DH = dh; DW = dw; PH = ph; PW = pw; SH = sh; SW = sw;
        }

        /// <summary>Output length along one dim: floor((in + 2p - d(k-1) - 1) / s) + 1 (ceil with <paramref name="ceil"/>).</summary>
        public static int OutSize(int input, int k, int d, int p, int s, bool ceil = false)
        {
            // In 64 bits: a huge kernel, dilation or padding must not wrap around into a plausible size.
            long span = input + 2L * p - (long)d * (k - 1) - 1;
            if (span < 0) return 0;
            long o = (ceil ? (span + s - 1) / s : span / s) + 1;
            // PyTorch's pooling rule: the last window must start inside the input or left padding.
            if (ceil && (o - 1) * s >= (long)input + p) o--;
            return (int)Math.Min(o, int.MaxValue);
        }

        /// <summary>Output height and width for an input of <paramref name="h"/> x <paramref name="w"/>; an empty output is an error.</summary>
        public (int H, int W) Output(string op, int h, int w, bool ceil = false) => LayerRules<int, long, IntDims>.Window(op, this, h, w, ceil);

        static int Dim(string op, long size, int[] input, ConvGeometry g) => size <= int.MaxValue ? (int)size
            : throw new KilnException(op, $"{op}: a dimension of {size} elements (input {ShapeText.Format(input)}, kernel ({g.KH}, {g.KW})) exceeds {int.MaxValue}", KilnErrorKind.Shape);

        /// <summary>unfold (im2col): [N, C, H, W] → [N, C·KH·KW, L].</summary>
        public static int[] Im2ColShape(string op, int[] input, ConvGeometry g)
        {
            if (input.Length != 4) throw new KilnException(op, $"{op}: expected a 4-D input [N, C, H, W], got shape {ShapeText.Format(input)}", KilnErrorKind.Shape);
            var (oh, ow) = g.Output(op, input[2], input[3]);
            return new[] { input[0], Dim(op, (long)input[1] * g.KH * g.KW, input, g), Dim(op, (long)oh * ow, input, g) };
        }

        /// <summary>fold (col2im): [N, C·KH·KW, L] → [N, C, H, W], with L matching the windows of H x W.</summary>
        public static int[] Col2ImShape(string op, int[] cols, int h, int w, ConvGeometry g)
        {
            if (cols.Length != 3) throw new KilnException(op, $"{op}: expected a 3-D input [N, C*kh*kw, L], got shape {ShapeText.Format(cols)}", KilnErrorKind.Shape);
            int kk = Dim(op, (long)g.KH * g.KW, cols, g);
            if (cols[1] % kk != 0)
                throw new KilnException(op, $"{op}: expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)={cols[1]} and kernel_size=({g.KH}, {g.KW})", KilnErrorKind.Shape);
            var (oh, ow) = g.Output(op, h, w);
            if ((long)oh * ow != cols[2])
                throw new KilnException(op, $"{op}: given output_size=({h}, {w}), kernel_size=({g.KH}, {g.KW}), dilation=({g.DH}, {g.DW}), padding=({g.PH}, {g.PW}), stride=({g.SH}, {g.SW}), expected size of input's dimension 2 to match the calculated number of sliding blocks {oh} * {ow} = {oh * ow}, but got input.size(2)={cols[2]}", KilnErrorKind.Shape);
            return new[] { cols[0], cols[1] / kk, h, w };
        }
    }
}
