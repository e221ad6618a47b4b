using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Ir;
using static Kiln.Compiler.Emit.Model.RuntimeNames;

namespace Kiln.Compiler.Emit.Model
{
    /// <summary>
    /// The C# expressions of one fused group's nodes for element <c>i</c>: forward values and the gradients each input
    /// receives, as scalars (CPU tail and GPU threads) or eight lanes, from the op table's formulas (<see cref="ScalarCode"/>).
    /// </summary>
    internal static class ElementwiseCode
    {
        /// <summary>Whether a fused group reads several values (which may broadcast against each other).</summary>
        public static bool Broadcasts(FusionStep g) => g.Producer is null && g.External.Count > 1;

        /// <summary>The op-table name of an elementwise node's rule.</summary>
        public static string Rule(IrNode n) => n.Op == IrOps.Add ? "add" : n.Op == IrOps.Binary ? IrOps.BinaryName(n) : n.Attr!;

        /// <summary>Value <paramref name="v"/> inside the group's loop: a loaded input <c>x{k}</c> or a computed <c>a{id}</c>.</summary>
        static string Ref(FusionStep g, int v) => g.External.Contains(v) && !g.Elementwise.Any(n => n.Id == v) ? $"x{g.External.IndexOf(v)}" : $"a{v}";

        /// <summary>An elementwise node's operands in the op's order: kernel variables for values, a constant for a number operand (null id).</summary>
        static List<(string Expr, int? Value)> Operands(FusionStep g, IrNode n, bool vector)
        {
            var list = n.Inputs.Select(v => (Ref(g, v), (int?)v)).ToList();
            if (n.Op == IrOps.Binary && n.Attr2 is { } c)
            {
                var constant = (ScalarCode.Constant(double.Parse(c, System.Globalization.CultureInfo.InvariantCulture), vector), (int?)null);
                if (IrOps.ConstantFirst(n)) list.Insert(0, constant); else list.Add(constant);
            }
            return list;
        }

        /// <summary>Whether dropout node <paramref name="id"/>'s mask is present, on the CPU (an array) or in a GPU kernel (a flag).</summary>
        static string HasMask(int id, bool gpu) => gpu ? $"hasMask{id} != 0" : $"mask{id} != null";

        static string MaskAt(int id, bool vector) => vector ? $"{Vec}.Create(new global::System.ReadOnlySpan<float>(mask{id}, i, 8))" : $"mask{id}[i]";

        /// <summary>An elementwise node's value.</summary>
        public static string Forward(FusionStep g, IrNode n, bool vector, bool gpu = false)
        {
            var ops = Operands(g, n, vector);
            return n.Op switch
            {
                IrOps.Activation => ScalarCode.Forward(n.Attr!, ops[0].Expr, vector, gpu),
                IrOps.Dropout => $"{HasMask(n.Id, gpu)} ? {ops[0].Expr} * {MaskAt(n.Id, vector)} : {ops[0].Expr}",
                IrOps.Add or IrOps.Binary => ScalarCode.BinaryForward(Rule(n), ops[0].Expr, ops[1].Expr, vector, gpu),
                _ => throw new NotSupportedException(n.Op),
            };
        }

        /// <summary>
        /// What each input of an elementwise node receives from the node's gradient <c>g{id}</c>: dropout's mask, or the
        /// registry's rule run over expressions (null where an input gets nothing).
        /// </summary>
        public static string?[] Gradients(FusionStep g, IrNode n, bool vector, bool gpu = false)
        {
            string gy = $"g{n.Id}";
            if (n.Op == IrOps.Dropout) return new[] { $"{HasMask(n.Id, gpu)} ? {gy} * {MaskAt(n.Id, vector)} : {gy}" };
            var ops = Operands(g, n, vector);
            var all = ScalarCode.Gradients(Rule(n), ops.Select(o => o.Expr).ToArray(), $"a{n.Id}", gy, ops.Select(o => o.Value is not null).ToArray(), vector, gpu);
            var result = new string?[n.Inputs.Count];
            for (int i = 0, t = 0; i < ops.Count; i++)
                if (ops[i].Value is not null) result[t++] = all[i] ?? (vector ? $"{Vec}<float>.Zero" : "0f");
            return result;
        }

        /// <summary>Whether every node of the group has an eight-lane form, forward and backward (decided at build time).</summary>
        public static bool Vectorizable(FusionStep g)
        {
            try
            {
                foreach (var n in g.Elementwise) { Forward(g, n, true); Gradients(g, n, true); }
                return true;
            }
            catch (NotSupportedException) { return false; }
        }

        /// <summary>The group's ops in order (<c>mul → relu → dropout</c>).</summary>
        public static string Describe(FusionStep g) => string.Join(" → ", g.Elementwise.Select(n => n.Op == IrOps.Dropout ? "dropout" : Rule(n)));
    }
}
