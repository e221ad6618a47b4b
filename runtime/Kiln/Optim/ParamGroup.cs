using System.Collections.Generic;

namespace Kiln.Optim;

/// <summary>
/// A set of parameters with its own hyper-parameters (PyTorch's <c>param_groups</c> entry). Options not set here
/// take the optimizer's defaults when the optimizer is built; schedulers change <see cref="Lr"/> between steps.
/// </summary>
public sealed class ParamGroup
{
    readonly Dictionary<string, double> _options = new();

    /// <summary>A group holding <paramref name="parameters"/>.</summary>
    public ParamGroup(IEnumerable<Tensor> parameters) { Params = new List<Tensor>(parameters); }

    /// <summary>The parameters this group updates.</summary>
    public IReadOnlyList<Tensor> Params { get; }

    /// <summary>An option by PyTorch's name (<c>lr</c>, <c>momentum</c>, <c>weight_decay</c>, <c>beta1</c>, ...); bool options are 0 or 1.</summary>
    public double this[string option]
    {
        get => _options.TryGetValue(option, out var v) ? v : throw new KilnException("optimizer", $"optimizer: parameter group has no option '{option}'");
        set => _options[option] = value;
    }

    /// <summary>True when the option is set.</summary>
    public bool Has(string option) => _options.ContainsKey(option);

    /// <summary>The options (name → value).</summary>
    public IReadOnlyDictionary<string, double> Options => _options;

    /// <summary>The learning rate.</summary>
    public double Lr { get => this["lr"]; set => this["lr"] = value; }

    internal bool Flag(string option) => _options.TryGetValue(option, out var v) && v != 0;
}
