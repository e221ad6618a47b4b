namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Rotary position embedding over the last dim of <paramref name="x"/> [..., d]: x·cos + rotate_half(x)·sin, where
    /// rotate_half([x1, x2]) = [-x2, x1] (Hugging Face's <c>apply_rotary_pos_emb</c> for one tensor). <paramref name="cos"/>
    /// and <paramref name="sin"/> broadcast to x's shape (usually [length, d] or [batch, 1, length, d]). One op with its
    /// own derivative; on the CPU in float32 a single fused pass.
    /// </summary>
    public static Tensor RotaryEmbedding(Tensor x, Tensor cos, Tensor sin) => Tensor.RopeOp(x, cos, sin);
}
