#!/usr/bin/env python3
"""Writes runtime/Kiln.Quantization/Kernels/QuantTiles.cs: the unrolled register tiles of the few-rows quantized products.

Each tile multiplies two weight rows (4-bit codes or int8) against up to eight input rows; its accumulators must live in
registers, and C# has no array of vectors that stays in registers, so the bodies are unrolled here. Edit this script,
not the generated file. Usage: python3 tools/gen_quant_tiles.py
"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'runtime', 'Kiln.Quantization', 'Kernels', 'QuantTiles.cs')
FMA = "Avx512F.FusedMultiplyAdd"
LOAD = "Avx512F.LoadVector512"


def off(r):
    return "" if r == 0 else (" + ld" if r == 1 else f" + {r} * ld")


def guarded(lines, r, ind):
    """Row r's statements: row 0 always runs, the others only when the tile has that many rows."""
    if r == 0:
        return [ind + l for l in lines]
    return [ind + f"if (m > {r})", ind + "{"] + [ind + "    " + l for l in lines] + [ind + "}"]


def sums(rows, first, second):
    out = []
    for r in range(rows):
        st = f"acc[{2 * r}] = Vector512.Sum({first(r)}); acc[{2 * r + 1}] = Vector512.Sum({second(r)});"
        out.append("        " + (st if r == 0 else f"if (m > {r}) {{ {st} }}"))
    return out


def nibble(rows, split):
    """4-bit tile: codes looked up once per 16 bytes and scaled by their block's absmax; split = separate hi/lo chains."""
    name = "NibblePairNarrow" if split else "NibblePair"
    L = ["    /// <summary>",
         f"    /// Columns [c0, c0 + width) of two 4-bit weight rows (<paramref name=\"row\"/>, <paramref name=\"stride\"/> bytes on) against up",
         f"    /// to {rows} split input rows (even columns, then odd ones at ld/2): each 16 packed bytes looked up and scaled once for all",
         "    /// rows. " + ("High and low nibbles in separate accumulators, so each chain advances once per 16 bytes (with a shared chain two to four rows wait on FMA latency)."
                           if split else "One accumulator per input row and weight row (the high and low nibbles' products share it)."),
         "    /// </summary>",
         "    [MethodImpl(MethodImplOptions.AggressiveOptimization)]",
         f"    public static void {name}(int m, int ld, int c0, int width, float* split, byte* row, long stride, float* code, float* scales, int blocksPerRow, int blocksize, float* acc)",
         "    {",
         "        var table = Avx512F.LoadVector512(code);",
         "        int odd = ld / 2;",
         "        byte* row2 = row + stride;"]
    if split:
        decl = ", ".join(f"{k}{r}{w} = default" for r in range(rows) for w in range(2) for k in "hl")
    else:
        decl = ", ".join(f"a{r}{w} = default" for r in range(rows) for w in range(2))
    L.append(f"        Vector512<float> {decl};")
    L += ["        for (int q0 = c0 / 2, blk = c0 / blocksize; q0 < (c0 + width) / 2; q0 += blocksize / 2, blk++)",
          "        {",
          "            var s0 = Vector512.Create(scales[blk]);",
          "            var s1 = Vector512.Create(scales[blk + blocksPerRow]);",
          "            for (int q = q0; q < q0 + blocksize / 2; q += 16)",
          "            {",
          "                var (wh0, wl0) = FourBitKernels.Lookup(table, row + q);",
          "                var (wh1, wl1) = FourBitKernels.Lookup(table, row2 + q);",
          "                wh0 = Avx512F.Multiply(wh0, s0); wl0 = Avx512F.Multiply(wl0, s0);",
          "                wh1 = Avx512F.Multiply(wh1, s1); wl1 = Avx512F.Multiply(wl1, s1);",
          "                float* e = split + q;"]
    for r in range(rows):
        body = [f"var xe{r} = {LOAD}(e{off(r)}); var xo{r} = {LOAD}(e{off(r)} + odd);"]
        if split:
            body += [f"h{r}0 = {FMA}(xe{r}, wh0, h{r}0); l{r}0 = {FMA}(xo{r}, wl0, l{r}0);",
                     f"h{r}1 = {FMA}(xe{r}, wh1, h{r}1); l{r}1 = {FMA}(xo{r}, wl1, l{r}1);"]
        else:
            body += [f"a{r}0 = {FMA}(xo{r}, wl0, {FMA}(xe{r}, wh0, a{r}0));",
                     f"a{r}1 = {FMA}(xo{r}, wl1, {FMA}(xe{r}, wh1, a{r}1));"]
        L += guarded(body, r, "                ")
    L += ["            }", "        }"]
    if split:
        L += sums(rows, lambda r: f"Avx512F.Add(h{r}0, l{r}0)", lambda r: f"Avx512F.Add(h{r}1, l{r}1)")
    else:
        L += sums(rows, lambda r: f"a{r}0", lambda r: f"a{r}1")
    L.append("    }")
    return L


def int8(rows, split):
    """int8 tile: 16 codes widened per row and step; split = two 16-column steps into separate accumulators."""
    name = "Int8PairNarrow" if split else "Int8Pair"
    L = ["    /// <summary>",
         f"    /// Columns [c0, c0 + width) of two int8 weight rows (<paramref name=\"w0\"/>, <paramref name=\"w1\"/>) against up to {rows}",
         "    /// input rows (ld floats apart), each 16 codes widened once for all rows; the sums are unscaled. " +
         ("Two 16-column steps at a time into separate accumulators (one chain per row and weight row would wait on FMA latency); a chunk may end in one 16-column step."
          if split else "One 16-column step at a time."),
         "    /// </summary>",
         "    [MethodImpl(MethodImplOptions.AggressiveOptimization)]",
         f"    public static void {name}(int m, int ld, int c0, int width, float* rows, sbyte* w0, sbyte* w1, float* acc)",
         "    {"]
    if split:
        decl = ", ".join(f"{k}{r}{w} = default" for r in range(rows) for w in range(2) for k in "ab")
    else:
        decl = ", ".join(f"a{r}{w} = default" for r in range(rows) for w in range(2))
    L.append(f"        Vector512<float> {decl};")
    L += ["        int p = c0, end = c0 + width;",
          f"        for (; p + {32 if split else 16} <= end; p += {32 if split else 16})",
          "        {"]
    if split:
        L += ["            var u0 = Widen(w0 + p); var v0 = Widen(w0 + p + 16);",
              "            var u1 = Widen(w1 + p); var v1 = Widen(w1 + p + 16);"]
    else:
        L += ["            var u0 = Widen(w0 + p); var u1 = Widen(w1 + p);"]
    L.append("            float* e = rows + p;")
    for r in range(rows):
        if split:
            body = [f"var x{r} = {LOAD}(e{off(r)}); var z{r} = {LOAD}(e{off(r)} + 16);",
                    f"a{r}0 = {FMA}(x{r}, u0, a{r}0); b{r}0 = {FMA}(z{r}, v0, b{r}0);",
                    f"a{r}1 = {FMA}(x{r}, u1, a{r}1); b{r}1 = {FMA}(z{r}, v1, b{r}1);"]
        else:
            body = [f"var x{r} = {LOAD}(e{off(r)});",
                    f"a{r}0 = {FMA}(x{r}, u0, a{r}0); a{r}1 = {FMA}(x{r}, u1, a{r}1);"]
        L += guarded(body, r, "            ")
    L.append("        }")
    if split:
        L += ["        if (p < end)",
              "        {",
              "            // K is a multiple of 16: the last 16 columns of a chunk.",
              "            var u0 = Widen(w0 + p); var u1 = Widen(w1 + p);",
              "            float* e = rows + p;"]
        for r in range(rows):
            st = f"var x{r} = {LOAD}(e{off(r)}); a{r}0 = {FMA}(x{r}, u0, a{r}0); a{r}1 = {FMA}(x{r}, u1, a{r}1);"
            L.append("            " + (st if r == 0 else f"if (m > {r}) {{ {st} }}"))
        L.append("        }")
        L += sums(rows, lambda r: f"Avx512F.Add(a{r}0, b{r}0)", lambda r: f"Avx512F.Add(a{r}1, b{r}1)")
    else:
        L += sums(rows, lambda r: f"a{r}0", lambda r: f"a{r}1")
    L.append("    }")
    return L


def main():
    L = ["using System.Runtime.CompilerServices;",
         "using System.Runtime.Intrinsics;",
         "using System.Runtime.Intrinsics.X86;",
         "",
         "namespace Kiln.Quantization.Kernels;",
         "",
         "// Generated by tools/gen_quant_tiles.py; edit the script, not this file.",
         "",
         "/// <summary>",
         "/// The unrolled AVX-512 tiles of <see cref=\"FewRowsProduct\"/>: two weight rows against up to eight input rows, every",
         "/// accumulator in a register. acc[2r] and acc[2r + 1] receive input row r's sums with the two weight rows.",
         "/// </summary>",
         "internal static unsafe class QuantTiles",
         "{",
         "    /// <summary>16 int8 codes widened to float32.</summary>",
         "    [MethodImpl(MethodImplOptions.AggressiveInlining)]",
         "    static Vector512<float> Widen(sbyte* p) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(p)));",
         ""]
    for i, part in enumerate([nibble(8, False), nibble(4, True), int8(8, False), int8(4, True)]):
        if i:
            L.append("")
        L += part
    L.append("}")
    with open(OUT, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
