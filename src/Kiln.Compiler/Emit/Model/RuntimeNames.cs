namespace Kiln.Compiler.Emit.Model
{
    /// <summary>The fully qualified names generated model code writes (runtime types and the vector and GPU types it uses).</summary>
    internal static class RuntimeNames
    {
        /// <summary>Kiln's tensor.</summary>
        public const string Tensor = "global::Kiln.Tensor";
        /// <summary>
        /// The runtime contract: every runtime member compiled models call besides public API (Tensor, F, layers,
        /// Autograd.Function), in one type hidden from IntelliSense.
        /// </summary>
        public const string Contract = "global::Kiln.Compilation.CompiledOps";
        /// <summary>A compiled self-attention's saved state.</summary>
        public const string Attention = "global::Kiln.Compilation.CompiledAttention";
        /// <summary>Eight float lanes.</summary>
        public const string Vec = "global::System.Runtime.Intrinsics.Vector256";
        /// <summary>A GPU kernel's view of a float buffer.</summary>
        public const string View = "global::ILGPU.ArrayView<float>";
        /// <summary>A GPU kernel's broadcast map of one value.</summary>
        public const string Index = "global::Kiln.Gpu.GroupIndex";
    }
}
