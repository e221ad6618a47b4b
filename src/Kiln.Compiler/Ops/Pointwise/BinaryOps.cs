using System.Collections.Generic;

namespace Kiln.Compiler.Ops.Pointwise
{
    /// <summary>The table of two-input elementwise ops: formula and per-input gradient, each declared once.</summary>
    public static class BinaryOps
    {
        /// <summary>Every declared op.</summary>
        public static IReadOnlyList<BinaryOp> All { get; } = new BinaryOp[]
        {
            new Add(), new Sub(), new Mul(), new Div(), new Maximum(), new Minimum(), new Pow(), new Atan2(), new Remainder(), new SwiGlu(),
        };

        static Dictionary<string, BinaryOp>? _byName;

        /// <summary>The op PyTorch calls <paramref name="name"/>, or null.</summary>
        public static BinaryOp? Find(string name)
        {
            if (_byName is null)
            {
                var d = new Dictionary<string, BinaryOp>();
                foreach (var op in All) d[op.Name] = op;
                _byName = d;
            }
            return _byName.TryGetValue(name, out var found) ? found : null;
        }

        sealed class Add : BinaryOp
        {
            public Add() : base("add") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Add(a, b);
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => grad;
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => grad;
        }

        sealed class Sub : BinaryOp
        {
            public Sub() : base("sub") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Sub(a, b);
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => grad;
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Neg(grad);
        }

        sealed class Mul : BinaryOp
        {
            public Mul() : base("mul") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Mul(a, b);
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Mul(grad, b);
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Mul(grad, a);
        }

        sealed class Div : BinaryOp
        {
            public Div() : base("div") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Div(a, b);
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Div(grad, b);
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Neg(g.Div(g.Mul(grad, y), b));
        }

        /// <summary>Ties split the gradient evenly, as PyTorch does.</summary>
        sealed class Maximum : BinaryOp
        {
            public Maximum() : base("maximum") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Maximum(a, b);
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Mul(grad, g.Add(g.GreaterMask(a, b), g.Scale(g.EqualMask(a, b), 0.5)));
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Mul(grad, g.Add(g.GreaterMask(b, a), g.Scale(g.EqualMask(a, b), 0.5)));
        }

        sealed class Minimum : BinaryOp
        {
            public Minimum() : base("minimum") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Minimum(a, b);
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Mul(grad, g.Add(g.GreaterMask(b, a), g.Scale(g.EqualMask(a, b), 0.5)));
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Mul(grad, g.Add(g.GreaterMask(a, b), g.Scale(g.EqualMask(a, b), 0.5)));
        }

        sealed class Pow : BinaryOp
        {
            public Pow() : base("pow") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Pow(a, b);
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Mul(grad, g.Mul(b, g.Div(y, a)));
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Mul(grad, g.Mul(y, g.Log(a)));
        }

        /// <summary>atan2(a, b): the angle of (b, a).</summary>
        sealed class Atan2 : BinaryOp
        {
            public Atan2() : base("atan2") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Atan2(a, b);
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Div(g.Mul(grad, b), g.Add(g.Mul(a, a), g.Mul(b, b)));
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Neg(g.Div(g.Mul(grad, a), g.Add(g.Mul(a, a), g.Mul(b, b))));
        }

        /// <summary>Python's modulo, a - b·floor(a/b) (the result takes the divisor's sign).</summary>
        sealed class Remainder : BinaryOp
        {
            public Remainder() : base("remainder") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Sub(a, g.Mul(b, g.Floor(g.Div(a, b))));
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => grad;
            // The quotient is (a - y) / b.
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Neg(g.Mul(grad, g.Div(g.Sub(a, y), b)));
        }

        /// <summary>
        /// SwiGLU's gating, silu(a)·b (a the gate projection, b the up projection of Llama-style feed-forwards): one op, so
        /// the gate's activation is never a tensor of its own. Both gradients reuse silu's declaration.
        /// </summary>
        sealed class SwiGlu : BinaryOp
        {
            static readonly UnaryOp Silu = UnaryOps.Find("silu")!;
            public SwiGlu() : base("swiglu") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T a, T b) => g.Mul(Silu.Forward(g, a), b);
            // silu's derivative does not read its output (the y passed is a placeholder).
            public override T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => Silu.Backward(g, a, a, g.Mul(grad, b));
            public override T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad) => g.Mul(grad, Silu.Forward(g, a));
        }
    }
}
