using System;

namespace Kiln
{
    /// <summary>What kind of mistake a <see cref="KilnException"/> reports (PyTorch raises RuntimeError, IndexError, ... for these).</summary>
    public enum KilnErrorKind
    {
        /// <summary>An argument out of its domain (a negative probability, an unknown mode string, ...).</summary>
        Argument,
        /// <summary>Shapes that do not fit the op (PyTorch's size mismatch).</summary>
        Shape,
        /// <summary>A dtype the op does not accept or cannot promote.</summary>
        DType,
        /// <summary>Tensors on different devices, or a device without the memory or kernel asked for.</summary>
        Device,
        /// <summary>An index or dim out of range (PyTorch's IndexError).</summary>
        Index,
        /// <summary>A malformed file or record: safetensors, checkpoints, IDX, CSV, tokenizer files.</summary>
        Format,
        /// <summary>An object in the wrong state: a freed graph, a tensor modified in place after it was saved, a disposed tensor.</summary>
        State,
        /// <summary>A valid request Kiln does not implement yet (no kernel for this dtype or device).</summary>
        Unsupported,
    }

    /// <summary>
    /// The one exception Kiln throws for a bad shape, dtype, device, index or argument.
    /// The message names the op and the shapes involved, e.g.
    /// <c>matmul: [64, 784] @ [128, 10]: inner dimensions 784 and 128 differ</c>; <see cref="Kind"/> says which kind of
    /// mistake it is, for code that handles some and not others.
    /// </summary>
    /// <remarks>
    /// It lives in <c>Kiln.Compiler</c> because the shape rules that produce these messages live there,
    /// and the build-time analyzers report the very same text.
    /// </remarks>
    public class KilnException : Exception
    {
        /// <summary>The op that rejected its input (e.g. <c>matmul</c>), or null when not tied to one op.</summary>
        public string? Op { get; }

        /// <summary>The kind of mistake.</summary>
        public KilnErrorKind Kind { get; }

        /// <summary>Creates the exception; the message should start with the op name.</summary>
        public KilnException(string? op, string message, KilnErrorKind kind = KilnErrorKind.Argument) : base(message) { Op = op; Kind = kind; }

        /// <summary>Creates the exception with an inner cause.</summary>
        public KilnException(string? op, string message, Exception inner, KilnErrorKind kind = KilnErrorKind.Argument) : base(message, inner) { Op = op; Kind = kind; }
    }
}
