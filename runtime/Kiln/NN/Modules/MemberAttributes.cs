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
