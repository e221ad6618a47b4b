using System;
using System.Collections.Generic;

namespace Kiln;

public static partial class Autograd
{
    /// <summary>
    /// Higher-level derivatives of a function of tensors (<c>torch.autograd.functional</c>): Jacobians and Hessians,
    /// vector-Jacobian, Jacobian-vector, Hessian-vector and vector-Hessian products, all by reverse mode (the forward
    /// products by the double-backward trick, so the function's ops must differentiate their own backward).
    /// </summary>
    /// <remarks>
    /// The function is called on fresh leaves that share the inputs' data; an output that does not depend on an input gets
    /// zeros there, or with <c>strict</c> an error naming both. Results are detached unless <c>createGraph</c> is set, in
    /// which case they can be differentiated again (and through the inputs, when those require gradients).
    /// </remarks>
    public static class Functional
    {
        /// <summary>The Jacobian of <paramref name="func"/> at <paramref name="input"/>: shape output.shape + input.shape.</summary>
        public static Tensor Jacobian(Func<Tensor, Tensor> func, Tensor input, bool createGraph = false, bool strict = false) =>
            Jacobian(x => [func(x[0])], [input], createGraph, strict)[0][0];

        /// <summary>The Jacobians of every output of <paramref name="func"/> by every input: [i][j] is d output_i / d input_j, shape output_i.shape + input_j.shape.</summary>
        public static Tensor[][] Jacobian(Func<Tensor[], Tensor[]> func, Tensor[] inputs, bool createGraph = false, bool strict = false)
        {
            const string op = "jacobian";
            using var enable = EnableGrad();
            var xs = Leaves(inputs, createGraph);
            var outputs = func(xs);
            return JacobianOf(op, outputs, xs, inputs, createGraph, strict);
        }

        /// <summary>The Hessian of the scalar <paramref name="func"/> at <paramref name="input"/>: shape input.shape + input.shape.</summary>
        public static Tensor Hessian(Func<Tensor, Tensor> func, Tensor input, bool createGraph = false, bool strict = false) =>
            Hessian(x => func(x[0]), [input], createGraph, strict)[0][0];

        /// <summary>The Hessian blocks of the scalar <paramref name="func"/>: [i][j] is d² f / d input_i d input_j, shape input_i.shape + input_j.shape.</summary>
        public static Tensor[][] Hessian(Func<Tensor[], Tensor> func, Tensor[] inputs, bool createGraph = false, bool strict = false)
        {
            const string op = "hessian";
            using var enable = EnableGrad();
            var xs = Leaves(inputs, createGraph);
            var y = func(xs);
            RequireScalar(op, y, "The function given to hessian should return a single Tensor with a single element");
            var gradients = Gradients(op, [y], xs, null, createGraph: true, strict);
            return JacobianOf(op, gradients, xs, inputs, createGraph, strict);
        }

        /// <summary>
        /// vᵀ·J of <paramref name="func"/> at <paramref name="input"/>, with the output; <paramref name="v"/> (the output's
        /// shape) may be left out only for a one-element output.
        /// </summary>
        public static (Tensor Output, Tensor Vjp) Vjp(Func<Tensor, Tensor> func, Tensor input, Tensor? v = null, bool createGraph = false, bool strict = false)
        {
            var (outputs, products) = Vjp(x => [func(x[0])], [input], v is null ? null : [v], createGraph, strict);
            return (outputs[0], products[0]);
        }

        /// <summary>vᵀ·J for functions of several inputs and outputs: one product per input.</summary>
        public static (Tensor[] Outputs, Tensor[] Vjp) Vjp(Func<Tensor[], Tensor[]> func, Tensor[] inputs, Tensor[]? v = null, bool createGraph = false, bool strict = false)
        {
            const string op = "vjp";
            using var enable = EnableGrad();
            var xs = Leaves(inputs, createGraph);
            var outputs = func(xs);
            var vs = Vectors(op, "outputs", outputs, v, "The vector v can only be None if the user-provided function returns a single Tensor with a single element");
            var products = Gradients(op, outputs, xs, vs, createGraph, strict);
            return (Finish(outputs, createGraph), Finish(products, createGraph));
        }

        /// <summary>
        /// J·v of <paramref name="func"/> at <paramref name="input"/>, with the output; <paramref name="v"/> (the input's
        /// shape) may be left out only for a one-element input.
        /// </summary>
        public static (Tensor Output, Tensor Jvp) Jvp(Func<Tensor, Tensor> func, Tensor input, Tensor? v = null, bool createGraph = false, bool strict = false)
        {
            var (outputs, products) = Jvp(x => [func(x[0])], [input], v is null ? null : [v], createGraph, strict);
            return (outputs[0], products[0]);
        }

        /// <summary>J·v for functions of several inputs and outputs: one product per output.</summary>
        public static (Tensor[] Outputs, Tensor[] Jvp) Jvp(Func<Tensor[], Tensor[]> func, Tensor[] inputs, Tensor[]? v = null, bool createGraph = false, bool strict = false)
        {
            const string op = "jvp";
            using var enable = EnableGrad();
            var xs = Leaves(inputs, createGraph);
            var vs = Vectors(op, "inputs", xs, v, "The vector v can only be None if the input to the user-provided function is a single Tensor with a single element");
            var outputs = func(xs);
            // The double-backward trick: uᵀJ is linear in u, so its gradient in u against v is J·v.
            var us = new Tensor[outputs.Length];
            for (int i = 0; i < us.Length; i++) us[i] = Tensor.ZerosLike(outputs[i]).RequiresGrad_();
            var backward = Gradients(op, outputs, xs, us, createGraph: true, strict);
            var products = Gradients(op, backward, us, vs, createGraph, strict, across: true);
            return (Finish(outputs, createGraph), Finish(products, createGraph));
        }

        /// <summary>H·v of the scalar <paramref name="func"/> at <paramref name="input"/>, with the value.</summary>
        public static (Tensor Output, Tensor Hvp) Hvp(Func<Tensor, Tensor> func, Tensor input, Tensor v, bool createGraph = false, bool strict = false)
        {
            var (output, products) = Hvp(x => func(x[0]), [input], [v], createGraph, strict);
            return (output, products[0]);
        }

        /// <summary>H·v for a scalar function of several inputs: one product per input.</summary>
        public static (Tensor Output, Tensor[] Hvp) Hvp(Func<Tensor[], Tensor> func, Tensor[] inputs, Tensor[] v, bool createGraph = false, bool strict = false)
        {
            const string op = "hvp";
            using var enable = EnableGrad();
            var xs = Leaves(inputs, createGraph);
            var vs = Vectors(op, "inputs", xs, v, "");
            var y = func(xs);
            RequireScalar(op, y, "The function given to hvp should return a single Tensor with a single element");
            var gradients = Gradients(op, [y], xs, null, createGraph: true, strict);
            // (∇f)ᵀ·u is linear in u with gradient in x Hᵀu; its gradient in u against v is H·v.
            var us = new Tensor[xs.Length];
            for (int i = 0; i < us.Length; i++) us[i] = Tensor.ZerosLike(xs[i]).RequiresGrad_();
            var back = Gradients(op, gradients, xs, us, createGraph: true, strict);
            var products = Gradients(op, back, us, vs, createGraph, strict, across: true);
            return (Finish([y], createGraph)[0], Finish(products, createGraph));
        }

        /// <summary>vᵀ·H of the scalar <paramref name="func"/> at <paramref name="input"/>, with the value.</summary>
        public static (Tensor Output, Tensor Vhp) Vhp(Func<Tensor, Tensor> func, Tensor input, Tensor v, bool createGraph = false, bool strict = false)
        {
            var (output, products) = Vhp(x => func(x[0]), [input], [v], createGraph, strict);
            return (output, products[0]);
        }

        /// <summary>vᵀ·H for a scalar function of several inputs: one product per input.</summary>
        public static (Tensor Output, Tensor[] Vhp) Vhp(Func<Tensor[], Tensor> func, Tensor[] inputs, Tensor[] v, bool createGraph = false, bool strict = false)
        {
            const string op = "vhp";
            using var enable = EnableGrad();
            var xs = Leaves(inputs, createGraph);
            var vs = Vectors(op, "inputs", xs, v, "");
            var y = func(xs);
            RequireScalar(op, y, "The function given to vhp should return a single Tensor with a single element");
            var gradients = Gradients(op, [y], xs, null, createGraph: true, strict);
            var products = Gradients(op, gradients, xs, vs, createGraph, strict);
            return (Finish([y], createGraph)[0], Finish(products, createGraph));
        }

        /// <summary>Fresh leaves sharing the inputs' data (under createGraph, recorded aliases of inputs that require gradients, so results reach them).</summary>
        static Tensor[] Leaves(Tensor[] inputs, bool createGraph)
        {
            if (inputs.Length == 0) throw new KilnException("autograd.functional", "autograd.functional: the function needs at least one input");
            var xs = new Tensor[inputs.Length];
            for (int i = 0; i < xs.Length; i++)
            {
                var x = inputs[i];
                if (!x.DType.IsFloatingPoint())
                    throw new KilnException("autograd.functional", $"autograd.functional: input {i} is {x.DType}; only floating point tensors can be differentiated", KilnErrorKind.DType);
                xs[i] = createGraph && x.RequiresGrad ? x.To(x.DType) : x.Detach().RequiresGrad_();
            }
            return xs;
        }

        /// <summary>The given vectors checked against <paramref name="like"/>'s shapes, or ones for a single one-element tensor.</summary>
        static Tensor[] Vectors(string op, string what, Tensor[] like, Tensor[]? v, string requiredMessage)
        {
            if (v is null)
            {
                if (like.Length != 1 || like[0].Numel != 1) throw new KilnException(op, $"{op}: {requiredMessage}");
                return [Tensor.OnesLike(like[0])];
            }
            if (v.Length != like.Length)
                throw new KilnException(op, $"{op}: v has {v.Length} tensors but the {what} are {like.Length}", KilnErrorKind.Shape);
            for (int i = 0; i < v.Length; i++)
                if (!v[i].ShapeArray.AsSpan().SequenceEqual(like[i].ShapeArray))
                    throw new KilnException(op, $"{op}: mismatch in shape of v[{i}]: {Compiler.Shapes.ShapeText.Format(v[i].ShapeArray)} against the {what}' {Compiler.Shapes.ShapeText.Format(like[i].ShapeArray)}", KilnErrorKind.Shape);
            return v;
        }

        static void RequireScalar(string op, Tensor y, string message)
        {
            if (y.Numel != 1) throw new KilnException(op, $"{op}: {message} (got shape {Compiler.Shapes.ShapeText.Format(y.ShapeArray)})", KilnErrorKind.Shape);
        }

        /// <summary>
        /// Σ gradients of <paramref name="outputs"/> (against <paramref name="vectors"/>, or ones) by each of
        /// <paramref name="inputs"/>: zeros where one does not reach an input, or with strict an error naming the two.
        /// </summary>
        static Tensor[] Gradients(string op, Tensor[] outputs, Tensor[] inputs, Tensor[]? vectors, bool createGraph, bool strict, bool across = false)
        {
            var reaching = new List<Tensor>();
            var weights = new List<Tensor?>();
            for (int i = 0; i < outputs.Length; i++)
            {
                if (outputs[i].RequiresGrad) { reaching.Add(outputs[i]); weights.Add(vectors?[i]); continue; }
                if (strict) throw Independent(op, i, across);
            }
            Tensor?[] grads = reaching.Count == 0 ? new Tensor?[inputs.Length] : Grad(reaching, inputs, weights, retainGraph: true, createGraph: createGraph, allowUnused: true);
            var result = new Tensor[inputs.Length];
            for (int j = 0; j < inputs.Length; j++)
            {
                if (grads[j] is { } g) { result[j] = g; continue; }
                if (strict) throw Independent(op, j, across);
                result[j] = Tensor.ZerosLike(inputs[j]);
            }
            return result;
        }

        /// <summary>Each output's Jacobian rows: one backward per output element, against its one-hot vector.</summary>
        static Tensor[][] JacobianOf(string op, Tensor[] outputs, Tensor[] xs, Tensor[] inputs, bool createGraph, bool strict)
        {
            var result = new Tensor[outputs.Length][];
            for (int i = 0; i < outputs.Length; i++)
            {
                var y = outputs[i];
                long count = y.Numel;
                var rows = new List<Tensor>[xs.Length];
                for (int j = 0; j < xs.Length; j++) rows[j] = new List<Tensor>();
                for (long e = 0; e < count; e++)
                {
                    using var hot = Tensor.Zeros(y.ShapeArray, y.DType, y.Device);
                    using (NoGrad()) hot.Flatten().Narrow(0, (int)e, 1).Fill_(1);
                    Tensor?[] grads = y.RequiresGrad
                        ? Grad([y], xs, [hot], retainGraph: true, createGraph: createGraph, allowUnused: true)
                        : new Tensor?[xs.Length];
                    for (int j = 0; j < xs.Length; j++)
                    {
                        if (grads[j] is null && strict) throw Independent(op, i, false, j);
                        rows[j].Add(grads[j] ?? Tensor.ZerosLike(xs[j]));
                    }
                }
                result[i] = new Tensor[xs.Length];
                for (int j = 0; j < xs.Length; j++)
                {
                    int[] shape = [.. y.ShapeArray, .. inputs[j].ShapeArray];
                    var block = count == 0 ? Tensor.Zeros(shape, xs[j].DType, xs[j].Device) : Tensor.Stack(rows[j]).Reshape(shape);
                    result[i][j] = createGraph ? block : block.Detach();
                }
            }
            return result;
        }

        static Tensor[] Finish(Tensor[] tensors, bool createGraph)
        {
            if (createGraph) return tensors;
            var detached = new Tensor[tensors.Length];
            for (int i = 0; i < tensors.Length; i++) detached[i] = tensors[i].Detach();
            return detached;
        }

        static KilnException Independent(string op, int output, bool across, int input = -1) => new(op,
            across ? $"{op}: the product for input {output} is independent of v (the function is linear there); this is not allowed in strict mode"
                   : input < 0 ? $"{op}: output {output} of the user-provided function is independent of the inputs; this is not allowed in strict mode"
                   : $"{op}: output {output} of the user-provided function is independent of input {input}; this is not allowed in strict mode");
    }
}
