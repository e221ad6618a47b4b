using Kiln.Compiler.Ops;

namespace Kiln.Compiler.Autodiff
{
    /// <summary>What a derivative rule may read about the forward call it differentiates.</summary>
    public interface IGradContext<T> where T : class
    {
        /// <summary>Input <paramref name="i"/> as saved by the forward pass (the runtime checks it was not modified in place).</summary>
        T Input(int i);
        /// <summary>The forward output as saved (checked likewise).</summary>
        T Output { get; }
        /// <summary>The shape input <paramref name="i"/> had, without touching its data.</summary>
        int[] InputShape(int i);
        /// <summary>Number of inputs.</summary>
        int InputCount { get; }
        /// <summary>The non-tensor arguments of the call.</summary>
        OpArgs Args { get; }
        /// <summary>Whether input <paramref name="i"/> needs a gradient (rules skip work for the others).</summary>
        bool NeedsGrad(int i);
    }
}
