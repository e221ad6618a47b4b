using Kiln.Compilation;

namespace Kiln.Transformers;

/// <summary>
/// A model whose repeated block is a [Model] class: <see cref="Compile"/> runs every block by its build-time generated
/// kernels from then on (PyTorch's in-place <c>module.compile()</c> applied per block, as regional compilation does), or
/// set <c>TrainingArguments.TorchCompile</c> for the <see cref="Training.Trainer"/>.
/// </summary>
public interface IBlockCompilation
{
    /// <summary>Compiles the blocks in place with <paramref name="mode"/>; the model's API is unchanged.</summary>
    void Compile(CompileMode mode = CompileMode.Default);

    /// <summary>Whether <see cref="Compile"/> was called.</summary>
    bool IsCompiled { get; }
}
