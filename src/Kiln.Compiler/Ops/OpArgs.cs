using System.Collections.Generic;

namespace Kiln.Compiler.Ops
{
    /// <summary>The non-tensor arguments a shape rule may need; unset members are null.</summary>
    public sealed class OpArgs
    {
        /// <summary>Dims to reduce over (null: all).</summary>
        public IReadOnlyList<int>? Dims { get; set; }
        /// <summary>A single dim argument.</summary>
        public int? Dim { get; set; }
        /// <summary>Second dim (transpose).</summary>
        public int? Dim1 { get; set; }
        /// <summary>Keep reduced dims as size 1.</summary>
        public bool KeepDim { get; set; }
        /// <summary>A target shape or a list of sizes (view, reshape, expand, repeat, unflatten).</summary>
        public IReadOnlyList<int>? Sizes { get; set; }
        /// <summary>Start (narrow, flatten) and length/end.</summary>
        public int? Start { get; set; }
        /// <summary>Length (narrow) or end dim (flatten).</summary>
        public int? Length { get; set; }

        /// <summary>A scalar argument (pow's exponent, clamp's min, masked_fill's value, softplus's beta, addmm's beta).</summary>
        public double? Scalar { get; set; }
        /// <summary>A second scalar (clamp's max, softplus's threshold, addmm's alpha).</summary>
        public double? Scalar2 { get; set; }
        /// <summary>A mode string (gelu's approximate).</summary>
        public string? Mode { get; set; }

        /// <summary>No arguments.</summary>
        public static OpArgs None { get; } = new OpArgs();
    }

    /// <summary>Computes an op's output shape from its input shapes, or throws <see cref="KilnException"/>.</summary>
    public delegate int[] ShapeRule(IReadOnlyList<int[]> inputs, OpArgs args);
}
