#!/usr/bin/env python3
"""A SentencePiece precompiled charsmap (the normalizer T5, ALBERT, XLM-R and mBART files carry), built by SentencePiece
itself from a small rule table, for the Precompiled normalizer's tests.

Run with Debian's python3-sentencepiece:  /usr/bin/python3 tests/golden/make_spm_charsmap.py
Writes tests/golden/data/spm_charsmap.json; tests/Kiln.Tests/Transformers/PrecompiledNormalizerTests.cs reads it.

The real nmt_nfkc charsmap is 237 KB; this one keeps its kinds of rule on a few hundred code points so the fixture stays
small: NFKC of Latin-1, fullwidth forms, ligatures, circled and super/subscript digits, Roman numerals (one code point to
several), base letter + combining mark sequences that NFKC composes (several code points to one: these make the
grapheme-level lookup matter), and nmt's extras (tab, no-break and zero-width spaces, soft hyphen).
"""
import base64, json, os, tempfile, unicodedata
import sentencepiece as spm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "spm_charsmap.json")


def rules():
    table = {}
    ranges = [(0x00A0, 0x00FF), (0xFF01, 0xFF5E), (0xFB00, 0xFB06), (0x2460, 0x2473), (0x2070, 0x209C), (0x2160, 0x217F),
              (0x3000, 0x3000), (0x2100, 0x2122)]
    for lo, hi in ranges:
        for cp in range(lo, hi + 1):
            c = chr(cp)
            n = unicodedata.normalize("NFKC", c)
            if n != c and n:
                table[(cp,)] = tuple(ord(x) for x in n)
    for base in "aeiouAEIOUcnyCNY":
        for mark in (0x0300, 0x0301, 0x0302, 0x0303, 0x0308, 0x030A, 0x0327):
            seq = base + chr(mark)
            n = unicodedata.normalize("NFKC", seq)
            if len(n) == 1:
                table[(ord(base), mark)] = (ord(n),)
    table[(0x0009,)] = (0x0020,)
    table[(0x00A0,)] = (0x0020,)
    table[(0x200B,)] = (0x0020,)
    table[(0x00AD,)] = (0x0020,)
    return table


def field(buf, want):
    """The first length-delimited field number `want` of a protobuf message (ModelProto.normalizer_spec = 3,
    NormalizerSpec.precompiled_charsmap = 2): enough of the wire format to read them without the protobuf package."""
    i = 0
    def varint():
        nonlocal i
        v = s = 0
        while True:
            b = buf[i]; i += 1; v |= (b & 0x7F) << s; s += 7
            if b < 0x80: return v
    while i < len(buf):
        key = varint(); fn, wt = key >> 3, key & 7
        if wt == 0: varint()
        elif wt == 1: i += 8
        elif wt == 5: i += 4
        elif wt == 2:
            n = varint()
            if fn == want: return buf[i:i + n]
            i += n
        else: raise ValueError(f"wire type {wt}")
    raise KeyError(want)


def main():
    table = rules()
    with tempfile.TemporaryDirectory() as d:
        tsv = os.path.join(d, "rules.tsv")
        with open(tsv, "w", encoding="utf-8") as f:
            for src, dst in sorted(table.items()):
                f.write(" ".join(f"{c:X}" for c in src) + "\t" + " ".join(f"{c:X}" for c in dst) + "\n")
        text = os.path.join(d, "text.txt")
        with open(text, "w", encoding="utf-8") as f:
            for i in range(200):
                f.write(f"the quick brown fox {i} jumps over the lazy dog, café ﬁne Ⅻ ①\n")
        prefix = os.path.join(d, "m")
        spm.SentencePieceTrainer.train(input=text, model_prefix=prefix, vocab_size=60, model_type="unigram",
                                       normalization_rule_tsv=tsv, minloglevel=2)
        model = open(prefix + ".model", "rb").read()
    charsmap = field(field(model, 3), 2)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"sentencepiece": spm.__version__, "rules": len(table),
                   "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")}, f, indent=1)
    print(f"wrote {OUT}: {len(table)} rules, charsmap {len(charsmap)} bytes")


if __name__ == "__main__":
    main()
