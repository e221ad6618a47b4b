using System;
using System.Collections.Generic;

namespace Kiln.Compiler.Ops
{
    /// <summary>
    /// The non-tensor arguments of one op call: each op family has its own record (<see cref="ReduceArgs"/>,
    /// <see cref="TransposeArgs"/>, <see cref="ConvArgs"/>, ...) so a rule reads named, typed values; an op without
    /// any takes <see cref="None"/>.
    /// </summary>
    public abstract record OpArgs
    {
        /// <summary>No arguments.</summary>
        public static OpArgs None { get; } = new NoArgs();

        /// <summary>
        /// <paramref name="args"/> as the record <paramref name="op"/> takes; a call recorded with another record is a bug in
        /// the caller, reported with both names rather than as a cast error.
        /// </summary>
        public static TArgs Of<TArgs>(string op, OpArgs? args) where TArgs : OpArgs =>
            args as TArgs ?? throw new KilnException(op,
                $"{op}: expected arguments of type {typeof(TArgs).Name}, got {(args is null ? "none" : args.GetType().Name)}", KilnErrorKind.Argument);
    }

    /// <summary>The arguments of an op that has none.</summary>
    public sealed record NoArgs : OpArgs;

    /// <summary>Computes an op's output shape from its input shapes, or throws <see cref="KilnException"/>.</summary>
    public delegate int[] ShapeRule(IReadOnlyList<int[]> inputs, OpArgs args);
}
