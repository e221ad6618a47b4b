using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>Sliding local blocks of a [N, C, H, W] batch as columns [N, C·kh·kw, L] (<c>F.unfold</c>, im2col).</summary>
    public static Tensor Unfold(Tensor input, int[] kernelSize, int[]? dilation = null, int[]? padding = null, int[]? stride = null)
    {
        using var scope = Tensor.Scope();
        return scope.Keep(Tensor.Im2ColOp(input, Geometry("unfold", kernelSize, dilation, padding, stride)));
    }

    /// <summary>Sums columns [N, C·kh·kw, L] back into a [N, C, H, W] batch (<c>F.fold</c>, col2im).</summary>
    public static Tensor Fold(Tensor input, int[] outputSize, int[] kernelSize, int[]? dilation = null, int[]? padding = null, int[]? stride = null)
    {
        using var scope = Tensor.Scope();
        var o = Pair("fold", outputSize, "output_size");
        return scope.Keep(Tensor.Col2ImOp(input, o[0], o[1], Geometry("fold", kernelSize, dilation, padding, stride)));
    }

    /// <summary>
    /// 2-D convolution (cross-correlation) of [N, C, H, W] with weight [O, C/groups, kh, kw]. <paramref name="padding"/>
    /// is per-dim; use the overload taking a padding string for "same"/"valid".
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, int[]? stride = null, int[]? padding = null, int[]? dilation = null, int groups = 1)
    {
        using var scope = Tensor.Scope();
        if (Autocast.Lower(input, weight, bias) is { } low) return scope.Keep(Autocast.RunLowered(t => Conv2d(t[0]!, t[1]!, t[2], stride, padding, dilation, groups), low, input, weight, bias));
        const string op = "conv2d";
        LayerRules.Conv2d(input.ShapeArray, weight.ShapeArray, [Pick(stride, 0, 1), Pick(stride, 1, 1)], [Pick(padding, 0, 0), Pick(padding, 1, 0)],
            [Pick(dilation, 0, 1), Pick(dilation, 1, 1)], groups, out var g);
        int o = weight.Size(0);
        if (bias is not null && (bias.Dim != 1 || bias.Size(0) != o))
            throw new KilnException(op, $"{op}: expected bias of shape [{o}], got {ShapeText.Format(bias.ShapeArray)}", KilnErrorKind.Shape);
        bool unbatched = input.Dim == 3;
        var x = unbatched ? input.Unsqueeze(0) : input;
        // One fused op (ConvKernel): implicit GEMM for float32 without groups, else per-image im2col and one GEMM per group.
        var y = Tensor.Conv2dOp(x, weight, bias, g, groups);
        return scope.Keep(unbatched ? y.Squeeze(0) : y);
    }

    /// <summary>2-D convolution with string padding: "valid" (none) or "same" (output as large as the input; stride 1 only).</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, int[]? stride, string padding, int[]? dilation = null, int groups = 1)
    {
        using var scope = Tensor.Scope();
        var pads = SamePadding("conv2d", padding, stride, dilation, new[] { weight.Size(2), weight.Size(3) });
        if (pads.Extra) input = Pad(input, pads.Asymmetric);
        return scope.Keep(Conv2d(input, weight, bias, stride, pads.Symmetric, dilation, groups));
    }

    /// <summary>1-D convolution of [N, C, L] with weight [O, C/groups, k].</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        using var scope = Tensor.Scope();
        const string op = "conv1d";
        if (weight.Dim != 3) throw new KilnException(op, $"{op}: expected 3-D weight [out_channels, in_channels/groups, k], got {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        if (input.Dim != 3 && input.Dim != 2)
            throw new KilnException(op, $"{op}: expected 2-D (unbatched) or 3-D (batched) input, but got input of size: {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        var y = Conv2d(input.Unsqueeze(-2), weight.Unsqueeze(2), bias, new[] { 1, stride }, new[] { 0, padding }, new[] { 1, dilation }, groups);
        return scope.Keep(y.Squeeze(-2));
    }

    /// <summary>1-D convolution with "valid" or "same" padding.</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias, int stride, string padding, int dilation = 1, int groups = 1)
    {
        using var scope = Tensor.Scope();
        var pads = SamePadding("conv1d", padding, new[] { stride }, new[] { dilation }, new[] { weight.Size(2) });
        if (pads.Extra) input = Pad(input, new[] { pads.Asymmetric[0], pads.Asymmetric[1] });
        return scope.Keep(Conv1d(input, weight, bias, stride, pads.Symmetric[0], dilation, groups));
    }

    /// <summary>
    /// Transposed 1-D convolution of [N, Cin, L] (or [Cin, L]) with weight [Cin, Cout/groups, k]
    /// (<c>F.conv_transpose1d</c>): the 2-D one over planes of height 1.
    /// </summary>
    public static Tensor ConvTranspose1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0, int groups = 1, int dilation = 1)
    {
        using var scope = Tensor.Scope();
        const string op = "conv_transpose1d";
        if (weight.Dim != 3) throw new KilnException(op, $"{op}: expected 3-D weight [in_channels, out_channels/groups, k], got {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        if (input.Dim != 3 && input.Dim != 2)
            throw new KilnException(op, $"{op}: expected 2-D (unbatched) or 3-D (batched) input, but got input of size: {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        using var plane = input.Unsqueeze(-2);
        using var kernel = weight.Unsqueeze(2);
        using var y = ConvTranspose2d(plane, kernel, bias, [1, stride], [0, padding], [0, outputPadding], groups, [1, dilation]);
        return scope.Keep(y.Squeeze(-2));
    }

    /// <summary>
    /// Transposed 2-D convolution (the gradient of <c>Conv2d</c> with respect to its input)
    /// of [N, Cin, H, W] with weight [Cin, Cout/groups, kh, kw].
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, int[]? stride = null, int[]? padding = null, int[]? outputPadding = null, int groups = 1, int[]? dilation = null)
    {
        using var scope = Tensor.Scope();
        const string op = "conv_transpose2d";
        if (weight.Dim != 4) throw new KilnException(op, $"{op}: expected 4-D weight [in_channels, out_channels/groups, kH, kW], got {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        bool unbatched = input.Dim == 3;
        if (input.Dim != 4 && !unbatched)
            throw new KilnException(op, $"{op}: expected 3-D (unbatched) or 4-D (batched) input, but got input of size: {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        var x = unbatched ? input.Unsqueeze(0) : input;
        int n = x.Size(0), cin = x.Size(1), h = x.Size(2), w = x.Size(3), kh = weight.Size(2), kw = weight.Size(3);
        if (groups <= 0 || cin != weight.Size(0) || cin % groups != 0)
            throw new KilnException(op, $"{op}: Given transposed=1, weight of size {ShapeText.Format(weight.ShapeArray)}, expected input{ShapeText.Format(x.ShapeArray)} to have {weight.Size(0)} channels (divisible by groups={groups}), but got {cin} channels instead", KilnErrorKind.Shape);
        int cout = weight.Size(1) * groups;
        var g = new ConvGeometry(op, kh, kw, Pick(dilation, 0, 1), Pick(dilation, 1, 1), Pick(padding, 0, 0), Pick(padding, 1, 0), Pick(stride, 0, 1), Pick(stride, 1, 1));
        int oph = Pick(outputPadding, 0, 0), opw = Pick(outputPadding, 1, 0);
        if (oph >= Math.Max(g.SH, g.DH) || opw >= Math.Max(g.SW, g.DW) || oph < 0 || opw < 0)
            throw new KilnException(op, $"{op}: output padding must be smaller than either stride or dilation, got output_padding=({oph}, {opw}), stride=({g.SH}, {g.SW}), dilation=({g.DH}, {g.DW})");
        int oh = (h - 1) * g.SH - 2 * g.PH + g.DH * (kh - 1) + oph + 1;
        int ow = (w - 1) * g.SW - 2 * g.PW + g.DW * (kw - 1) + opw + 1;
        if (oh <= 0 || ow <= 0) throw new KilnException(op, $"{op}: calculated output size ({oh} x {ow}) is too small for input ({h} x {w})", KilnErrorKind.Shape);
        if (bias is not null && (bias.Dim != 1 || bias.Size(0) != cout))
            throw new KilnException(op, $"{op}: expected bias of shape [{cout}], got {ShapeText.Format(bias.ShapeArray)}", KilnErrorKind.Shape);
        // cols[n] = Wᵀ · x[n], then fold sums the overlapping windows into the larger image.
        Tensor cols;
        var xs = x.Reshape(n, groups, cin / groups, h * w);
        var wg = weight.Reshape(groups, cin / groups, -1).Transpose(1, 2);   // [G, Cout/G·k·k, Cin/G]
        cols = wg.Matmul(xs).Reshape(n, cout * kh * kw, h * w);
        var y = Tensor.Col2ImOp(cols, oh, ow, g);
        if (bias is not null) y = y + bias.View(1, cout, 1, 1);
        return scope.Keep(unbatched ? y.Squeeze(0) : y);
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    internal static ConvGeometry Geometry(string op, int[] kernel, int[]? dilation, int[]? padding, int[]? stride)
    {
        var k = Pair(op, kernel, "kernel_size");
        return new ConvGeometry(op, k[0], k[1], Pick(dilation, 0, 1), Pick(dilation, 1, 1), Pick(padding, 0, 0), Pick(padding, 1, 0),
            Pick(stride, 0, 1), Pick(stride, 1, 1));
    }

    /// <summary>A one- or two-number size as a pair (PyTorch's <c>_pair</c>).</summary>
    internal static int[] Pair(string op, int[]? v, string name)
    {
        if (v == null || v.Length is < 1 or > 2) throw new KilnException(op, $"{op}: {name} must be one or two numbers");
        return v.Length == 1 ? new[] { v[0], v[0] } : v;
    }

    internal static int Pick(int[]? v, int i, int fallback) => v == null || v.Length == 0 ? fallback : v.Length == 1 ? v[0] : v[i];

    /// <summary>"same"/"valid" padding: symmetric part per dim, and the F.Pad list when the total is odd.</summary>
    internal static (int[] Symmetric, int[] Asymmetric, bool Extra) SamePadding(string op, string padding, int[]? stride, int[]? dilation, int[] kernel)
    {
        int dims = kernel.Length;
        var sym = new int[dims];
        var asym = new int[2 * dims];
        if (padding == "valid") return (sym, asym, false);
        if (padding != "same") throw new KilnException(op, $"{op}: Invalid padding string '{padding}', should be one of [\"valid\", \"same\"]", KilnErrorKind.Shape);
        for (int i = 0; i < dims; i++)
            if (Pick(stride, i, 1) != 1) throw new KilnException(op, $"{op}: padding='same' is not supported for strided convolutions", KilnErrorKind.Unsupported);
        bool extra = false;
        for (int i = 0; i < dims; i++)
        {
            int total = Pick(dilation, i, 1) * (kernel[i] - 1);
            sym[i] = total / 2;
            // F.pad lists the last dim first; the odd extra goes on the right, as PyTorch does.
            int rest = total - 2 * sym[i];
            asym[2 * (dims - 1 - i) + 1] = rest;
            extra |= rest > 0;
        }
        return (sym, asym, extra);
    }
}
