using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// Einstein summation (<c>torch.einsum</c>): <c>"ij,jk->ik"</c>, <c>"bhqd,bhkd->bhqk"</c>, <c>"ii"</c> is not
    /// supported (a letter twice in one operand), nor <c>...</c>. Without <c>-&gt;</c> the output takes the letters seen
    /// once, in alphabetical order. Operands are contracted pairwise, left to right, each pair as one batched matrix
    /// product; gradients flow through those ops.
    /// </summary>
    public static Tensor Einsum(string equation, params Tensor[] operands)
    {
        const string op = "einsum";
        var parts = equation.Replace(" ", "").Split("->");
        if (parts.Length > 2) throw new KilnException(op, $"{op}: the equation '{equation}' has more than one '->'");
        var inputs = parts[0].Split(',');
        if (inputs.Length != operands.Length)
            throw new KilnException(op, $"{op}: the equation '{equation}' names {inputs.Length} operands, {operands.Length} were given");
        if (equation.Contains("...")) throw new KilnException(op, $"{op}: ellipsis ('...') is not supported yet in '{equation}'", KilnErrorKind.Unsupported);
        var sizes = new Dictionary<char, int>();
        for (int k = 0; k < inputs.Length; k++)
        {
            var letters = inputs[k];
            if (letters.Any(c => !char.IsAsciiLetter(c))) throw new KilnException(op, $"{op}: subscripts must be letters, got '{letters}' in '{equation}'");
            if (letters.Length != operands[k].Dim)
                throw new KilnException(op, $"{op}: the subscript '{letters}' has {letters.Length} letters for operand {k} of shape {ShapeText.Format(operands[k].ShapeArray)}", KilnErrorKind.Shape);
            if (letters.Distinct().Count() != letters.Length)
                throw new KilnException(op, $"{op}: a letter repeated within one operand ('{letters}', a diagonal) is not supported yet", KilnErrorKind.Unsupported);
            for (int i = 0; i < letters.Length; i++)
            {
                int size = operands[k].Size(i);
                if (sizes.TryGetValue(letters[i], out int seen) && seen != size && seen != 1 && size != 1)
                    throw new KilnException(op, $"{op}: subscript '{letters[i]}' has size {seen} in one operand and {size} in operand {k}", KilnErrorKind.Shape);
                sizes[letters[i]] = Math.Max(seen, size);
            }
        }
        string output = parts.Length == 2 ? parts[1]
            : new string(sizes.Keys.Where(c => inputs.Sum(s => s.Count(x => x == c)) == 1).OrderBy(c => c).ToArray());
        foreach (char c in output)
            if (!sizes.ContainsKey(c)) throw new KilnException(op, $"{op}: output subscript '{c}' does not appear in any operand of '{equation}'");
        if (output.Distinct().Count() != output.Length) throw new KilnException(op, $"{op}: output subscript repeated in '{output}'");

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
        using var ar = Reduce(a, la, aKeep);
        using var br = Reduce(b, lb, bKeep);
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
