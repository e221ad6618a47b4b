using System.Collections.Generic;
using System.Linq;

namespace Kiln.Compiler.Ir
{
    /// <summary>
    /// One kernel of a compiled graph: a producer (a layer run by the tensor core's kernels) or a fused group of
    /// elementwise nodes computed in one loop from its external values.
    /// </summary>
    public sealed class FusionStep
    {
        internal FusionStep(IrNode? producer) { Producer = producer; }

        /// <summary>The layer this step runs, or null for a fused elementwise group.</summary>
        public IrNode? Producer { get; }
        /// <summary>The group's nodes in evaluation order (empty for a producer).</summary>
        public List<IrNode> Elementwise { get; } = new List<IrNode>();
        /// <summary>The values a group reads from outside it, each once.</summary>
        public List<int> External { get; } = new List<int>();
        /// <summary>The value this step materialises.</summary>
        public int Output => Producer?.Id ?? Elementwise[Elementwise.Count - 1].Id;
        /// <summary>Whether its backward needs the forward values (a rule that reads them); otherwise nothing is saved for it.</summary>
        public bool Recomputes => Elementwise.Any(ReadsValues);

        /// <summary>Whether a node's derivative reads values (activations, products, quotients) rather than only the gradient (sums, dropout).</summary>
        public static bool ReadsValues(IrNode n) => n.Op == IrOps.Activation || n.Op == IrOps.Binary && IrOps.BinaryName(n) is "mul" or "div";
    }

    /// <summary>
    /// The fusion planner: each elementwise node joins the group just before it when it reads that group's value and is its
    /// only reader (so the intermediate never touches memory); otherwise it starts a group. Groups only ever extend the most
    /// recent step, so kernels run in Forward's order and dropout draws come from the generator in eager's order.
    /// </summary>
    public static class FusionPlanner
    {
        /// <summary>The steps of <paramref name="graph"/>, in execution order.</summary>
        public static List<FusionStep> Plan(IrGraph graph)
        {
            var uses = graph.Uses();
            var steps = new List<FusionStep>();
            foreach (var node in graph.Nodes)
            {
                if (node.Op == IrOps.Input) continue;
                if (!IrOps.IsElementwise(node.Op)) { steps.Add(new FusionStep(node)); continue; }
                var last = steps.Count > 0 ? steps[steps.Count - 1] : null;
                bool extend = last is not null && last.Producer is null && node.Inputs.Count > 0 && node.Inputs[0] == last.Output && uses[last.Output] == 1;
                if (!extend && last is not null && last.Producer is null && node.Inputs.Count == 2 && node.Inputs[1] == last.Output && uses[last.Output] == 1)
                    extend = true;
                var group = extend ? last! : new FusionStep(null);
                if (!extend) steps.Add(group);
                var inside = new HashSet<int>(group.Elementwise.Select(n => n.Id));
                foreach (int i in node.Inputs)
                    if (!inside.Contains(i) && !group.External.Contains(i)) group.External.Add(i);
                group.Elementwise.Add(node);
            }
            return steps;
        }
    }
}
