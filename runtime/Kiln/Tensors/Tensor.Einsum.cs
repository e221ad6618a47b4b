using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// Einstein summation (<c>torch.einsum</c>): <c>"ij,jk->ik"</c>, <c>"bhqd,bhkd->bhqk"</c>, <c>"ii->i"</c> (a letter
    /// twice in one operand takes its diagonal), <c>"ii"</c> (trace), <c>"...ij,...jk->...ik"</c> (an ellipsis stands for
    /// the dims no letter names, broadcast across operands from the right). Without <c>-&gt;</c> the output takes the
    /// ellipsis dims, then the letters seen once in alphabetical order; an explicit output without <c>...</c> sums the
    /// ellipsis dims. Operands are contracted pairwise, left to right, each pair as one batched matrix product;
    /// gradients flow through those ops.
    /// </summary>
    public static Tensor Einsum(string equation, params Tensor[] operands)
    {
        const string op = "einsum";
        var parts = equation.Replace(" ", "").Split("->");
        if (parts.Length > 2) throw new KilnException(op, $"{op}: the equation '{equation}' has more than one '->'");
        var inputs = parts[0].Split(',');
        if (inputs.Length != operands.Length)
            throw new KilnException(op, $"{op}: the equation '{equation}' names {inputs.Length} operands, {operands.Length} were given");
        var (expanded, ellipsis) = ExpandEllipses(equation, inputs, operands);
        var written = (string[])expanded.Clone();   // before diagonals: an implicit output counts letters as written
        operands = (Tensor[])operands.Clone();
        var sizes = new Dictionary<char, int>();
        for (int k = 0; k < expanded.Length; k++)
        {
            // A letter repeated within one operand: its diagonal, a view with that letter last.
            var letters = expanded[k];
            for (int p = 0; p < letters.Length; p++)
            {
                int q = letters.IndexOf(letters[p], p + 1);
                if (q < 0) continue;
                if (operands[k].Size(p) != operands[k].Size(q))
                    throw new KilnException(op, $"{op}: subscript '{letters[p]}' is repeated in operand {k} for dims of sizes {operands[k].Size(p)} and {operands[k].Size(q)} (shape {ShapeText.Format(operands[k].ShapeArray)})", KilnErrorKind.Shape);
                operands[k] = operands[k].Diagonal(0, p, q);
                letters = letters.Remove(q, 1).Remove(p, 1) + letters[p];
                p = -1;
            }
            expanded[k] = letters;
            for (int i = 0; i < letters.Length; i++)
            {
                int size = operands[k].Size(i);
                if (sizes.TryGetValue(letters[i], out int seen) && seen != size && seen != 1 && size != 1)
                    throw new KilnException(op, letters[i] >= EllipsisLetter0
                        ? $"{op}: the dims '...' stands for do not broadcast: size {seen} against {size} in operand {k} of shape {ShapeText.Format(operands[k].ShapeArray)}"
                        : $"{op}: subscript '{letters[i]}' has size {seen} in one operand and {size} in operand {k}", KilnErrorKind.Shape);
                sizes[letters[i]] = Math.Max(seen, size);
            }
        }
        inputs = expanded;
        string output;
        if (parts.Length == 2)
        {
            output = parts[1];
            int dots = EllipsisAt(output, equation);
            if (dots >= 0) output = output[..dots] + ellipsis + output[(dots + 3)..];
        }
        else output = ellipsis + new string(sizes.Keys.Where(c => c < EllipsisLetter0 && written.Sum(s => s.Count(x => x == c)) == 1).OrderBy(c => c).ToArray());
        foreach (char c in output)
            if (!sizes.ContainsKey(c)) throw new KilnException(op, $"{op}: output subscript '{c}' does not appear in any operand of '{equation}'");
        if (output.Distinct().Count() != output.Length) throw new KilnException(op, $"{op}: output subscript repeated in '{parts[1]}'");

        // Left to right: each intermediate keeps the letters the output or a later operand still needs.
        Tensor current = operands[0];
        string currentLetters = inputs[0];
        bool owned = false;
        for (int k = 1; k <= operands.Length; k++)
        {
            if (k == operands.Length)
            {
                var result = Reduce(current, currentLetters, output);
                if (owned) current.Dispose();
                return result;
            }
            var keep = new string(currentLetters.Concat(inputs[k]).Distinct().Where(c => output.Contains(c) || inputs.Skip(k + 1).Any(s => s.Contains(c))).ToArray());
            var next = Contract(current, currentLetters, operands[k], inputs[k], keep);
            if (owned) current.Dispose();
            current = next; currentLetters = keep; owned = true;
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>The first of the internal letters an ellipsis expands to (past every ASCII letter).</summary>
    const char EllipsisLetter0 = '\u0391';

    /// <summary>
    /// Each operand's subscripts with its <c>...</c> replaced by internal letters, one per dim no letter names, the last
    /// of them shared by every operand (broadcast from the right); also the letters of the longest ellipsis.
    /// </summary>
    static (string[] Letters, string Ellipsis) ExpandEllipses(string equation, string[] inputs, Tensor[] operands)
    {
        const string op = "einsum";
        var counts = new int[inputs.Length];
        int most = 0;
        for (int k = 0; k < inputs.Length; k++)
        {
            var s = inputs[k];
            int dots = EllipsisAt(s, equation);
            int named = dots >= 0 ? s.Length - 3 : s.Length;
            if (dots < 0 ? named != operands[k].Dim : named > operands[k].Dim)
                throw new KilnException(op, $"{op}: the subscript '{s}' has {named} letters{(dots >= 0 ? " and '...'" : "")} for operand {k} of shape {ShapeText.Format(operands[k].ShapeArray)}", KilnErrorKind.Shape);
            counts[k] = dots < 0 ? -1 : operands[k].Dim - named;
            most = Math.Max(most, counts[k]);
        }
        var all = new char[most];
        for (int i = 0; i < most; i++) all[i] = (char)(EllipsisLetter0 + i);
        string ellipsis = new(all);
        var letters = new string[inputs.Length];
        for (int k = 0; k < inputs.Length; k++)
            letters[k] = counts[k] < 0 ? inputs[k] : inputs[k].Replace("...", ellipsis[(most - counts[k])..]);
        return (letters, ellipsis);
    }

    /// <summary>Where a subscript's one <c>...</c> starts (-1 without one), after checking it holds only letters and that.</summary>
    static int EllipsisAt(string subscript, string equation)
    {
        const string op = "einsum";
        int dots = subscript.IndexOf("...", StringComparison.Ordinal);
        if (subscript.IndexOf('.') is int dot && dot >= 0 && (dot != dots || subscript.IndexOf('.', dots + 3) >= 0))
            throw new KilnException(op, $"{op}: the subscript '{subscript}' has a '.' that is not one '...' in '{equation}'");
        foreach (char c in subscript)
            if (c != '.' && !char.IsAsciiLetter(c)) throw new KilnException(op, $"{op}: subscripts must be letters, got '{subscript}' in '{equation}'");
        return dots;
    }

    /// <summary>One operand to <paramref name="to"/>: letters not kept are summed out, the rest permuted into place.</summary>
    static Tensor Reduce(Tensor t, string letters, string to)
    {
        var sumDims = Enumerable.Range(0, letters.Length).Where(i => !to.Contains(letters[i])).ToArray();
        using var summed = sumDims.Length > 0 ? t.Sum(sumDims) : t.Contiguous(); // recorded: gradients flow through
        string left = new string(letters.Where(to.Contains).ToArray());
        var perm = to.Select(c => left.IndexOf(c)).ToArray();
        if (perm.Length == 0) return summed.Sum();
        using var permuted = summed.Permute(perm);
        return permuted.Contiguous();
    }

    /// <summary>
    /// a ⊗ b contracted to <paramref name="keep"/>: batch letters (in both, kept), contracted (in both, not kept), left-only
    /// and right-only; one batched matrix product [batch, left, k] · [batch, k, right].
    /// </summary>
    static Tensor Contract(Tensor a, string la, Tensor b, string lb, string keep)
    {
        // Letters in only one operand and not kept are summed out first.
        string aKeep = new string(la.Where(c => lb.Contains(c) || keep.Contains(c)).ToArray());
        string bKeep = new string(lb.Where(c => la.Contains(c) || keep.Contains(c)).ToArray());
        var ar = Reduce(a, la, aKeep);
        var br = Reduce(b, lb, bKeep);
        // A contracted letter of size 1 on one side (broadcast) multiplies the other side's sum over it.
        foreach (char c in aKeep)
        {
            if (!bKeep.Contains(c) || keep.Contains(c)) continue;
            int ia = aKeep.IndexOf(c), ib = bKeep.IndexOf(c);
            if (ar.Size(ia) == br.Size(ib)) continue;
            if (ar.Size(ia) == 1) { var s = br.Sum([ib], true); br.Dispose(); br = s; }
            else { var s = ar.Sum([ia], true); ar.Dispose(); ar = s; }
        }
        using var arOwned = ar;
        using var brOwned = br;
        string batch = new string(aKeep.Where(c => bKeep.Contains(c) && keep.Contains(c)).ToArray());
        string contracted = new string(aKeep.Where(c => bKeep.Contains(c) && !keep.Contains(c)).ToArray());
        string left = new string(aKeep.Where(c => !bKeep.Contains(c)).ToArray());
        string right = new string(bKeep.Where(c => !aKeep.Contains(c)).ToArray());
        int Size(Tensor t, string letters, char c) => t.Size(letters.IndexOf(c));
        int Product(Tensor t, string letters, string of) { int p = 1; foreach (char c in of) p *= Size(t, letters, c); return p; }
        int[] SizesOf(string of) => of.Select(c => aKeep.Contains(c) ? Math.Max(Size(ar, aKeep, c), bKeep.Contains(c) ? Size(br, bKeep, c) : 1) : Size(br, bKeep, c)).ToArray();
        // Batch dims may broadcast (size 1 on one side): expand both to the common size first.
        var batchSizes = SizesOf(batch);
        using var aOrdered = ar.Permute((batch + left + contracted).Select(c => aKeep.IndexOf(c)).ToArray());
        using var bOrdered = br.Permute((batch + contracted + right).Select(c => bKeep.IndexOf(c)).ToArray());
        using var aExpanded = aOrdered.Expand([.. batchSizes, .. aOrdered.ShapeArray.Skip(batch.Length)]);
        using var bExpanded = bOrdered.Expand([.. batchSizes, .. bOrdered.ShapeArray.Skip(batch.Length)]);
        int nb = batchSizes.Aggregate(1, (x, y) => x * y), ni = Product(ar, aKeep, left), nk = Product(ar, aKeep, contracted), nj = Product(br, bKeep, right);
        using var a3 = aExpanded.Reshape(nb, ni, nk);
        using var b3 = bExpanded.Reshape(nb, nk, nj);
        using var product = a3.Matmul(b3);
        using var shaped = product.Reshape([.. batchSizes, .. SizesOf(left), .. SizesOf(right)]);
        string have = batch + left + right;
        using var permuted = shaped.Permute(keep.Select(c => have.IndexOf(c)).ToArray());
        return permuted.Contiguous();
    }
}
