#!/usr/bin/env python3
"""PyTorch's values for every one-input op of Kiln's op table (Kiln.Compiler.Ops.Pointwise.UnaryOps).

Writes tests/golden/data/pointwise.json; tests/Kiln.Tests/Golden/UnaryOpTableTests.cs reads it and fails for a table op
that has no entry here. Adding an op to the table means adding its line to OPS below (name -> torch function, domain).
Run with Debian's python3-torch: /usr/bin/python3 tests/golden/make_pointwise_golden.py
"""
import json, math, os
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "pointwise.json")

def normal_pdf(x):
    return torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

# Kiln's op name -> (the PyTorch function, low, high of the sampled inputs). 43 points: five 8-lane vectors and a tail.
OPS = {
    "neg": (torch.neg, -3, 3),
    "abs": (torch.abs, -3, 3),
    "sign": (torch.sign, -3, 3),
    "relu": (torch.relu, -3, 3),
    "exp": (torch.exp, -5, 5),
    "log": (torch.log, 0.1, 5),
    "log1p": (torch.log1p, -0.9, 5),
    "log2": (torch.log2, 0.1, 5),
    "log10": (torch.log10, 0.1, 5),
    "sqrt": (torch.sqrt, 0.1, 5),
    "rsqrt": (torch.rsqrt, 0.1, 5),
    "reciprocal": (torch.reciprocal, 0.2, 5),
    "sin": (torch.sin, -4, 4),
    "cos": (torch.cos, -4, 4),
    "tan": (torch.tan, -1.4, 1.4),
    "asin": (torch.asin, -0.95, 0.95),
    "acos": (torch.acos, -0.95, 0.95),
    "atan": (torch.atan, -5, 5),
    "tanh": (torch.tanh, -4, 4),
    "sigmoid": (torch.sigmoid, -8, 8),
    "silu": (F.silu, -6, 6),
    "gelu": (F.gelu, -5, 5),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), -5, 5),
    "mish": (F.mish, -6, 6),
    "hardsigmoid": (F.hardsigmoid, -5, 5),
    "hardswish": (F.hardswish, -5, 5),
    "softsign": (F.softsign, -5, 5),
    "logsigmoid": (F.logsigmoid, -8, 8),
    "selu": (F.selu, -3, 3),
    "erf": (torch.erf, -3, 3),
    "normal_pdf": (normal_pdf, -4, 4),
    "normal_cdf": (torch.special.ndtr, -4, 4),
    "floor": (torch.floor, -3.3, 3.3),
    "ceil": (torch.ceil, -3.3, 3.3),
    "round": (torch.round, -3.3, 3.3),
    "trunc": (torch.trunc, -3.3, 3.3),
    "expm1": (torch.expm1, -3, 3),
    "exp2": (torch.exp2, -6, 6),
    "sinh": (torch.sinh, -4, 4),
    "cosh": (torch.cosh, -4, 4),
    "asinh": (torch.asinh, -6, 6),
    "acosh": (torch.acosh, 1.05, 8),
    "atanh": (torch.atanh, -0.95, 0.95),
    "erfc": (torch.erfc, -3, 4),
    "logit": (torch.logit, 0.05, 0.95),
}

# Inputs that replace the first points of an op's sample: near 0 (expm1, sinh, asinh, atanh), near 1 (acosh), near 1/2
# (logit), far in erfc's tail, large enough for asinh's square to overflow a float.
EDGES = {
    "expm1": [1e-6, -3e-5, 1e-3, -0.02],
    "sinh": [1e-6, -3e-5, 1e-3, -0.02],
    "asinh": [1e-6, -3e-5, 1e-3, -0.02, 3e19, -1e25],
    "atanh": [1e-6, -3e-5, 1e-3, -0.02],
    "acosh": [1.001, 1.01, 1e25],
    "erfc": [5.0, 7.0, 9.0],
    "logit": [0.5, 0.5001, 0.499],
}

def main():
    g = torch.Generator().manual_seed(0)
    ops = {}
    for name, (fn, lo, hi) in OPS.items():
        x = torch.linspace(lo, hi, 43, dtype=torch.float32)
        if name == "round":
            x[:6] = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])  # ties go to even
        if name in EDGES:
            x[:len(EDGES[name])] = torch.tensor(EDGES[name])  # where a naive formula cancels or underflows
        y = fn(x)
        w = torch.randn(43, generator=g, dtype=torch.float64)
        x64 = x.double().requires_grad_(True)
        (fn(x64) * w).sum().backward()
        ops[name] = {
            "x": x.tolist(),
            "y": y.tolist(),
            "w": w.tolist(),
            "grad": x64.grad.tolist(),
        }
    with open(OUT, "w") as f:
        json.dump({"torch": torch.__version__, "ops": ops}, f, indent=None, separators=(",", ":"))
        f.write("\n")

if __name__ == "__main__":
    main()
