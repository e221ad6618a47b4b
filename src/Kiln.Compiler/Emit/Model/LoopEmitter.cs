using System;
using System.Linq;
using Kiln.Compiler.Ir;
using static Kiln.Compiler.Emit.Model.ElementwiseCode;
using static Kiln.Compiler.Emit.Model.RuntimeNames;

namespace Kiln.Compiler.Emit.Model
{
    /// <summary>
    /// The pieces of a fused group's element loop shared by its forward and backward, on the CPU and in GPU kernels:
    /// loading the group's inputs (through broadcast maps), its values in order, stores, dropout masks, and the CPU loop
    /// itself (eight lanes where every node has a vector form, then a scalar tail, split over Kiln's threads).
    /// </summary>
    internal static class LoopEmitter
    {
        /// <summary>The broadcast maps a group's loop reads its values through.</summary>
        public static string Maps(FusionStep g) => Broadcasts(g) ? string.Concat(g.External.Select((_, k) => $"var m{k} = gb{g.Output}!.Maps[{k}]; ")) : "";

        /// <summary>Element i (or eight lanes from it) of a span.</summary>
        public static string Load(bool vector, string span) => vector ? $"{Vec}.Create((global::System.ReadOnlySpan<float>){span}.Slice(i, 8))" : $"{span}[i]";

        /// <summary>Writes a value at element i (or eight lanes from it).</summary>
        public static void Store(IndentedWriter w, bool vector, string span, string value) =>
            w.Line(vector ? $"{Vec}.CopyTo({value}, {span}.Slice(i, 8));" : $"{span}[i] = {value};");

        /// <summary>The group's inputs at element i: <c>x0</c>, <c>x1</c>, ...</summary>
        public static void Loads(IndentedWriter w, FusionStep g, bool vector, bool gpu = false)
        {
            for (int k = 0; k < g.External.Count; k++)
                w.Line(gpu ? $"var x{k} = es{k}[m{k}.Index(i)];"
                    : !Broadcasts(g) ? $"var x{k} = {Load(vector, $"es{k}")};"
                    : vector ? $"var x{k} = m{k}.Full ? {Load(true, $"es{k}")} : {Contract}.LoadBroadcast(es{k}, i, m{k});"
                    : $"var x{k} = es{k}[m{k}.Full ? i : m{k}.Index(i)];");
        }

        /// <summary>The group's values in order (up to node index <paramref name="upTo"/>: what a backward reads).</summary>
        public static void ForwardValues(IndentedWriter w, FusionStep g, bool vector, int upTo = int.MaxValue, bool gpu = false)
        {
            foreach (var n in g.Elementwise.Take(upTo == int.MaxValue ? int.MaxValue : upTo + 1))
                w.Line($"var a{n.Id} = {Forward(g, n, vector, gpu)};");
        }

        /// <summary>Dropout masks of a group: drawn in forward (reserving the generator's counters), regenerated in backward.</summary>
        public static void Masks(IndentedWriter w, FusionStep g, bool reserve)
        {
            foreach (var n in g.Elementwise.Where(n => n.Op == IrOps.Dropout))
            {
                w.Line($"float[]? mask{n.Id} = null;");
                string draw = reserve ? $"draw{n.Id} = {Contract}.ReserveDropout(n, p{n.Id}); " : "";
                w.Line($"if (drop{n.Id}) {{ {draw}mask{n.Id} = global::System.Buffers.ArrayPool<float>.Shared.Rent(n); draw{n.Id}.Fill(global::System.MemoryExtensions.AsSpan(mask{n.Id}, 0, n)); }}");
            }
        }

        /// <summary>Returns the group's mask arrays to the pool.</summary>
        public static void ReturnMasks(IndentedWriter w, FusionStep g)
        {
            foreach (var n in g.Elementwise.Where(n => n.Op == IrOps.Dropout))
                w.Line($"if (mask{n.Id} != null) global::System.Buffers.ArrayPool<float>.Shared.Return(mask{n.Id});");
        }

        /// <summary>
        /// The loop over a group's elements, over Kiln's worker threads now, or into a named range function
        /// (<paramref name="into"/>: a norm's pass calls it block by block).
        /// </summary>
        public static void Loop(IndentedWriter w, FusionStep g, string spans, Action<bool> body, string? into = null)
        {
            w.Open(into is null ? $"{Contract}.ForRanges(n, 16384, (s0, s1) =>" : $"{into} = (s0, s1) =>");
            w.Line(spans);
            w.Line("int i = (int)s0, end = (int)s1;");
            if (Vectorizable(g))
            {
                w.Open("for (; i + 8 <= end; i += 8)");
                body(true);
                w.Close();
            }
            w.Open("for (; i < end; i++)");
            body(false);
            w.Close();
            w.Close(into is null ? ");" : ";");
        }
    }
}
