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
        /// <summary>
        /// A group run inside this producer's GEMM epilogue (a Linear followed by ReLU/GELU and dropout), or null. The
        /// producer's own value then lives in memory only when the group's backward reads it.
        /// </summary>
        public FusionStep? Epilogue { get; internal set; }
        /// <summary>A "* c" group run inside this softmax's row kernel (scores scaled before a softmax), or null.</summary>
        public FusionStep? Prologue { get; internal set; }
        /// <summary>The constant a prologue multiplies by, as written ("1" without one).</summary>
        public string PrologueScale => Prologue?.Elementwise[0].Attr2 ?? "1";
        /// <summary>The value this step reads: a prologue's input, or the producer's first input.</summary>
        public int Source => Prologue?.External[0] ?? Producer!.Inputs[0];
        /// <summary>
        /// For a LayerNorm/RMSNorm step: the fused group just before it that produces its input, run block by block inside
        /// the norm's pass (its output is still written — the norm's backward and other readers need it), or null.
        /// </summary>
        public FusionStep? Prelude { get; internal set; }
        /// <summary>Whether this group runs inside the next step's norm pass (see <see cref="Prelude"/>).</summary>
        public bool RunsInNorm { get; internal set; }
        /// <summary>The activation an epilogue applies ("relu", "gelu", "gelu_tanh"), or null.</summary>
        public string? EpilogueActivation => Epilogue?.Elementwise.FirstOrDefault(n => n.Op == IrOps.Activation)?.Attr;
        /// <summary>The dropout an epilogue applies, or null.</summary>
        public IrNode? EpilogueDropout => Epilogue?.Elementwise.FirstOrDefault(n => n.Op == IrOps.Dropout);
        /// <summary>
        /// Whether backward gates the gradient GEMMs by this step's output (a ReLU epilogue: the output is positive exactly
        /// where the gradient passes), so nothing but the output is kept.
        /// </summary>
        public bool Gated => EpilogueActivation == "relu";
        /// <summary>The value this step materialises.</summary>
        public int Output => Epilogue?.Output ?? Producer?.Id ?? Elementwise[Elementwise.Count - 1].Id;
        /// <summary>Whether its backward needs the forward values (a rule that reads them); otherwise nothing is saved for it.</summary>
        public bool Recomputes => Elementwise.Any(ReadsValues);

        /// <summary>Whether a node's derivative reads values (activations, products, quotients) rather than only the gradient (sums, dropout).</summary>
        public static bool ReadsValues(IrNode n) => n.Op == IrOps.Activation || n.Op == IrOps.Binary && BinaryReads(IrOps.BinaryName(n));

        // From the op table: whether either input's gradient reads a, b or y (mul, div, swiglu do; add, sub do not).
        static bool BinaryReads(string name)
        {
            var op = Ops.Pointwise.BinaryOps.Find(name);
            if (op is null) return true;
            var (a0, b0, y0) = op.Reads(0);
            var (a1, b1, y1) = op.Reads(1);
            return a0 || b0 || y0 || a1 || b1 || y1;
        }
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
            // A constant scale before a softmax moves into its row kernel.
            for (int s = steps.Count - 2; s >= 0; s--)
                if (PrologueFits(steps[s], steps[s + 1], uses))
                {
                    steps[s + 1].Prologue = steps[s];
                    steps.RemoveAt(s);
                }
            // A Linear's activation and dropout move into its GEMM epilogue.
            for (int s = steps.Count - 2; s >= 0; s--)
                if (EpilogueFits(steps[s], steps[s + 1], uses))
                {
                    steps[s].Epilogue = steps[s + 1];
                    steps.RemoveAt(s + 1);
                }
            // A group (still one: not in an epilogue) producing a norm's input runs inside the norm's pass, block by block.
            for (int s = 0; s + 1 < steps.Count; s++)
                if (steps[s].Producer is null && steps[s + 1].Producer is { Op: IrOps.LayerNorm or IrOps.RmsNorm } norm && norm.Inputs[0] == steps[s].Output)
                {
                    steps[s + 1].Prelude = steps[s];
                    steps[s].RunsInNorm = true;
                }
            return steps;
        }

        /// <summary>Whether <paramref name="group"/> is one "* constant" read only by the softmax <paramref name="softmax"/>.</summary>
        static bool PrologueFits(FusionStep group, FusionStep softmax, int[] uses)
        {
            if (group.Producer is not null || softmax.Producer is not { Op: IrOps.Softmax } s || group.Elementwise.Count != 1) return false;
            var n = group.Elementwise[0];
            return n.Op == IrOps.Binary && n.Attr == "mul" && n.Attr2 is not null && group.External.Count == 1
                && s.Inputs[0] == n.Id && uses[n.Id] == 1;
        }

        /// <summary>
        /// Whether <paramref name="group"/> can run in <paramref name="producer"/>'s GEMM epilogue: the producer is a Linear
        /// read only by the group, and the group is a chain of at most one ReLU/GELU and at most one dropout (dropout
        /// before a GELU would change its input, so only ReLU may follow a dropout).
        /// </summary>
        static bool EpilogueFits(FusionStep producer, FusionStep group, int[] uses)
        {
            if (producer.Producer is not { Op: IrOps.Linear } linear || group.Producer is not null) return false;
            if (group.External.Count != 1 || group.External[0] != linear.Id || uses[linear.Id] != 1) return false;
            bool activation = false, dropout = false;
            int previous = linear.Id;
            foreach (var n in group.Elementwise)
            {
                if (n.Inputs.Count != 1 || n.Inputs[0] != previous) return false;
                previous = n.Id;
                if (n.Op == IrOps.Dropout && !dropout) dropout = true;
                else if (n.Op == IrOps.Activation && !activation && (n.Attr == "relu" || !dropout && n.Attr is "gelu" or "gelu_tanh")) activation = true;
                else return false;
            }
            return true;
        }
    }
}
