using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Ir;
using static Kiln.Compiler.Emit.Model.RuntimeNames;

namespace Kiln.Compiler.Emit.Model
{
    /// <summary>
    /// When a compiled method hands the call to the eager Forward instead (same results): a null optional input, an input
    /// that is not float32 of the rank the kernels read, a layer configured outside the compiled form, a condition the
    /// reader required (a composite layer's settings), autocast on for the input's device, or a CUDA input for a graph
    /// with a producer that has no CUDA form.
    /// </summary>
    internal static class GuardEmitter
    {
        /// <summary>The rank the kernels read input <paramref name="k"/> at (0: any).</summary>
        public static int Rank(IrGraph graph, int k) =>
            graph.ReadersOfInput(k).Select(n => n.Op switch { IrOps.Conv2d or IrOps.MaxPool2d => 4, IrOps.SelfAttention => 3, _ => 0 }).DefaultIfEmpty(0).Max();

        /// <summary>
        /// Whether every reader takes input <paramref name="k"/> without differentiating it (islands, embeddings, class
        /// targets): such an input may be integer (token ids), checked by the layer as in eager.
        /// </summary>
        public static bool ReadAsIndices(IrGraph graph, int k)
        {
            var inputValues = graph.InputValues;
            return graph.ReadersOfInput(k).All(n => Enumerable.Range(0, n.Inputs.Count).All(j => n.Inputs[j] != inputValues[k] || IrOps.ReadsIndices(n, j)));
        }

        /// <summary>The condition (C#) under which the compiled method runs the eager Forward.</summary>
        public static string Condition(MethodEmission m)
        {
            var graph = m.Graph;
            var inputValues = m.InputValues;
            // A null Tensor? argument runs the eager Forward (the graph reads every input); tested first.
            var guard = inputValues.Select((v, k) => (v, k)).Where(p => IrGraph.IsNullable(graph.Nodes[p.v])).Select(p => $"{GraphEmitter.InputName(p.k)} is null").ToList();
            for (int k = 0; k < inputValues.Count; k++)
            {
                string name = GraphEmitter.InputName(k);
                // A float input other than float32 runs the eager Forward, as the fused loops read float32.
                guard.Add(ReadAsIndices(graph, k) ? $"({name}.DType != global::Kiln.DType.Float32 && global::Kiln.DTypes.IsFloatingPoint({name}.DType))" : $"{name}.DType != global::Kiln.DType.Float32");
                if (Rank(graph, k) > 0) guard.Add($"{name}.Dim != {Rank(graph, k)}");
            }
            foreach (var n in graph.Nodes)
            {
                // A Linear member may hold a subclass computing otherwise (quantized; LoRA with dropout while training).
                if (n.Op == IrOps.Conv2d || n.Op == IrOps.LayerNorm || n.Op == IrOps.RmsNorm || n.Op == IrOps.Linear) guard.Add($"!{Contract}.Fusable({n.Member})");
                if (n.Op == IrOps.SelfAttention) guard.Add($"!{Contract}.Fusable({n.Member})");
            }
            foreach (var c in graph.Conditions) guard.Add($"!({c})");
            // Under autocast the eager Forward runs its products in the 16-bit type, as PyTorch's compiled code would; the
            // generated kernels are float32.
            guard.Add($"{Contract}.Autocasting({GraphEmitter.InputName(0)})");
            // On a CUDA device the fused groups are generated GPU kernels and the GEMMs, convolutions, pooling, softmax,
            // cross-entropy, layer, RMS and batch norm and embeddings run as the CUDA backend's kernels; a graph with any
            // other producer (self-attention) runs the eager Forward there (same results).
            if (m.Plan.Any(st => st.Producer is { } pr && !GpuProducer(pr.Op)))
                guard.Add($"{GraphEmitter.InputName(0)}.IsCuda");
            return string.Join(" || ", guard.Distinct());
        }

        /// <summary>The producers whose CUDA form exists (the CUDA backend's kernels behind the same runtime calls).</summary>
        static bool GpuProducer(string op) => op is IrOps.Linear or IrOps.Flatten or IrOps.Softmax or IrOps.CrossEntropy or IrOps.LayerNorm or IrOps.RmsNorm or IrOps.BatchNorm or IrOps.Island
            or IrOps.Conv2d or IrOps.MaxPool2d or IrOps.Embedding;
    }
}
