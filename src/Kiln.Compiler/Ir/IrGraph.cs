using System;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.Compiler.Ir
{
    /// <summary>
    /// A model's Forward as a graph over one float input (value 0): nodes in evaluation order, the returned value, and
    /// the run-time conditions (C# expressions over the model <c>m</c>) under which the graph is what Forward computes
    /// (otherwise the compiled model runs the eager Forward).
    /// </summary>
    public sealed class IrGraph : IEquatable<IrGraph>
    {
        /// <summary>Creates a graph.</summary>
        public IrGraph(IReadOnlyList<IrNode> nodes, int output, IReadOnlyList<string> conditions)
        {
            for (int i = 0; i < nodes.Count; i++)
            {
                if (nodes[i].Id != i) throw new ArgumentException($"node {i} has id {nodes[i].Id}");
                foreach (int input in nodes[i].Inputs)
                    if (input < 0 || input >= i) throw new ArgumentException($"node {i} reads %{input}, which is not an earlier value");
            }
            if (nodes.Count == 0 || nodes[0].Op != IrOps.Input) throw new ArgumentException("value 0 must be the (first) input");
            if (output < 0 || output >= nodes.Count) throw new ArgumentException($"the output %{output} is not a value of the graph");
            Nodes = nodes.ToArray(); Output = output; Conditions = conditions.ToArray();
        }

        /// <summary>The values in evaluation order; node i has id i, node 0 is the input.</summary>
        public IReadOnlyList<IrNode> Nodes { get; }
        /// <summary>The returned value.</summary>
        public int Output { get; }
        /// <summary>Conditions for the graph to hold, checked before running it.</summary>
        public IReadOnlyList<string> Conditions { get; }

        /// <summary>How many times each value is read (the returned value counts once more).</summary>
        public int[] Uses()
        {
            var uses = new int[Nodes.Count];
            foreach (var n in Nodes) foreach (int i in n.Inputs) uses[i]++;
            uses[Output]++;
            return uses;
        }

        /// <summary>Which values depend on the inputs alone (no parameter on their path): their gradients matter only when an input needs one.</summary>
        public bool[] InputOnly()
        {
            var only = new bool[Nodes.Count];
            foreach (var n in Nodes)
                only[n.Id] = n.Op == IrOps.Input || (!IrOps.HasParameters(n) && n.Inputs.All(i => only[i]));
            return only;
        }

        /// <summary>The Forward inputs each value depends on (their positions), for the values that depend on inputs alone.</summary>
        public IReadOnlyList<int>[] InputsBehind()
        {
            var only = InputOnly();
            var sets = new IReadOnlyList<int>[Nodes.Count];
            foreach (var n in Nodes)
                sets[n.Id] = !only[n.Id] ? Array.Empty<int>()
                    : n.Op == IrOps.Input ? new[] { InputPosition(n) }
                    : n.Inputs.SelectMany(i => sets[i]).Distinct().OrderBy(k => k).ToArray();
            return sets;
        }

        /// <summary>Whether Forward's input may be null (<c>Tensor?</c>; the compiled model runs the eager Forward when it is).</summary>
        public static bool IsNullable(IrNode input) => input.Attr2 is IrOps.NullableInput or IrOps.OptionalInput;

        /// <summary>Whether Forward's input has the default null (<c>Tensor? mask = null</c>).</summary>
        public static bool IsOptional(IrNode input) => input.Attr2 == IrOps.OptionalInput;

        /// <summary>The Forward inputs' values, in parameter order.</summary>
        public IReadOnlyList<int> InputValues => Nodes.Where(n => n.Op == IrOps.Input).OrderBy(InputPosition).Select(n => n.Id).ToArray();

        /// <summary>Which Forward parameter an input node is (0 for the first).</summary>
        public static int InputPosition(IrNode input) => input.Attr is null ? 0 : int.Parse(input.Attr, System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>The ops that read the input at <paramref name="position"/> directly.</summary>
        public IEnumerable<IrNode> ReadersOfInput(int position = 0)
        {
            int value = InputValues[position];
            return Nodes.Where(n => n.Inputs.Contains(value));
        }

        /// <inheritdoc/>
        public bool Equals(IrGraph? o) => o is not null && o.Output == Output && o.Nodes.SequenceEqual(Nodes) && o.Conditions.SequenceEqual(Conditions);
        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as IrGraph);
        /// <inheritdoc/>
        public override int GetHashCode() => Nodes.Aggregate(Output, (h, n) => h * 31 + n.GetHashCode());
        /// <inheritdoc/>
        public override string ToString() => string.Join("\n", Nodes) + $"\nreturn %{Output}";
    }

    /// <summary>Builds an <see cref="IrGraph"/> in evaluation order.</summary>
    public sealed class IrBuilder
    {
        readonly List<IrNode> _nodes = new List<IrNode> { new IrNode(0, IrOps.Input, Array.Empty<int>()) };
        readonly List<string> _conditions = new List<string>();

        /// <summary>The (first) input value.</summary>
        public int Input => 0;

        /// <summary>Adds the Forward input at <paramref name="position"/> (1 for the second parameter, ...).</summary>
        public int AddInput(int position, string? nullability = null) =>
            Add(IrOps.Input, Array.Empty<int>(), attr: position.ToString(System.Globalization.CultureInfo.InvariantCulture), attr2: nullability);

        /// <summary>Appends a node and returns its value.</summary>
        public int Add(string op, IReadOnlyList<int> inputs, string? member = null, string? attr = null, string? attr2 = null, IReadOnlyList<string>? parameters = null)
        {
            _nodes.Add(new IrNode(_nodes.Count, op, inputs, member, attr, attr2, parameters));
            return _nodes.Count - 1;
        }

        /// <summary>The node that computes <paramref name="value"/>.</summary>
        public IrNode Node(int value) => _nodes[value];

        /// <summary>Appends a one-input node.</summary>
        public int Add(string op, int input, string? member = null, string? attr = null, string? attr2 = null) => Add(op, new[] { input }, member, attr, attr2);

        /// <summary>A point to roll back to (<see cref="Rollback"/>) when a tentative read fails.</summary>
        public (int Nodes, int Conditions) Mark() => (_nodes.Count, _conditions.Count);

        /// <summary>Drops every node and condition added since <paramref name="mark"/>.</summary>
        public void Rollback((int Nodes, int Conditions) mark)
        {
            _nodes.RemoveRange(mark.Nodes, _nodes.Count - mark.Nodes);
            _conditions.RemoveRange(mark.Conditions, _conditions.Count - mark.Conditions);
        }

        /// <summary>Adds a run-time condition for the graph (deduplicated).</summary>
        public void Require(string condition) { if (!_conditions.Contains(condition)) _conditions.Add(condition); }

        /// <summary>Whether any node has parameters.</summary>
        public bool HasParameters => _nodes.Any(IrOps.HasParameters);

        /// <summary>Whether any node is elementwise (a parameterless model of such ops still compiles to one fused kernel).</summary>
        public bool HasElementwise => _nodes.Any(n => n.Op is IrOps.Activation or IrOps.Binary or IrOps.Add or IrOps.Dropout);

        /// <summary>The graph returning <paramref name="output"/>.</summary>
        public IrGraph Build(int output) => new IrGraph(_nodes, output, _conditions);
    }
}
