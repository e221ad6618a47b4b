using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// <c>model.Forward(ids, null)</c> — PyTorch's <c>model(input_ids, None)</c> — compiles and means "no attention mask"
/// (the mask overload outranks the cached one), on the model classes and through <see cref="ICausalLM"/>.
/// </summary>
public class ForwardOverloadTests
{
    [Fact]
    public void ANullSecondArgumentIsTheAttentionMask()
    {
        var ids = Tensor.From(new long[] { 3, 1, 4, 1, 5, 9, 2, 6 }, 2, 4);
        using var noGrad = Autograd.NoGrad();
        Generator.ManualSeed(7);
        var llama = TrainerTests.TinyLlama(7);
        Assert.Equal(llama.Forward(ids).ToArray<float>(), llama.Forward(ids, null).ToArray<float>());
        Assert.Equal(llama.Model.Forward(ids).ToArray<float>(), llama.Model.Forward(ids, null).ToArray<float>());
        ICausalLM asInterface = llama;
        Assert.Equal(llama.Forward(ids).ToArray<float>(), asInterface.Forward(ids, null).ToArray<float>());
        var embeds = llama.InputEmbeddings.Forward(ids);
        Assert.Equal(llama.Forward(ids).ToArray<float>(), llama.ForwardEmbeds(embeds, null).ToArray<float>());

        Generator.ManualSeed(7);
        var gpt2 = new GPT2LMHeadModel(new GPT2Config { VocabSize = 16, NEmbd = 16, NLayer = 1, NHead = 2, NPositions = 16, NInner = 32 });
        gpt2.Eval();   // GPT-2's dropouts (0.1 by default) draw anew on each call while training
        Assert.Equal(gpt2.Forward(ids).ToArray<float>(), gpt2.Forward(ids, null).ToArray<float>());
        Assert.Equal(gpt2.Transformer.Forward(ids).ToArray<float>(), gpt2.Transformer.Forward(ids, null).ToArray<float>());
    }
}
