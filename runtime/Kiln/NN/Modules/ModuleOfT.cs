using System;
using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>
/// A module with one input and one output. <see cref="Forward"/> computes; <see cref="Call"/> runs the forward
/// pre-hooks, <see cref="Forward"/>, and the forward hooks (PyTorch's <c>module(x)</c>).
/// </summary>
public abstract class Module<TIn, TOut> : Module
{
    readonly List<Func<Module, TIn, TIn?>> _preHooks = new();
    readonly List<Func<Module, TIn, TOut, TOut?>> _hooks = new();

    /// <summary>The computation of this module.</summary>
    public abstract TOut Forward(TIn input);

    /// <summary>Runs the module with its hooks: pre-hooks may replace the input, hooks may replace the output.</summary>
    public TOut Call(TIn input)
    {
        if (_preHooks.Count == 0 && _hooks.Count == 0) return Forward(input);
        foreach (var h in _preHooks.ToArray())
            if (h(this, input) is { } replaced) input = replaced;
        var output = Forward(input);
        foreach (var h in _hooks.ToArray())
            if (h(this, input, output) is { } replaced) output = replaced;
        return output;
    }

    /// <summary>Registers a hook called after every <see cref="Call"/> with the input and output (<c>register_forward_hook</c>); a non-null result replaces the output. Dispose the handle to remove it.</summary>
    public IDisposable RegisterForwardHook(Func<Module, TIn, TOut, TOut?> hook)
    {
        _hooks.Add(hook);
        return new Removal(() => _hooks.Remove(hook));
    }

    /// <summary>Registers a hook that observes every output (<c>register_forward_hook</c> returning None).</summary>
    public IDisposable RegisterForwardHook(Action<Module, TIn, TOut> hook) =>
        RegisterForwardHook((m, i, o) => { hook(m, i, o); return default; });

    /// <summary>Registers a hook called before every <see cref="Call"/> (<c>register_forward_pre_hook</c>); a non-null result replaces the input.</summary>
    public IDisposable RegisterForwardPreHook(Func<Module, TIn, TIn?> hook)
    {
        _preHooks.Add(hook);
        return new Removal(() => _preHooks.Remove(hook));
    }

    sealed class Removal(Action remove) : IDisposable
    {
        Action? _remove = remove;
        public void Dispose() { _remove?.Invoke(); _remove = null; }
    }
}
