using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels;
using Kiln.Kernels.Elementwise;

namespace Kiln;

public sealed partial class Tensor
{
    static void CheckSameDevice(string op, Tensor a, Tensor b)
    {
        // A 0-dim host tensor (a Python-style scalar) may meet a CUDA tensor, as in PyTorch.
        if (a.Device != b.Device && !(a.Dim == 0 && a.Device.Type == DeviceType.Cpu) && !(b.Dim == 0 && b.Device.Type == DeviceType.Cpu))
            throw new KilnException(op, $"{op}: expected all tensors to be on the same device, but found at least two devices, {a.Device} and {b.Device}", KilnErrorKind.Device);
    }

    /// <summary>Where a two-operand op runs: the CUDA device when either operand is on one (the other may be a host scalar).</summary>
    internal static Device DeviceOf(Tensor a, Tensor b) => a.IsCuda ? a.Device : b.Device;

    /// <summary>A converted copy when the dtype differs, else null (the caller uses the tensor itself).</summary>
    internal Tensor? ConvertedOrNull(DType dtype) => dtype == DType ? null : Kernels.CopyKernel.Convert(this, dtype);

    /// <summary>
    /// This data as a contiguous tensor of <paramref name="dtype"/> that records nothing, to dispose after use: a new
    /// reference when it already is one, else one converted copy — never a converted alias left for the collector (kernels
    /// call it on every weight and gradient).
    /// </summary>
    internal Tensor ContiguousAs(DType dtype) => dtype == DType ? ContiguousInternal() : Kernels.CopyKernel.Convert(this, dtype);

    /// <summary>Runs a unary op: floating ops lift integer input to float32; f16/bf16 compute in float32.</summary>
    internal Tensor MapUnary<TOp>(string name, TOp op, bool floating) where TOp : struct, IUnaryOp
    {
        var rt = floating && !DType.IsFloatingPoint() ? DTypes.Default : DType;
        if (!floating && DType == DType.Bool && op is NegOp)
            throw new KilnException(name, $"{name}: negation, the `-` operator, on a bool tensor is not supported", KilnErrorKind.Unsupported);
        if (rt == DType.BFloat16 && Kernels.Elementwise.Bf16Elementwise.Applies(this))
        {
            var h = Allocate((int[])_shape.Clone(), rt, false, Device);
            Kernels.Elementwise.Bf16Elementwise.Unary(h, this, op);
            return h;
        }
        var ct = TypeDispatch.ComputeType(rt);
        if ((DType != ct || rt != ct) && ConvertsInBlocks(_shape, this, this))
            return InBlocks(_shape, rt, this, this, (x, _) => x.MapUnary(name, op, floating));
        using var converted = ConvertedOrNull(ct);   // no alias object when the dtype already fits (hot path)
        var y = Allocate((int[])_shape.Clone(), ct, false, Device);
        y.Backend.Unary(y, converted ?? this, op);
        return Finish(y, rt);
    }

    /// <summary>Elements per block when a large op converts its operands to the compute type (16 Mi).</summary>
    internal const long ConvertBlock = 1L << 24;

    /// <summary>
    /// Whether a host op over <paramref name="shape"/> should convert its operands block by block rather than whole: it is
    /// large, and each operand is contiguous in that shape or a single value, so flat blocks of it line up with the output's.
    /// Converting whole would hold copies four to eight times the data (a 2 GiB uint8 tensor computes in int32).
    /// </summary>
    static bool ConvertsInBlocks(int[] shape, Tensor a, Tensor b)
    {
        if (a.IsCuda || b.IsCuda || ShapeRules.Numel(shape) <= ConvertBlock) return false;
        static bool Flat(Tensor t, int[] shape) => t.Numel == 1 || (t.IsContiguous && ShapeRules.SameShape(t._shape, shape));
        return Flat(a, shape) && Flat(b, shape);
    }

    /// <summary>Runs <paramref name="op"/> on flat blocks of the operands, each result written into its block of a new tensor.</summary>
    static Tensor InBlocks(int[] shape, DType rt, Tensor a, Tensor b, System.Func<Tensor, Tensor, Tensor> op)
    {
        long numel = ShapeRules.Numel(shape);
        var y = Allocate((int[])shape.Clone(), rt);
        try
        {
            for (long start = 0; start < numel; start += ConvertBlock)
            {
                int n = (int)System.Math.Min(ConvertBlock, numel - start);
                using var ba = FlatBlock(a, start, n);
                using var bb = ReferenceEquals(a, b) ? null : FlatBlock(b, start, n);
                var x = ba ?? a;
                using var part = op(x, ReferenceEquals(a, b) ? x : bb ?? b);
                using var into = y.AsStrided([n], [1], start);
                Kernels.CopyKernel.Copy(into, part);
            }
        }
        catch
        {
            y.Dispose();
            throw;
        }
        return y;
    }

    /// <summary>
    /// Elements [start, start + n) of a contiguous operand as a 1-D view, or null where the operand itself serves: a 0-dim
    /// value (a wrapped number keeps its weak type for promotion).
    /// </summary>
    static Tensor? FlatBlock(Tensor t, long start, int n) =>
        t.Dim == 0 ? null : t.Numel == 1 ? t.AsStrided([1], [1], t._offset) : t.AsStrided([n], [1], t._offset + start);

    /// <summary>Converts a compute-type result to the result dtype, releasing the intermediate.</summary>
    static Tensor Finish(Tensor y, DType rt)
    {
        if (y.DType == rt) return y;
        var r = Kernels.CopyKernel.Convert(y, rt);
        y.Dispose();
        return r;
    }

    /// <summary>Runs a broadcasting binary op under PyTorch's type promotion.</summary>
    internal static Tensor MapBinary<TOp>(string name, Tensor a, Tensor b, TOp op, bool floating = false) where TOp : struct, IBinaryOp
    {
        CheckSameDevice(name, a, b);
        var rt = ResultType(a, b);
        if (floating && !rt.IsFloatingPoint()) rt = DTypes.Default;
        if (rt == DType.Bool && op is SubOp)
            throw new KilnException(name, $"{name}: subtraction, the `-` operator, with two bool tensors is not supported", KilnErrorKind.Unsupported);
        var shape = ShapeRules.Broadcast(name, a._shape, b._shape);
        if (rt == DType.BFloat16 && Kernels.Elementwise.Bf16Elementwise.Applies(a, b))
        {
            var h = Allocate(shape, rt, false, DeviceOf(a, b));
            Kernels.Elementwise.Bf16Elementwise.Binary(h, a, b, op);
            return h;
        }
        var ct = TypeDispatch.ComputeType(rt);
        if ((a.DType != ct || b.DType != ct || rt != ct) && ConvertsInBlocks(shape, a, b))
            return InBlocks(shape, rt, a, b, (x, z) => MapBinary(name, x, z, op, floating));
        using var ca = a.ConvertedOrNull(ct);
        using var cb = b.ConvertedOrNull(ct);
        var y = Allocate(shape, ct, false, DeviceOf(a, b));
        y.Backend.Binary(y, ca ?? a, cb ?? b, op);
        return Finish(y, rt);
    }

    internal static Tensor MapCompare<TOp>(string name, Tensor a, Tensor b, TOp op) where TOp : struct, ICompareOp
    {
        CheckSameDevice(name, a, b);
        var ct = TypeDispatch.ComputeType(ResultType(a, b));
        var shape = ShapeRules.Broadcast(name, a._shape, b._shape);
        using var x = a.ToInternal(ct);
        using var z = b.ToInternal(ct);
        var y = Allocate(shape, DType.Bool, false, DeviceOf(a, b));
        y.Backend.Compare(y, x, z, op);
        // Nothing to differentiate; recorded only while an exporter traces (a mask computed from token ids).
        return GradMode.Tracing ? Record(name, y, null, a, b) : y;
    }

    /// <summary>Writes <paramref name="result"/> into this tensor (the shared tail of every in-place op).</summary>
    internal Tensor AssignInPlace(string name, Tensor result)
    {
        if (!ShapeRules.SameShape(result._shape, _shape))
            throw new KilnException(name, $"{name}: output with shape {ShapeText.Format(_shape)} doesn't match the broadcast shape {ShapeText.Format(result._shape)}", KilnErrorKind.Shape);
        if (result.DType.IsFloatingPoint() && !DType.IsFloatingPoint() || result.DType != DType.Bool && DType == DType.Bool)
            throw new KilnException(name, $"{name}: result type {result.DType} can't be cast to the desired output type {DType}", KilnErrorKind.DType);
        CheckInPlaceAllowed(name);
        Kernels.CopyKernel.Copy(this, result);
        BumpVersion();
        if (GradMode.Enabled && result.GradFn is { } node)
        {
            // The same tensor object now holds the op's result: it becomes the node's output.
            GradFn = node;
            node.Rebind(this);
        }
        else result.Dispose();
        return this;
    }

    /// <summary>PyTorch refuses in-place ops on leaves that require grad while recording.</summary>
    void CheckInPlaceAllowed(string name)
    {
        if (GradMode.Enabled && IsLeaf && _requiresGrad)
            throw new KilnException(name, $"{name}: a leaf Variable that requires grad is being used in an in-place operation.", KilnErrorKind.State);
    }

    // ---- arithmetic -------------------------------------------------------------------------------

    /// <summary>a + b with broadcasting (<c>torch.add</c>).</summary>
    public Tensor Add(Tensor other) => Record("add", MapBinary("add", this, other, new AddOp()), null, this, other);
    /// <summary>a + alpha * b (<c>torch.add(a, b, alpha=...)</c>).</summary>
    public Tensor Add(Tensor other, double alpha) => alpha == 1 ? Add(other) : Add(other.Mul(alpha));
    /// <summary>a - b.</summary>
    public Tensor Sub(Tensor other) => Record("sub", MapBinary("sub", this, other, new SubOp()), null, this, other);
    /// <summary>a * b.</summary>
    public Tensor Mul(Tensor other) => Record("mul", MapBinary("mul", this, other, new MulOp()), null, this, other);
    /// <summary>True division a / b; integers give float32.</summary>
    public Tensor Div(Tensor other) => Record("div", MapBinary("div", this, other, new DivOp(), floating: true), null, this, other);
    /// <summary>Elementwise maximum (<c>torch.maximum</c>).</summary>
    public Tensor Maximum(Tensor other) => Record("maximum", MapBinary("maximum", this, other, new MaximumOp()), null, this, other);
    /// <summary>Elementwise minimum (<c>torch.minimum</c>).</summary>
    public Tensor Minimum(Tensor other) => Record("minimum", MapBinary("minimum", this, other, new MinimumOp()), null, this, other);

    /// <summary>a ** b elementwise.</summary>
    public Tensor Pow(Tensor exponent)
    {
        if (!ResultType(this, exponent).IsFloatingPoint() && exponent.DType != DType.Bool)
        {
            using var neg = exponent.Lt(Scalar(0L));
            if (neg.Any().Item<bool>())
                throw new KilnException("pow", "pow: integers to negative integer powers are not allowed");
        }
        return Record("pow", MapBinary("pow", this, exponent, new PowOp()), null, this, exponent);
    }

    /// <summary>a ** exponent.</summary>
    public Tensor Pow(double exponent)
    {
        if (DType.IsFloatingPoint() || exponent != System.Math.Floor(exponent))
            return Record("pow_scalar", MapUnary("pow", new FloatUnary<PowScalarF>(new PowScalarF { Exponent = exponent }), floating: true), new PowScalarArgs(exponent), this);
        using var integer = Scalar((long)exponent);
        return Pow(integer);
    }

    /// <summary>a + scalar.</summary>
    public Tensor Add(double s) { using var scalar = Scalar(s); return Add(scalar); }
    /// <summary>a - scalar.</summary>
    public Tensor Sub(double s) { using var scalar = Scalar(s); return Sub(scalar); }
    /// <summary>a * scalar.</summary>
    public Tensor Mul(double s) { using var scalar = Scalar(s); return Mul(scalar); }
    /// <summary>a / scalar.</summary>
    public Tensor Div(double s) { using var scalar = Scalar(s); return Div(scalar); }

    /// <summary>GELU; <paramref name="approximate"/> is "none" (erf) or "tanh", as in PyTorch.</summary>
    public Tensor Gelu(string approximate = "none") => approximate switch
    {
        "none" => Record("gelu", MapUnary("gelu", new FloatUnary<GeluF>(), floating: true), new GeluArgs("none"), this),
        "tanh" => Record("gelu", MapUnary("gelu", new FloatUnary<GeluTanhF>(), floating: true), new GeluArgs("tanh"), this),
        _ => throw new KilnException("gelu", $"gelu: approximate must be \"none\" or \"tanh\", got \"{approximate}\""),
    };
    /// <summary>log(1 + e^{βx})/β, linear where βx exceeds the threshold.</summary>
    public Tensor Softplus(double beta = 1, double threshold = 20) =>
        Record("softplus", MapUnary("softplus", new FloatUnary<SoftplusF>(new SoftplusF { Beta = beta, Threshold = threshold }), floating: true),
            new SoftplusArgs(beta, threshold), this);

    /// <summary>x·x in x's dtype (<c>torch.square</c>; an integer tensor stays integer).</summary>
    public Tensor Square() => Mul(this);

    /// <summary>
    /// log(x / (1 - x)) of x clamped into [<paramref name="eps"/>, 1 - <paramref name="eps"/>] (<c>torch.logit(x, eps)</c>);
    /// the gradient is 0 where the clamp bites, as PyTorch's.
    /// </summary>
    public Tensor Logit(double eps)
    {
        using var clamped = Clamp(eps, 1 - eps);
        return clamped.Logit();
    }

    /// <summary>Clamps into [min, max]; a null bound is open.</summary>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        if (min is null && max is null)
            throw new KilnException("clamp", "clamp: at least one of 'min' or 'max' must not be None");
        var rt = DType.IsFloatingPoint() || (min is not { } a || a == System.Math.Floor(a)) && (max is not { } b || b == System.Math.Floor(b))
            ? DType : DTypes.Default;
        using var src = ToInternal(rt);
        var r = src.MapUnary("clamp", new ClampOp { Min = min ?? 0, Max = max ?? 0, HasMin = min.HasValue, HasMax = max.HasValue }, floating: false);
        return Record("clamp", r, new ClampArgs(min, max), this);
    }

    /// <summary>Clamps with tensor bounds (broadcast).</summary>
    public Tensor Clamp(Tensor? min, Tensor? max)
    {
        if (min is null && max is null)
            throw new KilnException("clamp", "clamp: at least one of 'min' or 'max' must not be None");
        if (min is null) return Minimum(max!);
        var lower = Maximum(min);
        if (max is null) return lower;
        using (lower) return lower.Minimum(max);
    }

    // ---- comparisons ------------------------------------------------------------------------------

    /// <summary>a == b (bool).</summary>
    public Tensor Eq(Tensor other) => MapCompare("eq", this, other, new EqOp());
    /// <summary>a != b (bool).</summary>
    public Tensor Ne(Tensor other) => MapCompare("ne", this, other, new NeOp());
    /// <summary>a &lt; b (bool).</summary>
    public Tensor Lt(Tensor other) => MapCompare("lt", this, other, new LtOp());
    /// <summary>a &lt;= b (bool).</summary>
    public Tensor Le(Tensor other) => MapCompare("le", this, other, new LeOp());
    /// <summary>a &gt; b (bool).</summary>
    public Tensor Gt(Tensor other) => MapCompare("gt", this, other, new GtOp());
    /// <summary>a &gt;= b (bool).</summary>
    public Tensor Ge(Tensor other) => MapCompare("ge", this, other, new GeOp());
    /// <summary>a == scalar.</summary>
    public Tensor Eq(double s) { using var scalar = Scalar(s); return Eq(scalar); }
    /// <summary>a &lt; scalar.</summary>
    public Tensor Lt(double s) { using var scalar = Scalar(s); return Lt(scalar); }
    /// <summary>a &gt; scalar.</summary>
    public Tensor Gt(double s) { using var scalar = Scalar(s); return Gt(scalar); }
    /// <summary>a &lt;= scalar.</summary>
    public Tensor Le(double s) { using var scalar = Scalar(s); return Le(scalar); }
    /// <summary>a &gt;= scalar.</summary>
    public Tensor Ge(double s) { using var scalar = Scalar(s); return Ge(scalar); }
    /// <summary>a != scalar.</summary>
    public Tensor Ne(double s) { using var scalar = Scalar(s); return Ne(scalar); }

    /// <summary>Elementwise choice: <paramref name="condition"/> ? a : b, all broadcast (<c>torch.where</c>).</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        const string op = "where";
        if (condition.DType != DType.Bool && condition.DType != DType.UInt8)
            throw new KilnException(op, $"{op}: expected condition to be a bool tensor, but got {condition.DType}", KilnErrorKind.DType);
        CheckSameDevice(op, a, b);
        CheckSameDevice(op, condition, a.IsCuda ? a : b);
        var rt = ResultType(a, b);
        var shape = ShapeRules.Broadcast(op, ShapeRules.Broadcast(op, condition._shape, a._shape), b._shape);
        using var x = a.ToInternal(rt);
        using var z = b.ToInternal(rt);
        var y = Allocate(shape, rt, false, condition.IsCuda ? condition.Device : DeviceOf(a, b));
        y.Backend.Where(y, condition, x, z);
        return Record("where", y, null, condition, a, b);
    }

    /// <summary>Fills positions where <paramref name="mask"/> is true with <paramref name="value"/>.</summary>
    public Tensor MaskedFill(Tensor mask, double value)
    {
        if (mask.DType != DType.Bool)
            throw new KilnException("masked_fill", $"masked_fill: expected the mask to be a bool tensor, got {mask.DType}", KilnErrorKind.DType);
        var shape = ShapeRules.Broadcast("masked_fill", _shape, mask._shape);
        if (!ShapeRules.SameShape(shape, _shape))
            throw new KilnException("masked_fill", $"masked_fill: mask of shape {ShapeText.Format(mask._shape)} cannot be broadcast to the tensor's shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        using var v = Full(System.Array.Empty<int>(), value, DType);
        return Where(mask, v, this);
    }

    /// <summary>1 where this &gt; <paramref name="threshold"/>, else 0, in this dtype; a constant for autograd (not recorded).</summary>
    /// <summary>This tensor where <paramref name="a"/> &gt; <paramref name="threshold"/>, else 0 (not recorded).</summary>
    internal Tensor KeepWhereGreater(Tensor a, double threshold) => MapBinary("relu_backward", this, a, new KeepWhereGreaterOp { Threshold = threshold });
    internal Tensor GreaterMask(double threshold) => MapUnary("gt", new GreaterMaskOp { Threshold = threshold }, floating: false);

    /// <summary>In-place <see cref="MaskedFill"/>.</summary>
    public Tensor MaskedFill_(Tensor mask, double value) => AssignInPlace("masked_fill_", MaskedFill(mask, value));

    /// <summary>Elementwise logical not: true where the element is zero / false (<c>logical_not</c>).</summary>
    public Tensor LogicalNot() => Eq(0.0);

    // ---- in-place variants (PyTorch's trailing underscore) ------------------------------------------

    /// <summary>In-place add.</summary>
    public Tensor Add_(Tensor other) => AssignInPlace("add_", Add(other));
    /// <summary>In-place self + alpha · other (<c>add_(other, alpha=...)</c>).</summary>
    public Tensor Add_(Tensor other, double alpha) => AssignInPlace("add_", Add(other, alpha));
    /// <summary>In-place add of a scalar.</summary>
    public Tensor Add_(double s) => AssignInPlace("add_", Add(s));
    /// <summary>In-place subtract.</summary>
    public Tensor Sub_(Tensor other) => AssignInPlace("sub_", Sub(other));
    /// <summary>In-place multiply.</summary>
    public Tensor Mul_(Tensor other) => AssignInPlace("mul_", Mul(other));
    /// <summary>In-place multiply by a scalar.</summary>
    public Tensor Mul_(double s) => AssignInPlace("mul_", Mul(s));
    /// <summary>In-place divide.</summary>
    public Tensor Div_(Tensor other) => AssignInPlace("div_", Div(other));
    /// <summary>In-place exp.</summary>
    public Tensor Exp_() => AssignInPlace("exp_", Exp());
    /// <summary>In-place relu.</summary>
    public Tensor Relu_() => AssignInPlace("relu_", Relu());
    /// <summary>In-place negation.</summary>
    public Tensor Neg_() => AssignInPlace("neg_", Neg());
    /// <summary>In-place clamp.</summary>
    public Tensor Clamp_(double? min = null, double? max = null) => AssignInPlace("clamp_", Clamp(min, max));
    /// <summary>In-place subtract of a scalar.</summary>
    public Tensor Sub_(double s) => AssignInPlace("sub_", Sub(s));
    /// <summary>In-place divide by a scalar.</summary>
    public Tensor Div_(double s) => AssignInPlace("div_", Div(s));
    /// <summary>In-place power.</summary>
    public Tensor Pow_(double exponent) => AssignInPlace("pow_", Pow(exponent));
    /// <summary>In-place absolute value.</summary>
    public Tensor Abs_() => AssignInPlace("abs_", Abs());
    /// <summary>In-place natural logarithm.</summary>
    public Tensor Log_() => AssignInPlace("log_", Log());
    /// <summary>In-place tanh.</summary>
    public Tensor Tanh_() => AssignInPlace("tanh_", Tanh());
    /// <summary>In-place sigmoid.</summary>
    public Tensor Sigmoid_() => AssignInPlace("sigmoid_", Sigmoid());
    /// <summary>In-place elementwise maximum.</summary>
    public Tensor Maximum_(Tensor other) => AssignInPlace("maximum_", Maximum(other));
    /// <summary>In-place sqrt.</summary>
    public Tensor Sqrt_() => AssignInPlace("sqrt_", Sqrt());
    /// <summary>In-place fill with a value.</summary>
    public Tensor Fill_(double value)
    {
        CheckInPlaceAllowed("fill_");
        using var v = Full(System.Array.Empty<int>(), value, DType);
        Kernels.CopyKernel.Copy(this, v);
        BumpVersion();
        if (GradMode.Enabled) GradFn = null; // the old graph no longer influences the values
        return this;
    }
    /// <summary>In-place zero.</summary>
    public Tensor Zero_() => Fill_(0);
    /// <summary>Copies <paramref name="src"/> (broadcast, converted) into this tensor (<c>copy_</c>).</summary>
    public Tensor Copy_(Tensor src)
    {
        // copy_ may cross devices (host <-> CUDA), as in PyTorch; its derivative moves the gradient back.
        CheckInPlaceAllowed("copy_");
        Kernels.CopyKernel.Copy(this, src);
        BumpVersion();
        if (GradMode.Enabled)
        {
            GradFn = null;
            if (src.RequiresGrad) { GradFn = new GradNode("copy", null, new Tensor?[] { src }, this); }
        }
        return this;
    }

    // ---- operators ------------------------------------------------------------------------------------

    /// <summary>Broadcasting add.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    /// <summary>Broadcasting subtract.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    /// <summary>Broadcasting multiply.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    /// <summary>Broadcasting true division.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();
    /// <summary>Tensor + number.</summary>
    public static Tensor operator +(Tensor a, double s) { using var scalar = Scalar(s); return a.Add(scalar); }
    /// <summary>Number + tensor.</summary>
    public static Tensor operator +(double s, Tensor a) { using var scalar = Scalar(s); return scalar.Add(a); }
    /// <summary>Tensor - number.</summary>
    public static Tensor operator -(Tensor a, double s) { using var scalar = Scalar(s); return a.Sub(scalar); }
    /// <summary>Number - tensor.</summary>
    public static Tensor operator -(double s, Tensor a) { using var scalar = Scalar(s); return scalar.Sub(a); }
    /// <summary>Tensor * number.</summary>
    public static Tensor operator *(Tensor a, double s) { using var scalar = Scalar(s); return a.Mul(scalar); }
    /// <summary>Number * tensor.</summary>
    public static Tensor operator *(double s, Tensor a) { using var scalar = Scalar(s); return scalar.Mul(a); }
    /// <summary>Tensor / number.</summary>
    public static Tensor operator /(Tensor a, double s) { using var scalar = Scalar(s); return a.Div(scalar); }
    /// <summary>Number / tensor.</summary>
    public static Tensor operator /(double s, Tensor a) { using var scalar = Scalar(s); return scalar.Div(a); }
    /// <summary>Tensor + integer (keeps integer dtypes).</summary>
    public static Tensor operator +(Tensor a, long s) { using var scalar = Scalar(s); return a.Add(scalar); }
    /// <summary>Tensor - integer.</summary>
    public static Tensor operator -(Tensor a, long s) { using var scalar = Scalar(s); return a.Sub(scalar); }
    /// <summary>Tensor * integer.</summary>
    public static Tensor operator *(Tensor a, long s) { using var scalar = Scalar(s); return a.Mul(scalar); }
    /// <summary>Elementwise a &lt; b.</summary>
    public static Tensor operator <(Tensor a, Tensor b) => a.Lt(b);
    /// <summary>Elementwise a &gt; b.</summary>
    public static Tensor operator >(Tensor a, Tensor b) => a.Gt(b);
    /// <summary>Elementwise a &lt;= b.</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => a.Le(b);
    /// <summary>Elementwise a &gt;= b.</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => a.Ge(b);
    /// <summary>Elementwise a &lt; s.</summary>
    public static Tensor operator <(Tensor a, double s) => a.Lt(s);
    /// <summary>Elementwise a &gt; s.</summary>
    public static Tensor operator >(Tensor a, double s) => a.Gt(s);
    /// <summary>Elementwise a &lt;= s.</summary>
    public static Tensor operator <=(Tensor a, double s) => a.Le(s);
    /// <summary>Elementwise a &gt;= s.</summary>
    public static Tensor operator >=(Tensor a, double s) => a.Ge(s);
}
