using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static void AddMath(Dictionary<string, Op> t)
    {
        void Unary(string name, Func<Tensor, NodeContext, Tensor> f) => t[name] = c => One(f(c.In(0), c));
        t["Identity"] = c => One(c.Value(0));   // tensors, sequences and optionals alike
        Unary("Abs", (x, _) => x.Abs());
        Unary("Neg", (x, _) => x.Neg());
        Unary("Exp", (x, _) => x.Exp());
        Unary("Log", (x, _) => x.Log());
        Unary("Sqrt", (x, _) => x.Sqrt());
        Unary("Reciprocal", (x, _) => x.Reciprocal());
        Unary("Floor", (x, _) => x.Floor());
        Unary("Ceil", (x, _) => x.Ceil());
        Unary("Round", (x, _) => x.Round());   // half to even, as ONNX asks
        Unary("Sign", (x, _) => x.Sign());
        Unary("Sin", (x, _) => x.Sin());
        Unary("Cos", (x, _) => x.Cos());
        Unary("Tan", (x, _) => x.Tan());
        Unary("Asin", (x, _) => x.Asin());
        Unary("Acos", (x, _) => x.Acos());
        Unary("Atan", (x, _) => x.Atan());
        Unary("Sinh", (x, _) => x.Sinh());
        Unary("Cosh", (x, _) => x.Cosh());
        Unary("Asinh", (x, _) => x.Asinh());
        Unary("Acosh", (x, _) => x.Acosh());
        Unary("Atanh", (x, _) => x.Atanh());
        Unary("Tanh", (x, _) => x.Tanh());
        Unary("Sigmoid", (x, _) => x.Sigmoid());
        Unary("Erf", (x, _) => x.Erf());
        Unary("Relu", (x, _) => x.Relu());
        Unary("Softsign", (x, _) => x.Softsign());
        Unary("Softplus", (x, _) => x.Softplus());
        Unary("HardSwish", (x, _) => x.Hardswish());
        Unary("IsNaN", (x, _) => x.IsNan());
        Unary("IsInf", (x, c) =>
        {
            bool pos = c.Int("detect_positive", 1) != 0, neg = c.Int("detect_negative", 1) != 0;
            var inf = x.IsInf();
            return pos && neg ? inf : pos ? inf.BitwiseAnd(x.Gt(0)) : neg ? inf.BitwiseAnd(x.Lt(0)) : inf.BitwiseAnd(x.Ne(x));
        });
        Unary("Not", (x, _) => x.LogicalNot());
        Unary("LeakyRelu", (x, c) => NN.F.LeakyRelu(x, c.Float("alpha", 0.01f)));
        Unary("Elu", (x, c) => NN.F.Elu(x, c.Float("alpha", 1f)));
        Unary("Celu", (x, c) => NN.F.Celu(x, c.Float("alpha", 1f)));
        Unary("Selu", (x, c) => NN.F.Elu(x, c.Float("alpha", 1.67326319217681884765625f)) * (double)c.Float("gamma", 1.05070102214813232421875f));
        Unary("ThresholdedRelu", (x, c) => Tensor.Where(x.Gt(c.Float("alpha", 1f)), x, Tensor.ZerosLike(x)));
        Unary("HardSigmoid", (x, c) => (x * (double)c.Float("alpha", 0.2f) + c.Float("beta", 0.5f)).Clamp(0, 1));
        Unary("Shrink", (x, c) =>
        {
            double lambd = c.Float("lambd", 0.5f), bias = c.Float("bias", 0f);
            var zero = Tensor.ZerosLike(x);
            return Tensor.Where(x.Lt(-lambd), x + bias, Tensor.Where(x.Gt(lambd), x - bias, zero));
        });

        void Binary(string name, Func<Tensor, Tensor, NodeContext, Tensor> f) => t[name] = c => One(f(c.In(0), c.In(1), c));
        Binary("Add", (a, b, _) => a + b);
        Binary("Sub", (a, b, _) => a - b);
        Binary("Mul", (a, b, _) => a * b);
        Binary("Div", (a, b, _) => a.DType.IsInteger() && b.DType.IsInteger() ? (a.To(DType.Float64) / b.To(DType.Float64)).Trunc().To(a.DType) : a / b);
        Binary("Pow", (a, b, _) => a.DType.IsInteger() ? a.To(DType.Float64).Pow(b.To(DType.Float64)).Round().To(a.DType) : a.Pow(b.To(a.DType)));
        Binary("Mod", (a, b, c) =>
        {
            if (c.Int("fmod", 0) == 0) return a.Remainder(b);   // Python's sign (the divisor's)
            // fmod: C's sign (the dividend's).
            var af = a.To(DType.Float64);
            var bf = b.To(DType.Float64);
            return (af - (af / bf).Trunc() * bf).To(a.DType);
        });
        Binary("Equal", (a, b, _) => a.Eq(b));
        Binary("Less", (a, b, _) => a.Lt(b));
        Binary("LessOrEqual", (a, b, _) => a.Le(b));
        Binary("Greater", (a, b, _) => a.Gt(b));
        Binary("GreaterOrEqual", (a, b, _) => a.Ge(b));
        Binary("And", (a, b, _) => a.BitwiseAnd(b));
        Binary("Or", (a, b, _) => a.BitwiseOr(b));
        Binary("Xor", (a, b, _) => a.BitwiseXor(b));
        Binary("PRelu", (x, slope, _) => Tensor.Where(x.Lt(0), x * slope, x));

        void Variadic(string name, Func<Tensor, Tensor, Tensor> f, bool mean = false) => t[name] = c =>
        {
            var acc = c.In(0);
            for (int i = 1; i < c.InputCount; i++) acc = f(acc, c.In(i));
            return One(mean ? acc / c.InputCount : acc);
        };
        Variadic("Sum", (a, b) => a + b);
        Variadic("Mean", (a, b) => a + b, mean: true);
        Variadic("Max", (a, b) => a.Maximum(b));
        Variadic("Min", (a, b) => a.Minimum(b));

        t["Clip"] = c =>
        {
            var x = c.In(0);
            if (c.Opset < 11) return One(x.Clamp(c.Has("min") ? c.Float("min", 0) : null, c.Has("max") ? c.Float("max", 0) : null));
            Tensor? lo = c.Optional(1), hi = c.Optional(2);
            var r = x;
            if (lo is not null) r = r.Maximum(lo.To(x.DType));
            if (hi is not null) r = r.Minimum(hi.To(x.DType));
            return One(r);
        };
        t["Det"] = c => One(Linalg.Det(c.In(0)));
        t["Where"] = c => One(Tensor.Where(c.In(0).To(DType.Bool), c.In(1), c.In(2)));
    }
}
