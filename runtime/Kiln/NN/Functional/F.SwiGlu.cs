namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// SwiGLU's gating, silu(<paramref name="gate"/>)·<paramref name="up"/> with broadcasting — the middle of a Llama, Qwen or
    /// Mistral feed-forward, <c>down(F.SwiGlu(gate(x), up(x)))</c>. PyTorch writes it <c>F.silu(gate) * up</c>; here it is one
    /// op: one pass, no stored activation, its own derivative, and a fused form in compiled models.
    /// </summary>
    public static Tensor SwiGlu(Tensor gate, Tensor up) => Tensor.SwiGlu(gate, up);
}
