using System;

namespace Kiln.NN;

/// <summary>Marks a tensor field of a module as a parameter even when it does not require gradients (e.g. frozen at construction).</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class ParameterAttribute : Attribute { }

/// <summary>Marks a tensor field of a module as a buffer: saved in the state dict, moved by <c>To</c>, not trained.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class BufferAttribute : Attribute
{
    /// <summary>False keeps the buffer out of the state dict.</summary>
    public bool Persistent { get; set; } = true;
}

/// <summary>Keeps a field out of automatic registration.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class NotAMemberAttribute : Attribute { }

/// <summary>
/// The member's name in state dicts and checkpoints when it differs from the C# name: <c>[PyTorchName("q_proj")] public
/// Linear QProj { get; }</c> loads Hugging Face's <c>q_proj.weight</c> (PyTorch names a member after its attribute).
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class PyTorchNameAttribute : Attribute
{
    /// <summary>Names the member <paramref name="name"/>.</summary>
    public PyTorchNameAttribute(string name) => Name = name;

    /// <summary>The name state dicts use.</summary>
    public string Name { get; }
}
