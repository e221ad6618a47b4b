using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// Hugging Face's <c>_init_weights</c> for a freshly built model: every Linear, Conv1D and Embedding weight N(0,
/// initializer_range), biases zero (norms keep their ones and zeros), so a model trained from scratch starts where
/// PyTorch's would (Kiln's layer defaults, N(0, 1) embeddings, give tied-head logits far too large).
/// </summary>
internal static class HfInit
{
    public static void Apply(Module model, double std)
    {
        using var _ = Autograd.NoGrad();
        foreach (var m in model.Modules())
        {
            switch (m)
            {
                case Linear l:
                    Init.Normal_(l.Weight, 0, std);
                    l.Bias?.Zero_();
                    break;
                case Conv1D c:
                    Init.Normal_(c.Weight, 0, std);
                    c.Bias.Zero_();
                    break;
                case Embedding e:
                    Init.Normal_(e.Weight, 0, std);
                    break;
            }
        }
    }
}
