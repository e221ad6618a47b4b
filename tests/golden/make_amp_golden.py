#!/usr/bin/env python3
"""Writes golden cases for Kiln's autocast from PyTorch's CPU autocast (bfloat16).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_amp_golden.py
A linear layer, its softmax / log-softmax and a cross-entropy loss under torch.autocast("cpu", dtype=torch.bfloat16):
the result dtypes, values, and the float32 parameters' gradients. tests/Kiln.Tests/Gpu/AutocastTests.cs compares.
"""
import json, os
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(2024)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "amp.json")


def enc(t):
    t = t.detach()
    name = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16", torch.int64: "int64"}[t.dtype]
    vals = t.float().reshape(-1).tolist() if t.dtype != torch.int64 else t.reshape(-1).tolist()
    if t.dtype != torch.int64:
        vals = [float(repr(np.float32(v))) for v in vals]
    return {"shape": list(t.shape), "dtype": name, "data": vals}


x = torch.randn(6, 10)
w = torch.randn(7, 10, requires_grad=True)
b = torch.randn(7, requires_grad=True)
target = torch.tensor([0, 3, 6, 2, 2, 5])
with torch.autocast("cpu", dtype=torch.bfloat16):
    y = F.linear(x, w, b)
    sm = torch.softmax(y, 1)
    lsm = torch.log_softmax(y, 1)
    loss = F.cross_entropy(y, target)
loss.backward()
case = {"x": enc(x), "w": enc(w), "b": enc(b), "target": enc(target), "y": enc(y), "softmax": enc(sm),
        "log_softmax": enc(lsm), "loss": enc(loss), "w_grad": enc(w.grad), "b_grad": enc(b.grad)}
with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "autocast_cpu_bf16": case}, f)
print("wrote", OUT)
