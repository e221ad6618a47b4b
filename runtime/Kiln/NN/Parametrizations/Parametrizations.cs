namespace Kiln.NN;

/// <summary>The ready-made parametrizations of <c>torch.nn.utils.parametrizations</c>.</summary>
public static class Parametrizations
{
    /// <summary>
    /// Weight normalisation of <paramref name="module"/>'s <paramref name="name"/> (<c>weight_norm</c>): originals g
    /// (<c>parametrizations.weight.original0</c>, one norm per slice along <paramref name="dim"/>, or one for all when
    /// null) and v (<c>original1</c>). Returns the module.
    /// </summary>
    public static T WeightNorm<T>(T module, string name = "weight", int? dim = 0) where T : Module =>
        Parametrize.RegisterParametrization(module, name, new WeightNormParametrization(dim));

    /// <summary>
    /// Spectral normalisation of <paramref name="module"/>'s <paramref name="name"/> (<c>spectral_norm</c>):
    /// <paramref name="powerIterations"/> steps per training forward; <paramref name="dim"/> defaults to 1 for transposed
    /// convolutions and 0 otherwise, as PyTorch's. Returns the module.
    /// </summary>
    public static T SpectralNorm<T>(T module, string name = "weight", int powerIterations = 1, double eps = 1e-12, int? dim = null) where T : Module
    {
        var weight = module.NamedParameters(recurse: false).FirstOrDefault(name) ?? module.NamedBuffers(recurse: false).FirstOrDefault(name)
            ?? throw new KilnException("spectral_norm", $"spectral_norm: {module.GetType().Name} has no parameter or buffer named '{name}'", KilnErrorKind.Argument);
        int d = dim ?? (module is ConvTranspose1d or ConvTranspose2d or ConvTranspose3d ? 1 : 0);
        return Parametrize.RegisterParametrization(module, name, new SpectralNormParametrization(weight, powerIterations, d, eps));
    }

    static Tensor? FirstOrDefault(this System.Collections.Generic.IEnumerable<(string Name, Tensor Tensor)> named, string name)
    {
        foreach (var (n, t) in named) if (n == name) return t;
        return null;
    }
}
