using System;
using Kiln.Compilation;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// The compiled forms of a model's repeated [Model] blocks (<see cref="IBlockCompilation"/>): made on first use and made
/// again when a block was replaced (PEFT, quantization), so the compiled form always runs the block the model holds.
/// </summary>
internal sealed class CompiledBlocks<TBlock, TCompiled> where TBlock : Module where TCompiled : class
{
    readonly Func<TBlock, CompileMode, TCompiled> _compile;
    readonly Func<TCompiled, TBlock> _block;
    CompileMode? _mode;
    TCompiled?[] _compiled = [];

    /// <param name="compile">The block's generated <c>Compile</c>.</param>
    /// <param name="block">The block a compiled form runs (its <c>Model</c>).</param>
    public CompiledBlocks(Func<TBlock, CompileMode, TCompiled> compile, Func<TCompiled, TBlock> block)
    {
        _compile = compile;
        _block = block;
    }

    /// <summary>Whether the blocks run compiled.</summary>
    public bool IsCompiled => _mode is not null;

    /// <summary>Compiles from now on with <paramref name="mode"/> (forms made before are dropped).</summary>
    public void Compile(CompileMode mode)
    {
        _mode = mode;
        _compiled = [];
    }

    /// <summary>
    /// Block <paramref name="index"/> over <paramref name="h"/>: <paramref name="compiled"/> of its compiled form while the
    /// blocks are compiled, else <paramref name="eager"/>; under <see cref="Autograd.Checkpoint"/> when <paramref name="checkpoint"/>.
    /// </summary>
    public Tensor Run(int index, TBlock block, Tensor h, bool checkpoint, Func<Tensor, Tensor> eager, Func<TCompiled, Tensor, Tensor> compiled)
    {
        var form = For(index, block);
        Func<Tensor, Tensor> run = form is null ? eager : x => compiled(form, x);
        return checkpoint ? Autograd.Checkpoint(run, h, block.Parameters()) : run(h);
    }

    /// <summary>Block <paramref name="index"/>'s compiled form, or null while the blocks run eagerly.</summary>
    TCompiled? For(int index, TBlock block)
    {
        if (_mode is not { } mode) return null;
        if (index >= _compiled.Length) Array.Resize(ref _compiled, index + 1);
        return _compiled[index] is { } c && ReferenceEquals(_block(c), block) ? c : _compiled[index] = _compile(block, mode);
    }
}
