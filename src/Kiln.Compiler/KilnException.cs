using System;

namespace Kiln
{
    /// <summary>
    /// The one exception Kiln throws for a bad shape, dtype, device, index or argument.
    /// The message names the op and the shapes involved, e.g.
    /// <c>matmul: [64, 784] @ [128, 10]: inner dimensions 784 and 128 differ</c>.
    /// </summary>
    /// <remarks>
    /// It lives in <c>Kiln.Compiler</c> because the shape rules that produce these messages live there,
    /// and the build-time analyzers report the very same text.
    /// </remarks>
    public class KilnException : Exception
    {
        /// <summary>The op that rejected its input (e.g. <c>matmul</c>), or null when not tied to one op.</summary>
        public string? Op { get; }

        /// <summary>Creates the exception; the message should start with the op name.</summary>
        public KilnException(string? op, string message) : base(message) { Op = op; }

        /// <summary>Creates the exception with an inner cause.</summary>
        public KilnException(string? op, string message, Exception inner) : base(message, inner) { Op = op; }
    }
}
