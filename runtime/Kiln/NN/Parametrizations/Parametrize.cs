namespace Kiln.NN;

/// <summary>
/// <c>torch.nn.utils.parametrize</c>: replace a module's parameter or buffer by a function of trainable originals. The
/// module then reads the computed tensor wherever it read the parameter (each access recomputes it, as PyTorch does
/// outside <c>parametrize.cached()</c>); its state dict holds <c>parametrizations.{name}.original…</c> and the
/// parametrization's own buffers. Built-in layers (Linear, the convolutions, Embedding, …) read their tensors this way;
/// a tensor a class reads through its own field cannot be parametrized.
/// </summary>
public static class Parametrize
{
    /// <summary>
    /// Parametrizes <paramref name="module"/>'s tensor <paramref name="tensorName"/> by <paramref name="parametrization"/>
    /// (<c>register_parametrization</c>); returns the module.
    /// </summary>
    public static T RegisterParametrization<T>(T module, string tensorName, Parametrization parametrization) where T : Module
    {
        module.Parametrize(tensorName, parametrization);
        return module;
    }

    /// <summary>Whether <paramref name="module"/> has a parametrized tensor (named <paramref name="tensorName"/>, when given).</summary>
    public static bool IsParametrized(Module module, string? tensorName = null) => module.IsParametrized(tensorName);

    /// <summary>
    /// Ends the parametrization of <paramref name="tensorName"/> (<c>remove_parametrizations</c>): the module gets a plain
    /// parameter holding the current computed value (<paramref name="leaveParametrized"/>), or the single original.
    /// </summary>
    public static T RemoveParametrizations<T>(T module, string tensorName, bool leaveParametrized = true) where T : Module
    {
        module.Unparametrize(tensorName, leaveParametrized);
        return module;
    }
}
