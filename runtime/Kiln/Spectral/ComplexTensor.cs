using Kiln.Compiler.Shapes;

namespace Kiln;

/// <summary>
/// A complex tensor as <see cref="Fourier"/> gives and takes it: real and imaginary parts side by side in one real
/// tensor [..., 2] (<c>torch.view_as_real</c>'s layout), so every operation on it is a real Kiln op and gradients flow
/// as PyTorch's do for complex tensors (the gradient of a real loss is ∂L/∂Re + i·∂L/∂Im).
/// </summary>
public readonly struct ComplexTensor
{
    /// <summary>A complex tensor from its parts (of one shape).</summary>
    public ComplexTensor(Tensor real, Tensor imag)
    {
        if (!ShapeRules.SameShape(real.ShapeArray, imag.ShapeArray))
            throw new KilnException("complex", $"complex: real {ShapeText.Format(real.ShapeArray)} and imaginary {ShapeText.Format(imag.ShapeArray)} parts must have one shape", KilnErrorKind.Shape);
        AsReal = Tensor.Stack([real, imag], -1);
    }

    ComplexTensor(Tensor asReal) => AsReal = asReal;

    /// <summary>The real tensor [..., 2] holding (real, imaginary) pairs (<c>torch.view_as_real</c>).</summary>
    public Tensor AsReal { get; }

    /// <summary>A complex view of a real tensor whose last dim is 2 (<c>torch.view_as_complex</c>).</summary>
    public static ComplexTensor ViewAsComplex(Tensor pairs) =>
        pairs.Dim >= 1 && pairs.Size(-1) == 2 ? new ComplexTensor(pairs)
            : throw new KilnException("view_as_complex", $"view_as_complex: expected a last dim of size 2, got {ShapeText.Format(pairs.ShapeArray)}", KilnErrorKind.Shape);

    /// <summary>A real tensor as complex numbers with zero imaginary parts.</summary>
    public static ComplexTensor FromReal(Tensor real)
    {
        using var zeros = Tensor.ZerosLike(real);
        return new(real, zeros);
    }

    /// <summary>abs·e^{i·angle} (<c>torch.polar</c>).</summary>
    public static ComplexTensor Polar(Tensor abs, Tensor angle)
    {
        using var scope = Tensor.Scope();
        return Kept(scope, new ComplexTensor(abs * angle.Cos(), abs * angle.Sin()));
    }

    /// <summary>The real parts.</summary>
    public Tensor Real => AsReal.Select(-1, 0);

    /// <summary>The imaginary parts.</summary>
    public Tensor Imag => AsReal.Select(-1, 1);

    /// <summary>The shape (without the pair dim).</summary>
    public int[] ShapeArray => AsReal.ShapeArray[..^1];

    /// <summary>The number of dims.</summary>
    public int Dim => AsReal.Dim - 1;

    /// <summary>The size of dim <paramref name="dim"/>.</summary>
    public int Size(int dim) => ShapeArray[ShapeRules.NormalizeDim("size", dim, Dim)];

    /// <summary>The magnitudes |z| (<c>torch.abs</c>); the gradient at 0 is 0, as PyTorch's.</summary>
    public Tensor Abs() => AsReal.Norm(2, [-1]);

    /// <summary>The arguments atan2(Im, Re) (<c>torch.angle</c>).</summary>
    public Tensor Angle()
    {
        using var re = Real;
        using var im = Imag;
        return im.Atan2(re);
    }

    /// <summary>The complex conjugate.</summary>
    public ComplexTensor Conj()
    {
        using var re = Real;
        using var im = Imag;
        using var negated = im.Neg();
        return new(re, negated);
    }

    /// <summary>Complex sum.</summary>
    public static ComplexTensor operator +(ComplexTensor a, ComplexTensor b) => new(a.AsReal + b.AsReal);

    /// <summary>Complex difference.</summary>
    public static ComplexTensor operator -(ComplexTensor a, ComplexTensor b) => new(a.AsReal - b.AsReal);

    /// <summary>Complex product (broadcasting as real tensors do).</summary>
    public static ComplexTensor operator *(ComplexTensor a, ComplexTensor b)
    {
        using var scope = Tensor.Scope();   // the parts and partial products go when it returns
        Tensor ar = a.Real, ai = a.Imag, br = b.Real, bi = b.Imag;
        return Kept(scope, new ComplexTensor(ar * br - ai * bi, ar * bi + ai * br));
    }

    /// <summary>Each element times a real tensor (broadcast over the complex shape).</summary>
    public static ComplexTensor operator *(ComplexTensor a, Tensor scale)
    {
        using var column = scale.Unsqueeze(-1);
        return new(a.AsReal * column);
    }

    /// <summary>Each element times a real number.</summary>
    public static ComplexTensor operator *(ComplexTensor a, double scale) => new(a.AsReal * scale);

    /// <summary><paramref name="z"/>, kept past <paramref name="scope"/> (which owns the temporaries that made it).</summary>
    internal static ComplexTensor Kept(TensorScope scope, ComplexTensor z)
    {
        scope.Keep(z.AsReal);
        return z;
    }

    /// <inheritdoc/>
    public override string ToString() => $"complex tensor {ShapeText.Format(ShapeArray)} of {AsReal.DType}";
}
