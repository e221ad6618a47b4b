using System;

namespace Kiln.Distributions;

/// <summary>
/// A set a distribution's parameter or sample must lie in (<c>torch.distributions.constraints</c>): <see cref="Check"/>
/// says, element by element (an event of <see cref="EventDim"/> trailing dims counting as one), whether a value is in it.
/// Its text is PyTorch's, as the validation errors print it.
/// </summary>
public abstract class Constraint
{
    /// <summary>A boolean tensor: true where <paramref name="value"/> satisfies the constraint (the event dims reduced).</summary>
    public abstract Tensor Check(Tensor value);

    /// <summary>The trailing dims one check covers (1 for a simplex, 2 for a matrix constraint).</summary>
    public virtual int EventDim => 0;

    /// <summary>A transform from unconstrained values onto this set (a bijection when asked), or null when there is none.</summary>
    internal virtual Transform? From(bool bijective) => null;
}

/// <summary>The constraints PyTorch's distributions declare, under its names.</summary>
public static class Constraints
{
    /// <summary>Any number but NaN (<c>constraints.real</c>).</summary>
    public static Constraint Real { get; } = new Bounded(null, false, null, false, false, "Real()");

    /// <summary>x &gt; 0 (<c>constraints.positive</c>).</summary>
    public static Constraint Positive { get; } = GreaterThan(0);

    /// <summary>x ≥ 0 (<c>constraints.nonnegative</c>).</summary>
    public static Constraint Nonnegative { get; } = GreaterThanEq(0);

    /// <summary>0 ≤ x ≤ 1 (<c>constraints.unit_interval</c>).</summary>
    public static Constraint UnitInterval { get; } = Interval(0, 1);

    /// <summary>0 or 1 (<c>constraints.boolean</c>).</summary>
    public static Constraint Boolean { get; } = new Bounded(0.0, true, 1.0, true, true, "Boolean()", booleanOnly: true);

    /// <summary>Whole numbers ≥ 0 (<c>constraints.nonnegative_integer</c>).</summary>
    public static Constraint NonnegativeInteger { get; } = new Bounded(0.0, true, null, false, true, "IntegerGreaterThan(lower_bound=0)");

    /// <summary>Nonnegative vectors summing to 1 (<c>constraints.simplex</c>).</summary>
    public static Constraint Simplex { get; } = new SimplexConstraint();

    /// <summary>Vectors of reals (<c>constraints.real_vector</c>).</summary>
    public static Constraint RealVector { get; } = Independent(Real, 1);

    /// <summary>Lower triangular with a positive diagonal (<c>constraints.lower_cholesky</c>).</summary>
    public static Constraint LowerCholesky { get; } = new MatrixConstraint(MatrixConstraint.Kind.LowerCholesky);

    /// <summary>Symmetric positive definite (<c>constraints.positive_definite</c>).</summary>
    public static Constraint PositiveDefinite { get; } = new MatrixConstraint(MatrixConstraint.Kind.PositiveDefinite);

    /// <summary>Lower Cholesky factors of correlation matrices: rows of unit length (<c>constraints.corr_cholesky</c>).</summary>
    public static Constraint CorrCholesky { get; } = new MatrixConstraint(MatrixConstraint.Kind.CorrCholesky);

    /// <summary>x &gt; <paramref name="lower"/>.</summary>
    public static Constraint GreaterThan(double lower) => new Bounded(lower, false, null, false, false, $"GreaterThan(lower_bound={PyFloat(lower)})");

    /// <summary>x ≥ <paramref name="lower"/>.</summary>
    public static Constraint GreaterThanEq(double lower) => new Bounded(lower, true, null, false, false, $"GreaterThanEq(lower_bound={PyFloat(lower)})");

    /// <summary>x ≥ <paramref name="lower"/> elementwise (a tensor bound: Pareto's support starts at its scale).</summary>
    public static Constraint GreaterThanEq(Tensor lower) => new Bounded(lower, true, null, false, false, $"GreaterThanEq(lower_bound={Bound(lower)})");

    /// <summary><paramref name="lower"/> ≤ x ≤ <paramref name="upper"/>.</summary>
    public static Constraint Interval(double lower, double upper) =>
        new Bounded(lower, true, upper, true, false, $"Interval(lower_bound={PyFloat(lower)}, upper_bound={PyFloat(upper)})");

    /// <summary><paramref name="lower"/> ≤ x &lt; <paramref name="upper"/>.</summary>
    public static Constraint HalfOpenInterval(double lower, double upper) =>
        new Bounded(lower, true, upper, false, false, $"HalfOpenInterval(lower_bound={PyFloat(lower)}, upper_bound={PyFloat(upper)})");

    /// <summary>Whole numbers in [<paramref name="lower"/>, <paramref name="upper"/>] (Categorical's support).</summary>
    public static Constraint IntegerInterval(int lower, int upper) =>
        new Bounded((double)lower, true, (double)upper, true, true, $"IntegerInterval(lower_bound={lower}, upper_bound={upper})");

    /// <summary>Whole numbers in [<paramref name="lower"/>, <paramref name="upper"/>] elementwise (Binomial's support).</summary>
    public static Constraint IntegerInterval(int lower, Tensor upper) =>
        new Bounded((double)lower, true, upper, true, true, $"IntegerInterval(lower_bound={lower}, upper_bound={Bound(upper)})");

    /// <summary>x &gt; <paramref name="lower"/> elementwise (Uniform's high above its low).</summary>
    public static Constraint GreaterThan(Tensor lower) => new Bounded(lower, false, null, false, false, $"GreaterThan(lower_bound={Bound(lower)})");

    /// <summary><paramref name="lower"/> ≤ x ≤ <paramref name="upper"/> elementwise (Uniform's support).</summary>
    public static Constraint Interval(Tensor lower, Tensor upper) => new Bounded(lower, true, upper, true, false, $"Interval(lower_bound={Bound(lower)}, upper_bound={Bound(upper)})");

    /// <summary>x &lt; <paramref name="upper"/>.</summary>
    public static Constraint LessThan(double upper) => new Bounded(null, false, upper, false, false, $"LessThan(upper_bound={PyFloat(upper)})");

    /// <summary>
    /// The bijection from unconstrained reals onto <paramref name="constraint"/>'s set (<c>biject_to</c>): for optimizing a
    /// constrained parameter through an unconstrained one, with the log-determinant a density needs.
    /// </summary>
    public static Transform BijectTo(Constraint constraint) =>
        constraint.From(bijective: true) ?? throw new KilnException("biject_to", $"biject_to: cannot transform {constraint} constraints", KilnErrorKind.Unsupported);

    /// <summary>A transform from unconstrained reals onto <paramref name="constraint"/>'s set (<c>transform_to</c>; softmax for a simplex, not a bijection).</summary>
    public static Transform TransformTo(Constraint constraint) =>
        constraint.From(bijective: false) ?? throw new KilnException("transform_to", $"transform_to: cannot transform {constraint} constraints", KilnErrorKind.Unsupported);

    /// <summary><paramref name="inner"/> over events of <paramref name="reinterpretedDims"/> more trailing dims (<c>constraints.independent</c>).</summary>
    public static Constraint Independent(Constraint inner, int reinterpretedDims) => new IndependentConstraint(inner, reinterpretedDims);

    static string PyFloat(double v) => Kiln.NN.PyFormat.Float(v);

    /// <summary>A tensor bound in a constraint's text, by its shape (reading its values would wait on the device).</summary>
    static string Bound(Tensor t) => $"tensor of shape {Compiler.Shapes.ShapeText.Format(t.ShapeArray)}";

    /// <summary>Lower and upper bounds (numbers or tensors, open or closed), whole numbers only or 0/1 only when asked.</summary>
    sealed class Bounded(object? lower, bool lowerClosed, object? upper, bool upperClosed, bool integer, string text, bool booleanOnly = false) : Constraint
    {
        public override Tensor Check(Tensor value)
        {
            using var noGrad = Autograd.NoGrad();
            var ok = value.Eq(value);                                   // not NaN
            if (booleanOnly)
            {
                using var zero = value.Eq(0);
                using var one = value.Eq(1);
                using var either = zero.LogicalOr(one);
                return And(ok, either);
            }
            if (integer)
            {
                using var floor = value.Floor();
                using var whole = value.Eq(floor);
                ok = And(ok, whole);
            }
            if (lower is not null)
            {
                using var side = Compare(value, lower, lowerClosed, above: true);
                ok = And(ok, side);
            }
            if (upper is not null)
            {
                using var side = Compare(value, upper, upperClosed, above: false);
                ok = And(ok, side);
            }
            return ok;
        }

        static Tensor Compare(Tensor value, object bound, bool closed, bool above) => bound switch
        {
            double d => above ? (closed ? value.Ge(d) : value.Gt(d)) : (closed ? value.Le(d) : value.Lt(d)),
            Tensor t => above ? (closed ? value.Ge(t) : value.Gt(t)) : (closed ? value.Le(t) : value.Lt(t)),
            _ => throw new ArgumentException("a constraint bound is a number or a tensor", nameof(bound)),
        };

        public override string ToString() => text;

        // Exp then a shift for a one-sided bound (a flip below an upper one), a sigmoid then an affine map for an interval
        // (the sigmoid alone for [0, 1]); discrete sets have none.
        internal override Transform? From(bool bijective)
        {
            if (integer || booleanOnly) return null;
            if (lower is null && upper is null) return new ComposeTransform();
            if (upper is null) return new ComposeTransform(new ExpTransform(), new AffineTransform(AsTensor(lower!), Tensor.Scalar(1.0)));
            if (lower is null) return new ComposeTransform(new ExpTransform(), new AffineTransform(AsTensor(upper), Tensor.Scalar(-1.0)));
            if (lower is double lo && upper is double hi && lo == 0 && hi == 1) return new SigmoidTransform();
            var low = AsTensor(lower);
            var width = AsTensor(upper) - low;
            return new ComposeTransform(new SigmoidTransform(), new AffineTransform(low, width));
        }

        static Tensor AsTensor(object bound) => bound is Tensor t ? t : Tensor.Scalar((double)bound);
    }

    /// <summary><paramref name="a"/> ∧ <paramref name="b"/>, disposing <paramref name="a"/>.</summary>
    static Tensor And(Tensor a, Tensor b)
    {
        using (a) return a.LogicalAnd(b);
    }

    sealed class SimplexConstraint : Constraint
    {
        public override int EventDim => 1;

        public override Tensor Check(Tensor value)
        {
            using var noGrad = Autograd.NoGrad();
            using var nonnegative = value.Ge(0);
            using var allNonnegative = nonnegative.All(-1);
            using var sum = value.Sum(-1);
            using var gap = sum - 1.0;
            using var distance = gap.Abs();
            using var unit = distance.Lt(1e-6);
            return allNonnegative.LogicalAnd(unit);
        }

        public override string ToString() => "Simplex()";

        internal override Transform? From(bool bijective) => bijective ? new StickBreakingTransform() : new SoftmaxTransform();
    }

    sealed class IndependentConstraint(Constraint inner, int dims) : Constraint
    {
        public override int EventDim => inner.EventDim + dims;

        public override Tensor Check(Tensor value)
        {
            var result = inner.Check(value);
            for (int i = 0; i < dims; i++)
            {
                using var before = result;
                result = before.All(-1);
            }
            return result;
        }

        public override string ToString() => $"IndependentConstraint({inner}, {dims})";

        internal override Transform? From(bool bijective) => inner.From(bijective) is { } t ? new IndependentTransform(t, dims) : null;
    }

    sealed class MatrixConstraint(MatrixConstraint.Kind kind) : Constraint
    {
        public enum Kind { LowerCholesky, PositiveDefinite, CorrCholesky }

        public override int EventDim => 2;

        public override Tensor Check(Tensor value)
        {
            using var noGrad = Autograd.NoGrad();
            if (kind == Kind.PositiveDefinite)
            {
                // Symmetric, and every eigenvalue positive.
                using var transposed = value.Transpose(-2, -1);
                using var close = value.IsClose(transposed, rtol: 1e-5, atol: 1e-6);
                using var rows = close.All(-1);
                using var symmetric = rows.All(-1);
                using var eigen = Linalg.Eigvalsh(value);
                using var positive = eigen.Gt(0);
                using var allPositive = positive.All(-1);
                return symmetric.LogicalAnd(allPositive);
            }
            using var lower = value.Tril();
            using var same = value.Eq(lower);
            using var sameRows = same.All(-1);
            using var triangular = sameRows.All(-1);
            using var diagonal = value.Diagonal(0, -2, -1);
            using var positiveDiagonal = diagonal.Gt(0);
            using var allPositiveDiagonal = positiveDiagonal.All(-1);
            var ok = triangular.LogicalAnd(allPositiveDiagonal);
            if (kind == Kind.CorrCholesky)
            {
                using var norms = value.Norm(2, [-1]);
                using var gap = norms - 1.0;
                using var distance = gap.Abs();
                double tolerance = 1e-4 * value.Size(-1);
                using var unit = distance.Le(tolerance);
                using var allUnit = unit.All(-1);
                ok = And(ok, allUnit);
            }
            return ok;
        }

        // PyTorch registers the lower-Cholesky map for transform_to only (it is not onto all of them with its inverse).
        internal override Transform? From(bool bijective) => kind == Kind.LowerCholesky && !bijective ? new LowerCholeskyTransform() : null;

        public override string ToString() => kind switch
        {
            Kind.LowerCholesky => "LowerCholesky()",
            Kind.PositiveDefinite => "PositiveDefinite()",
            _ => "CorrCholesky()",
        };
    }
}
