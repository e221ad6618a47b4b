using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static void AddControlFlow(Dictionary<string, Op> t)
    {
        t["If"] = c =>
        {
            bool cond = Condition(c, c.In(0), "cond");
            var branch = Body(c, cond ? "then_branch" : "else_branch");
            var outputs = GraphRunner.Run(branch, [], c.Scope, $"If's {(cond ? "then" : "else")} branch");
            if (outputs.Length != c.Node.Outputs.Count)
                throw c.Error($"the {(cond ? "then" : "else")} branch gives {outputs.Length} outputs for the node's {c.Node.Outputs.Count}");
            return outputs;
        };
        t["Loop"] = c =>
        {
            // Body: (iteration, cond, carried...) -> (cond, carried..., scan outputs...); runs while i < M and cond.
            var body = Body(c, "body");
            long? trips = c.Optional(0) is { Numel: > 0 } m ? c.Longs(m)[0] : null;
            bool cond = c.Optional(1) is not { Numel: > 0 } k || Condition(c, k, "cond");
            int carried = c.InputCount - 2;
            if (body.Inputs.Count != carried + 2) throw c.Error($"the body takes {body.Inputs.Count} inputs for {carried} loop-carried values (expected {carried + 2})");
            int scans = body.Outputs.Count - 1 - carried;
            if (scans < 0) throw c.Error($"the body gives {body.Outputs.Count} outputs for {carried} loop-carried values");
            var state = new object?[carried];
            for (int i = 0; i < carried; i++) state[i] = c.Value(2 + i);
            var scanned = new List<Tensor>[scans];
            for (int j = 0; j < scans; j++) scanned[j] = [];
            for (long i = 0; (trips is null || i < trips) && cond; i++)
            {
                var inputs = new object?[carried + 2];
                inputs[0] = Tensor.Full([], i, DType.Int64);
                inputs[1] = Tensor.Full([], 1, DType.Bool);
                Array.Copy(state, 0, inputs, 2, carried);
                var outputs = GraphRunner.Run(body, inputs, c.Scope, "Loop's body");
                cond = Condition(c, outputs[0] as Tensor ?? throw c.Error("the body's condition is not a tensor"), "the body's condition");
                Array.Copy(outputs, 1, state, 0, carried);
                for (int j = 0; j < scans; j++)
                    scanned[j].Add(outputs[1 + carried + j] as Tensor ?? throw c.Error($"scan output {j} is {NodeContext.Describe(outputs[1 + carried + j])}"));
            }
            var result = new object?[carried + scans];
            Array.Copy(state, result, carried);
            for (int j = 0; j < scans; j++) result[carried + j] = scanned[j].Count > 0 ? Tensor.Stack(scanned[j], 0) : Tensor.Zeros([0], DType.Float32);
            return result;
        };
        t["Scan"] = c => c.Opset < 9 ? ScanWithBatch(c) : Scan(c, 0, c.InputCount);
        t["SequenceMap"] = c =>
        {
            // The body on each element (and on the matching element of every other sequence input; tensors as they are).
            var body = Body(c, "body");
            var first = c.Sequence(0);
            var collected = new List<Tensor>[c.Node.Outputs.Count];
            for (int j = 0; j < collected.Length; j++) collected[j] = [];
            for (int i = 0; i < first.Count; i++)
            {
                var inputs = new object?[c.InputCount];
                inputs[0] = first[i];
                for (int k = 1; k < inputs.Length; k++)
                    inputs[k] = c.Value(k) is OnnxSequence s ? (i < s.Count ? s[i] : throw c.Error($"input {k} has {s.Count} elements, input 0 has {first.Count}")) : c.Value(k);
                var outputs = GraphRunner.Run(body, inputs, c.Scope, "SequenceMap's body");
                for (int j = 0; j < collected.Length; j++) collected[j].Add(outputs[j] as Tensor ?? throw c.Error($"body output {j} is not a tensor"));
            }
            var result = new object?[collected.Length];
            for (int j = 0; j < result.Length; j++) result[j] = new OnnxSequence(collected[j]);
            return result;
        };

        t["SequenceEmpty"] = c => One(new OnnxSequence([]));
        t["SequenceConstruct"] = c =>
        {
            var items = new Tensor[c.InputCount];
            for (int i = 0; i < items.Length; i++) items[i] = c.In(i);
            return One(new OnnxSequence(items));
        };
        t["SequenceLength"] = c => One(Tensor.Full([], c.Sequence(0).Count, DType.Int64));
        t["SequenceAt"] = c =>
        {
            var s = c.Sequence(0);
            return One(s[Position(c, c.In(1), s.Count, insert: false)]);
        };
        t["SequenceInsert"] = c =>
        {
            var items = new List<Tensor>(c.Sequence(0));
            int at = c.Optional(2) is { } p ? Position(c, p, items.Count, insert: true) : items.Count;
            items.Insert(at, c.In(1));
            return One(new OnnxSequence(items));
        };
        t["SequenceErase"] = c =>
        {
            var items = new List<Tensor>(c.Sequence(0));
            if (items.Count == 0) throw c.Error("erasing from an empty sequence");
            items.RemoveAt(c.Optional(1) is { } p ? Position(c, p, items.Count, insert: false) : items.Count - 1);
            return One(new OnnxSequence(items));
        };
        t["SplitToSequence"] = c =>
        {
            var x = c.In(0);
            int axis = c.Axis(c.Int("axis", 0), x.Dim);
            int n = x.Size(axis);
            Tensor[] pieces;
            if (c.Optional(1) is not { } split)
            {
                // No split: one piece per index, squeezed unless keepdims.
                pieces = new Tensor[n];
                bool keep = c.Int("keepdims", 1) != 0;
                for (int i = 0; i < n; i++) pieces[i] = keep ? x.Narrow(axis, i, 1) : x.Select(axis, i);
            }
            else
            {
                var sizes = c.Longs(split);
                if (split.Dim == 0)
                {
                    long each = sizes[0];
                    if (each <= 0) throw c.Error($"split {each} is not positive");
                    var list = new List<int>();
                    for (long left = n; left > 0; left -= each) list.Add((int)Math.Min(each, left));
                    sizes = Array.ConvertAll(list.ToArray(), v => (long)v);
                }
                long total = 0;
                foreach (long v in sizes) total += v;
                if (total != n) throw c.Error($"split sizes [{string.Join(", ", sizes)}] add to {total}, the axis has {n}");
                pieces = [.. x.Split(ToInts(sizes), axis)];
            }
            return One(new OnnxSequence(pieces));
        };
        t["ConcatFromSequence"] = c =>
        {
            var s = c.Sequence(0);
            if (s.Count == 0) throw c.Error("concatenating an empty sequence");
            bool newAxis = c.Int("new_axis", 0) != 0;
            int axis = c.Axis(c.Int("axis", 0), s[0].Dim + (newAxis ? 1 : 0));
            return One(newAxis ? Tensor.Stack([.. s], axis) : Tensor.Cat([.. s], axis));
        };

        t["Optional"] = c => One(new OnnxOptional(c.Value(0)));
        t["OptionalHasElement"] = c => One(Tensor.Full([], c.Value(0) switch { OnnxOptional o => o.HasValue ? 1 : 0, null => 0, _ => 1 }, DType.Bool));
        t["OptionalGetElement"] = c => One(c.Value(0) switch
        {
            OnnxOptional { HasValue: true } o => o.Value,
            OnnxOptional => throw c.Error("the optional is empty"),
            null => throw c.Error("input 0 is required"),
            var v => v,
        });
    }

    static OnnxGraph Body(NodeContext c, string attribute) =>
        c.Node.Graphs.TryGetValue(attribute, out var g) ? g : throw c.Error($"the graph attribute '{attribute}' is missing");

    static bool Condition(NodeContext c, Tensor t, string what) =>
        t.Numel == 1 ? t.To(DType.Bool).Reshape([]).Item<bool>() : throw c.Error($"{what} should hold one value, got [{string.Join(", ", t.ShapeArray)}]");

    /// <summary>A sequence position (negative from the end); inserting may name the end itself.</summary>
    static int Position(NodeContext c, Tensor p, int count, bool insert)
    {
        long at = c.Longs(p)[0];
        long resolved = at < 0 ? at + count : at;
        if (resolved < 0 || resolved > count || resolved == count && !insert)
            throw c.Error($"position {at} is outside a sequence of {count}");
        return (int)resolved;
    }

    /// <summary>
    /// Scan (opset 9+) over inputs [first, first + count): N state values then M scanned tensors, each cut along its scan
    /// axis (backwards where its direction is 1); the body maps (states, slices) to (states, output slices), and the
    /// output slices are stacked along their axes (backwards where asked).
    /// </summary>
    static object?[] Scan(NodeContext c, int first, int count)
    {
        var body = Body(c, "body");
        int m = checked((int)c.Int("num_scan_inputs", 0)), n = count - m;
        if (m < 1 || n < 0) throw c.Error($"num_scan_inputs {m} for {count} inputs");
        int k = body.Outputs.Count - n;
        long[] Attr(string name, int length)
        {
            var v = c.Ints(name) ?? new long[length];
            return v.Length == length ? v : throw c.Error($"{name} has {v.Length} entries for {length}");
        }
        var inAxes = Attr("scan_input_axes", m);
        var inDirections = Attr("scan_input_directions", m);
        var outAxes = Attr("scan_output_axes", k);
        var outDirections = Attr("scan_output_directions", k);
        var scanned = new Tensor[m];
        var axes = new int[m];
        int steps = -1;
        for (int j = 0; j < m; j++)
        {
            scanned[j] = c.In(first + n + j);
            axes[j] = c.Axis(inAxes[j], scanned[j].Dim);
            int len = scanned[j].Size(axes[j]);
            if (steps >= 0 && len != steps) throw c.Error($"scan input {j} has {len} steps, the first has {steps}");
            steps = len;
        }
        var state = new object?[n];
        for (int i = 0; i < n; i++) state[i] = c.Value(first + i);
        var outputs = new List<Tensor>[k];
        for (int j = 0; j < k; j++) outputs[j] = [];
        for (int s = 0; s < steps; s++)
        {
            var inputs = new object?[n + m];
            Array.Copy(state, inputs, n);
            for (int j = 0; j < m; j++) inputs[n + j] = scanned[j].Select(axes[j], inDirections[j] != 0 ? steps - 1 - s : s);
            var results = GraphRunner.Run(body, inputs, c.Scope, "Scan's body");
            Array.Copy(results, state, n);
            for (int j = 0; j < k; j++) outputs[j].Add(results[n + j] as Tensor ?? throw c.Error($"scan output {j} is not a tensor"));
        }
        var result = new object?[n + k];
        Array.Copy(state, result, n);
        for (int j = 0; j < k; j++)
        {
            if (outDirections[j] != 0) outputs[j].Reverse();
            if (outputs[j].Count == 0) throw c.Error("a scan of zero steps has no output shape");
            result[n + j] = Tensor.Stack(outputs[j], c.Axis(outAxes[j], outputs[j][0].Dim + 1));
        }
        return result;
    }

    /// <summary>Scan-8: a leading batch axis on every state and scanned input (scan axis 1), and an optional sequence_lens
    /// (only full lengths run); each batch entry scans on its own and the results are stacked.</summary>
    static object?[] ScanWithBatch(NodeContext c)
    {
        int count = c.InputCount - 1;
        if (c.Optional(0) is { } lens)
        {
            int full = c.In(c.InputCount - 1).Size(1);
            foreach (long l in c.Longs(lens)) if (l != full) throw c.Unsupported("sequence_lens shorter than the scanned axis");
        }
        int batch = c.In(1).Size(0);
        List<object?[]> perEntry = [];
        for (int b = 0; b < batch; b++)
        {
            var inputs = new object?[count];
            for (int i = 0; i < count; i++) inputs[i] = c.In(1 + i).Select(0, b);
            perEntry.Add(Scan(new NodeContext(c.Node, inputs, 9, c.Scope), 0, count));
        }
        var result = new object?[perEntry[0].Length];
        for (int j = 0; j < result.Length; j++)
        {
            var parts = new Tensor[batch];
            for (int b = 0; b < batch; b++) parts[b] = (Tensor)perEntry[b][j]!;
            result[j] = Tensor.Stack(parts, 0);
        }
        return result;
    }
}
