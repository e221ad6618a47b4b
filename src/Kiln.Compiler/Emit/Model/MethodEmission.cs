using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Ir;

namespace Kiln.Compiler.Emit.Model
{
    /// <summary>
    /// One compiled Forward method being written: its graph and fusion plan, what the guard, forward, backward and GPU
    /// emitters share about it (parameter slots, which values only feed an input's gradient), and the two outputs —
    /// the method's text and the GPU kernels that go after the class's members.
    /// </summary>
    internal sealed class MethodEmission
    {
        public MethodEmission(string modelName, string nodeName, string methodName, IrGraph graph, IndentedWriter code, IndentedWriter kernels)
        {
            ModelName = modelName;
            NodeName = nodeName;
            MethodName = methodName;
            Graph = graph;
            Plan = FusionPlanner.Plan(graph);
            InputOnly = graph.InputOnly();
            Behind = graph.InputsBehind();
            InputValues = graph.InputValues;
            Code = code;
            Kernels = kernels;
            Islands = graph.Nodes.Where(n => n.Op == IrOps.Island && IrOps.HasParameters(n)).ToList();
        }

        /// <summary>The model class's name.</summary>
        public string ModelName { get; }
        /// <summary>The autograd node's name.</summary>
        public string NodeName { get; }
        /// <summary>The method's name (Forward, ForwardTraining, ForwardEval); GPU kernels are named after it.</summary>
        public string MethodName { get; }
        /// <summary>The forward graph.</summary>
        public IrGraph Graph { get; }
        /// <summary>Its fusion plan: producers and fused groups in order.</summary>
        public List<FusionStep> Plan { get; }
        /// <summary>Per value: whether it lies on an input's own path (no parameter before it).</summary>
        public bool[] InputOnly { get; }
        /// <summary>Per value: the inputs behind it.</summary>
        public IReadOnlyList<int>[] Behind { get; }
        /// <summary>The ids of the Forward parameters' values.</summary>
        public IReadOnlyList<int> InputValues { get; }
        /// <summary>Eager islands with parameters of their own (listed after the fixed parameters).</summary>
        public List<IrNode> Islands { get; }
        /// <summary>Each parameterised producer's first slot among the node's inputs.</summary>
        public Dictionary<int, int> Slot { get; } = new Dictionary<int, int>();
        /// <summary>How many trailing Forward arguments this method's graph is without (null when the eager Forward takes the call).</summary>
        public int Absent { get; init; }
        /// <summary>The method's text.</summary>
        public IndentedWriter Code { get; }
        /// <summary>The GPU kernels' text (members of the Compiled class, after the methods).</summary>
        public IndentedWriter Kernels { get; }

        /// <summary>The condition under which value <paramref name="v"/>'s gradient is needed.</summary>
        public string NeedIn(int v) => InputOnly[v] ? string.Join(" || ", Behind[v].Select(k => $"need{k}").DefaultIfEmpty("false")) : "true";

        /// <summary>Adds <paramref name="value"/> to value <paramref name="v"/>'s gradient (callers test for null first where it may be null).</summary>
        public void Accumulate(int v, string value) => Code.Line($"{{ var t = {value}!; gv{v} = gv{v} is null ? t : gv{v} + t; }}");
    }
}
