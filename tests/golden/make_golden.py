#!/usr/bin/env python3
"""Writes golden cases for Kiln's tensor core from PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_golden.py
Each case: inputs (base data + dtype + the view ops that make it non-contiguous), an op name with
arguments, and PyTorch's output. tests/Kiln.Tests/Golden runs every case through Kiln.
"""
import json, math, os, sys
import numpy as np
import torch

torch.manual_seed(1234)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tensor_ops.json")
DT = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16,
      "int64": torch.int64, "int32": torch.int32, "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool}
NAME = {v: k for k, v in DT.items()}
cases = []


def num(v, single=False):
    if single and isinstance(v, float) and math.isfinite(v):
        return float(repr(np.float32(v)))  # shortest text that reads back as the same float32
    if isinstance(v, bool):
        return 1 if v else 0
    if isinstance(v, float):
        if math.isnan(v): return "nan"
        if math.isinf(v): return "inf" if v > 0 else "-inf"
    return v


def enc(t):
    t = t.detach()
    flat = t.reshape(-1)
    if t.dtype in (torch.float16, torch.bfloat16):
        flat = flat.float()
    single = t.dtype in (torch.float32, torch.float16, torch.bfloat16)
    return {"shape": list(t.shape), "dtype": NAME[t.dtype], "data": [num(x, single) for x in flat.tolist()]}


def apply_view(t, view):
    for v in view or []:
        if v[0] == "t": t = t.transpose(-1, -2)
        elif v[0] == "slice":
            idx = [slice(None)] * t.dim(); idx[v[1]] = slice(v[2], v[3], v[4]); t = t[tuple(idx)]
        elif v[0] == "expand": t = t.expand(*v[1])
        elif v[0] == "permute": t = t.permute(*v[1])
        elif v[0] == "select": t = t.select(v[1], v[2])
    return t


def T(shape, dtype="float32", kind="randn", view=None, lo=-5, hi=5):
    d = DT[dtype]
    if kind == "randn": base = torch.randn(shape, dtype=torch.float64)
    elif kind == "pos": base = torch.rand(shape, dtype=torch.float64) * 3 + 0.1
    elif kind == "int": base = torch.randint(lo, hi, shape, dtype=torch.int64)
    elif kind == "bool": base = torch.rand(shape) > 0.5
    elif kind == "small": base = torch.rand(shape, dtype=torch.float64) * 0.6 - 0.3
    elif kind == "wide": base = torch.randn(shape, dtype=torch.float64) * 10
    elif kind == "unit": base = torch.rand(shape, dtype=torch.float64) * 1.8 - 0.9
    base = base.to(d)
    spec = enc(base)
    spec["view"] = view or []
    return spec, apply_view(base, view)


def decode(spec):
    """The base tensor a spec describes (before its views)."""
    d = DT[spec["dtype"]]
    vals = [float(v) if not isinstance(v, str) else float(v.replace("inf", "inf")) for v in spec["data"]]
    return torch.tensor(vals, dtype=torch.float64).reshape(spec["shape"]).to(d)


# Ops whose outputs carry no gradient (or whose golden cases would only test integer paths).
NO_GRAD = {"eq", "ne", "lt", "le", "gt", "ge", "argmax", "argmin", "all", "any", "arange", "arange_float", "linspace",
           "eye", "zeros", "ones", "full"}
SECOND_ORDER = {"exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "gelu", "silu", "softplus", "pow_scalar",
                "log_softmax", "softmax", "mul", "div", "matmul", "rsqrt", "log1p", "gelu_tanh"}


def gradients(op, specs, fn, second):
    """PyTorch's input gradients for random output seeds (and, for SECOND_ORDER ops, second-order ones)."""
    leaves, ins = [], []
    for spec in specs:
        base = decode(spec)
        if base.dtype in (torch.float32, torch.float64):
            base.requires_grad_(True)
            leaves.append(base)
        else:
            leaves.append(None)
        ins.append(apply_view(base, spec["view"]))
    if not any(l is not None for l in leaves):
        return None
    out = fn(*ins)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    keep = [o for o in outs if o.requires_grad]
    if not keep:
        return None
    seeds = [torch.randn(o.shape, dtype=o.dtype) for o in keep]
    wrt = [l for l in leaves if l is not None]
    grads = torch.autograd.grad(keep, wrt, seeds, allow_unused=True, create_graph=second)
    it = iter(grads)
    entry = {"seeds": [enc(s) for s in seeds],
             "grads": [None if l is None else (lambda g, l=l: enc(g) if g is not None else enc(torch.zeros_like(l)))(next(it)) for l in leaves]}
    if second:
        vs = [torch.randn(g.shape, dtype=g.dtype) if g is not None else None for g in grads]
        total = sum((g * v).sum() for g, v in zip(grads, vs) if g is not None and g.requires_grad)
        if isinstance(total, torch.Tensor):
            g2 = torch.autograd.grad(total, wrt, allow_unused=True)
            it2, itv = iter(g2), iter(vs)
            entry["vs"], entry["second"] = [], []
            for l in leaves:
                if l is None:
                    entry["vs"].append(None); entry["second"].append(None); continue
                v, g = next(itv), next(it2)
                entry["vs"].append(enc(v))
                entry["second"].append(enc(g if g is not None else torch.zeros_like(l)))
    return entry


def case(name, op, inputs, fn, args=None, tol=None):
    specs = [s for s, _ in inputs]
    ts = [t for _, t in inputs]
    try:
        out = fn(*ts)
    except RuntimeError as e:  # PyTorch 1.13 lacks some half-precision CPU kernels: no reference, no case
        print(f"skipped {name}: {e}", file=sys.stderr)
        return
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if tol is None:
        tol = "exact" if all(not o.dtype.is_floating_point for o in outs) else "elementwise"
    c = {"name": name, "op": op, "args": args or {}, "inputs": specs, "outputs": [enc(o) for o in outs], "tol": tol}
    if op not in NO_GRAD and all(o.dtype.is_floating_point for o in outs) and not any(o.dtype in (torch.float16, torch.bfloat16) for o in outs):
        g = gradients(op, specs, fn, second=op in SECOND_ORDER or name.split("_f32")[0] in SECOND_ORDER)
        if g is not None:
            c["grad"] = g
    cases.append(c)


# ---------------------------------------------------------------- elementwise binary
binary = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
          "maximum": torch.maximum, "minimum": torch.minimum}
shapes = [([3, 4], [3, 4]), ([2, 3, 4], [4]), ([4, 1], [1, 5]), ([2, 1, 3], [4, 1]), ([0, 3], [3]), ([], [2, 2])]
for op, fn in binary.items():
    for i, (sa, sb) in enumerate(shapes):
        case(f"{op}_bcast{i}", op, [T(sa), T(sb)], fn)
    case(f"{op}_transposed", op, [T([5, 4], view=[["t"]]), T([4, 5])], fn)
    case(f"{op}_sliced", op, [T([6, 8], view=[["slice", 1, 1, 8, 2]]), T([6, 4])], fn)
    case(f"{op}_expanded", op, [T([1, 4], view=[["expand", [3, 4]]]), T([3, 4], view=[["slice", 0, 0, 3, 1]])], fn)
    case(f"{op}_f64", op, [T([3, 5], "float64"), T([5], "float64")], fn)
    if op != "div":
        case(f"{op}_int64", op, [T([3, 4], "int64", "int"), T([4], "int64", "int")], fn)
        case(f"{op}_int32", op, [T([6], "int32", "int"), T([6], "int32", "int")], fn)
    case(f"{op}_promote_int_float", op, [T([3, 4], "int32", "int"), T([3, 4])], fn)
    case(f"{op}_f16", op, [T([8], "float16"), T([8], "float16")], fn, tol="float16")
    case(f"{op}_bf16", op, [T([8], "bfloat16"), T([8], "bfloat16")], fn, tol="bfloat16")
case("div_int_true", "div", [T([6], "int64", "int", lo=1, hi=9), T([6], "int64", "int", lo=1, hi=9)], torch.div)
case("add_int8_wrap", "add", [T([6], "int8", "int", lo=100, hi=127), T([6], "int8", "int", lo=100, hi=127)], torch.add)
case("add_uint8", "add", [T([6], "uint8", "int", lo=0, hi=200), T([6], "uint8", "int", lo=0, hi=200)], torch.add)
case("add_bool", "add", [T([6], "bool", "bool"), T([6], "bool", "bool")], torch.add)
case("mul_bool_int", "mul", [T([6], "bool", "bool"), T([6], "int64", "int")], torch.mul)
case("pow_tensor", "pow", [T([3, 4], kind="pos"), T([4])], torch.pow)
case("pow_int", "pow", [T([6], "int64", "int", lo=-3, hi=4), T([6], "int64", "int", lo=0, hi=4)], torch.pow)
for s in [2.0, 0.5, 3.0, -1.5]:
    case(f"pow_scalar_{s}", "pow_scalar", [T([3, 4], kind="pos")], lambda a, s=s: torch.pow(a, s), {"s": s})
case("pow_scalar_int", "pow_scalar", [T([5], "int64", "int", lo=-3, hi=4)], lambda a: torch.pow(a, 2), {"s": 2.0})
for op, fn in [("add_scalar", lambda a, s: a + s), ("sub_scalar", lambda a, s: a - s), ("mul_scalar", lambda a, s: a * s),
               ("div_scalar", lambda a, s: a / s), ("rsub_scalar", lambda a, s: s - a)]:
    case(f"{op}_float", op, [T([2, 3])], lambda a, fn=fn: fn(a, 2.5), {"s": 2.5})
    case(f"{op}_int_with_float", op, [T([5], "int32", "int")], lambda a, fn=fn: fn(a, 2.5), {"s": 2.5})
    case(f"{op}_int_with_int", op, [T([5], "int32", "int", lo=1, hi=9)], lambda a, fn=fn: fn(a, 3), {"s": 3, "int": True})
    case(f"{op}_f16", op, [T([5], "float16")], lambda a, fn=fn: fn(a, 2.5), {"s": 2.5}, tol="float16")
case("zero_dim_f64_promotes_int", "add", [T([3], "int32", "int"), T([], "float64")], torch.add)
case("zero_dim_f64_keeps_f32", "add", [T([3]), T([], "float64")], torch.add)

# ---------------------------------------------------------------- one tensor used several times (gradients accumulate)
case("mul_self", "mul_self", [T([3, 4])], lambda x: x * x)
case("composite_reuse", "composite_reuse", [T([3, 4], kind="pos")], lambda x: (x * x.exp() + x.log()).sum(1) / x.sum())
case("composite_mlp", "composite_mlp", [T([5, 6]), T([6, 4]), T([4])],
     lambda x, w, b: torch.log_softmax(torch.relu(x @ w + b), 1).mean())

# ---------------------------------------------------------------- comparisons and where
for op, fn in [("eq", torch.eq), ("ne", torch.ne), ("lt", torch.lt), ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge)]:
    case(f"{op}_float", op, [T([3, 4], "float32", "int", lo=-2, hi=2), T([4], "float32", "int", lo=-2, hi=2)], fn)
    case(f"{op}_int", op, [T([6], "int64", "int", lo=-2, hi=2), T([6], "int32", "int", lo=-2, hi=2)], fn)
    case(f"{op}_transposed", op, [T([4, 3], view=[["t"]]), T([3, 4])], fn)
case("where_bcast", "where", [T([3, 1], "bool", "bool"), T([3, 4]), T([4])], torch.where)
case("where_int", "where", [T([5], "bool", "bool"), T([5], "int64", "int"), T([5], "int64", "int")], torch.where)
case("where_promote", "where", [T([5], "bool", "bool"), T([5], "int32", "int"), T([5], "float64")], torch.where)
case("masked_fill", "masked_fill", [T([3, 4]), T([4], "bool", "bool")], lambda a, m: a.masked_fill(m, -1.5), {"value": -1.5})
case("masked_fill_int", "masked_fill", [T([3, 4], "int32", "int"), T([3, 4], "bool", "bool")], lambda a, m: a.masked_fill(m, 7), {"value": 7})
case("masked_fill_transposed", "masked_fill", [T([4, 3], view=[["t"]]), T([3, 1], "bool", "bool")], lambda a, m: a.masked_fill(m, 0.0), {"value": 0.0})

# ---------------------------------------------------------------- unary
unary = {"neg": torch.neg, "abs": torch.abs, "exp": torch.exp, "log": torch.log, "log1p": torch.log1p,
         "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh,
         "sigmoid": torch.sigmoid, "relu": torch.relu, "gelu": torch.nn.functional.gelu,
         "gelu_tanh": lambda x: torch.nn.functional.gelu(x, approximate="tanh"), "silu": torch.nn.functional.silu,
         "softplus": torch.nn.functional.softplus}
positive = {"log", "sqrt", "rsqrt"}
for op, fn in unary.items():
    kind = "pos" if op in positive else "randn"
    case(f"{op}_f32", op, [T([4, 37], kind=kind)], fn)          # 37: vector body plus a scalar tail
    case(f"{op}_f32_wide", op, [T([300], kind=kind)], fn)
    case(f"{op}_transposed", op, [T([5, 3], kind=kind, view=[["t"]])], fn)
    case(f"{op}_f64", op, [T([9], "float64", kind)], fn)
    case(f"{op}_empty", op, [T([0, 4], kind=kind)], fn)
    if op in ("neg", "abs", "relu"):
        case(f"{op}_int", op, [T([7], "int64", "int")], fn)
        case(f"{op}_int32", op, [T([7], "int32", "int")], fn)
    elif op not in ("gelu", "gelu_tanh", "silu", "softplus"):
        case(f"{op}_int_to_float", op, [T([7], "int64", "int", lo=1, hi=9)], fn)
    if op in ("exp", "tanh", "sigmoid", "relu", "neg"):
        case(f"{op}_f16", op, [T([9], "float16", kind)], fn, tol="float16")
        case(f"{op}_bf16", op, [T([9], "bfloat16", kind)], fn, tol="bfloat16")
case("tanh_small", "tanh", [T([64], kind="small")], torch.tanh)
case("softplus_beta", "softplus", [T([20], kind="wide")], lambda x: torch.nn.functional.softplus(x, beta=2, threshold=5), {"beta": 2, "threshold": 5})
case("clamp_both", "clamp", [T([3, 5])], lambda x: x.clamp(-0.5, 0.5), {"min": -0.5, "max": 0.5})
case("clamp_min", "clamp", [T([3, 5])], lambda x: x.clamp(min=0.1), {"min": 0.1})
case("clamp_max_int", "clamp", [T([7], "int64", "int")], lambda x: x.clamp(max=2), {"max": 2})
case("clamp_transposed", "clamp", [T([4, 3], view=[["t"]])], lambda x: x.clamp(-1, 1), {"min": -1, "max": 1})

# ---------------------------------------------------------------- casts
for src in ["float32", "float64", "int64", "int32", "bool", "float16", "bfloat16", "uint8", "int8"]:
    for dst in ["float32", "float64", "int64", "int32", "bool", "float16", "bfloat16", "uint8", "int8"]:
        if src == dst: continue
        kind = "bool" if src == "bool" else ("int" if DT[src] in (torch.int64, torch.int32, torch.int8) else "randn")
        spec = T([6], src, kind, lo=-4, hi=4) if src != "uint8" else T([6], src, "int", lo=0, hi=250)
        tol = "exact" if not DT[dst].is_floating_point else ("float16" if dst == "float16" else "bfloat16" if dst == "bfloat16" else "elementwise")
        if DT[src].is_floating_point and dst in ("uint8", "int8"):
            continue  # out-of-range float -> small int casts are undefined behaviour in C
        case(f"to_{src}_{dst}", "to", [spec], lambda x, dst=dst: x.to(DT[dst]), {"dtype": dst}, tol=tol)

# ---------------------------------------------------------------- reductions
red = "reduction"
for dims, keep in [(None, False), ([0], False), ([1], True), ([-1], False), ([0, 2], True), ([2, 0], False)]:
    d = {"dims": dims, "keepdim": keep}
    tag = f"{dims}_{keep}".replace(" ", "")
    f = (lambda fn: (lambda x: fn(x) if dims is None else fn(x, dims, keep)))
    case(f"sum_{tag}", "sum", [T([3, 4, 5])], f(lambda x, *a: x.sum(*a)), d, red)
    case(f"mean_{tag}", "mean", [T([3, 4, 5])], f(lambda x, *a: x.mean(*a)), d, red)
    case(f"sum_transposed_{tag}", "sum", [T([3, 5, 4], view=[["permute", [0, 2, 1]]])], f(lambda x, *a: x.sum(*a)), d, red)
    case(f"var_{tag}", "var", [T([3, 4, 5])], lambda x: x.var() if dims is None else x.var(dims, keepdim=keep), d, red)
    case(f"std_{tag}", "std", [T([3, 4, 5])], lambda x: x.std() if dims is None else x.std(dims, keepdim=keep), d, red)
    case(f"norm_{tag}", "norm", [T([3, 4, 5])], lambda x: x.norm() if dims is None else x.norm(dim=dims, keepdim=keep), dict(d, p=2), red)
    if dims is not None:
        case(f"logsumexp_{tag}", "logsumexp", [T([3, 4, 5])], lambda x: torch.logsumexp(x, dims, keep), d, red)
case("sum_int", "sum", [T([4, 5], "int32", "int")], lambda x: x.sum(), {"dims": None, "keepdim": False})
case("sum_int_dim", "sum", [T([4, 5], "int64", "int")], lambda x: x.sum(1), {"dims": [1], "keepdim": False})
case("sum_bool", "sum", [T([10], "bool", "bool")], lambda x: x.sum(), {"dims": None, "keepdim": False})
case("sum_f64", "sum", [T([7, 3], "float64")], lambda x: x.sum(0), {"dims": [0], "keepdim": False}, red)
case("sum_f16", "sum", [T([16], "float16")], lambda x: x.sum(), {"dims": None, "keepdim": False}, "float16")
case("sum_empty", "sum", [T([0, 3])], lambda x: x.sum(0), {"dims": [0], "keepdim": False}, red)
case("sum_long_row", "sum", [T([3000], kind="unit")], lambda x: x.sum(), {"dims": None, "keepdim": False}, red)
case("sum_scalar", "sum", [T([])], lambda x: x.sum(), {"dims": None, "keepdim": False}, red)
case("mean_expanded", "mean", [T([1, 5], view=[["expand", [4, 5]]])], lambda x: x.mean(0), {"dims": [0], "keepdim": False}, red)
case("var_correction0", "var", [T([6, 5])], lambda x: x.var(1, correction=0), {"dims": [1], "correction": 0, "keepdim": False}, red)
case("std_correction2", "std", [T([6, 5])], lambda x: x.std(0, correction=2), {"dims": [0], "correction": 2, "keepdim": False}, red)
for p in [1.0, 3.0, float("inf")]:
    case(f"norm_p{p}", "norm", [T([4, 6])], lambda x, p=p: x.norm(p=p, dim=1), {"dims": [1], "keepdim": False, "p": num(p)}, red)
for op in ["max", "min"]:
    case(f"{op}_all", f"{op}_all", [T([4, 6])], lambda x, op=op: getattr(x, op)(), {}, red)
    case(f"{op}_all_int", f"{op}_all", [T([9], "int32", "int")], lambda x, op=op: getattr(x, op)())
    for dim, keep in [(0, False), (1, True), (-1, False)]:
        case(f"{op}_dim{dim}_{keep}", f"{op}_dim", [T([4, 6], "float32", "int", lo=-3, hi=3)],
             lambda x, op=op, dim=dim, keep=keep: tuple(getattr(x, op)(dim, keep)), {"dim": dim, "keepdim": keep}, red)
    case(f"{op}_dim_transposed", f"{op}_dim", [T([6, 4], view=[["t"]])], lambda x, op=op: tuple(getattr(x, op)(1)), {"dim": 1, "keepdim": False}, red)
    case(f"{op}_dim_int64", f"{op}_dim", [T([3, 7], "int64", "int", lo=-100, hi=100)], lambda x, op=op: tuple(getattr(x, op)(1)), {"dim": 1, "keepdim": False})
    arg = "argmax" if op == "max" else "argmin"
    case(f"{arg}_all", f"{arg}", [T([4, 6])], lambda x, arg=arg: getattr(x, arg)(), {"dim": None})
    case(f"{arg}_dim", f"{arg}", [T([4, 6])], lambda x, arg=arg: getattr(x, arg)(0), {"dim": 0, "keepdim": False})
    case(f"{arg}_dim_keep", f"{arg}", [T([4, 6], "int32", "int")], lambda x, arg=arg: getattr(x, arg)(1, True), {"dim": 1, "keepdim": True})
case("prod_all", "prod", [T([2, 5], kind="unit")], lambda x: x.prod(), {"dim": None}, red)
case("prod_dim", "prod", [T([3, 4], kind="pos")], lambda x: x.prod(1), {"dim": 1, "keepdim": False}, red)
case("prod_int", "prod", [T([3, 4], "int32", "int", lo=-3, hi=4)], lambda x: x.prod(0), {"dim": 0, "keepdim": False})
for dim in [0, 1, -1]:
    case(f"softmax_{dim}", "softmax", [T([5, 37])], lambda x, dim=dim: x.softmax(dim), {"dim": dim}, red)
    case(f"log_softmax_{dim}", "log_softmax", [T([5, 37])], lambda x, dim=dim: x.log_softmax(dim), {"dim": dim}, red)
case("softmax_3d", "softmax", [T([2, 3, 4])], lambda x: x.softmax(1), {"dim": 1}, red)
case("softmax_large", "softmax", [T([3, 5])], lambda x: (x * 100).softmax(1), {"dim": 1, "scale": 100}, red)
case("softmax_transposed", "softmax", [T([7, 3], view=[["t"]])], lambda x: x.softmax(-1), {"dim": -1}, red)
case("softmax_f64", "softmax", [T([4, 6], "float64")], lambda x: x.softmax(-1), {"dim": -1}, red)
case("log_softmax_f64", "log_softmax", [T([4, 6], "float64")], lambda x: x.log_softmax(0), {"dim": 0}, red)
for dim in [0, 1]:
    case(f"cumsum_{dim}", "cumsum", [T([4, 5])], lambda x, dim=dim: x.cumsum(dim), {"dim": dim}, red)
case("cumsum_int", "cumsum", [T([6], "int32", "int")], lambda x: x.cumsum(0), {"dim": 0})
case("cumsum_transposed", "cumsum", [T([5, 4], view=[["t"]])], lambda x: x.cumsum(1), {"dim": 1}, red)
for op in ["all", "any"]:
    case(f"{op}_bool", op, [T([4, 5], "bool", "bool")], lambda x, op=op: getattr(x, op)(), {"dim": None})
    case(f"{op}_dim", op, [T([4, 5], "bool", "bool")], lambda x, op=op: getattr(x, op)(1), {"dim": 1, "keepdim": False})
    case(f"{op}_float", op, [T([3, 4], "float32", "int", lo=0, hi=2)], lambda x, op=op: getattr(x, op)(0), {"dim": 0, "keepdim": False})

# ---------------------------------------------------------------- linear algebra
mm = "matmul"
for i, (sa, sb) in enumerate([([5], [5]), ([3, 4], [4]), ([4], [4, 6]), ([3, 4], [4, 6]), ([2, 3, 4], [4, 5]),
                               ([2, 1, 3, 4], [3, 4, 2]), ([5], [2, 5, 3]), ([2, 3, 4], [4]), ([0, 4], [4, 3]), ([3, 0], [0, 2]),
                               ([17, 33], [33, 29]), ([13, 40], [40, 30])]):
    case(f"matmul_{i}", "matmul", [T(sa), T(sb)], torch.matmul, tol=mm)
case("matmul_transposed_a", "matmul", [T([6, 5], view=[["t"]]), T([6, 7])], torch.matmul, tol=mm)
case("matmul_transposed_b", "matmul", [T([5, 6]), T([7, 6], view=[["t"]])], torch.matmul, tol=mm)
case("matmul_sliced", "matmul", [T([5, 12], view=[["slice", 1, 0, 12, 2]]), T([6, 4])], torch.matmul, tol=mm)
case("matmul_expanded", "matmul", [T([1, 3, 4], view=[["expand", [5, 3, 4]]]), T([5, 4, 2])], torch.matmul, tol=mm)
case("matmul_f64", "matmul", [T([3, 4], "float64"), T([4, 5], "float64")], torch.matmul, tol=mm)
case("matmul_int", "matmul", [T([3, 4], "int64", "int"), T([4, 2], "int64", "int")], torch.matmul)
case("matmul_deep_k", "matmul", [T([13, 300]), T([300, 35])], torch.matmul, tol=mm)
case("bmm", "bmm", [T([3, 4, 5]), T([3, 5, 2])], torch.bmm, tol=mm)
case("bmm_transposed", "bmm", [T([3, 5, 4], view=[["t"]]), T([3, 5, 2])], torch.bmm, tol=mm)
case("outer", "outer", [T([4]), T([3])], torch.outer, tol=mm)
case("outer_int", "outer", [T([4], "int64", "int"), T([3], "int64", "int")], torch.outer)
case("addmm", "addmm", [T([3]), T([2, 4]), T([4, 3])], lambda i, a, b: torch.addmm(i, a, b), {"beta": 1, "alpha": 1}, mm)
case("addmm_scaled", "addmm", [T([2, 3]), T([2, 4]), T([4, 3])], lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=2), {"beta": 0.5, "alpha": 2}, mm)
case("addmm_beta0", "addmm", [T([2, 3]), T([2, 4]), T([3, 4], view=[["t"]])], lambda i, a, b: torch.addmm(i, a, b, beta=0), {"beta": 0, "alpha": 1}, mm)

# ---------------------------------------------------------------- views and layout
case("view", "view", [T([2, 6])], lambda x: x.view(3, 4), {"shape": [3, 4]})
case("view_infer", "view", [T([2, 6])], lambda x: x.view(-1, 3), {"shape": [-1, 3]})
case("view_split_dim_of_transposed", "view", [T([4, 6], view=[["t"]])], lambda x: x.view(2, 3, 4), {"shape": [2, 3, 4]})
case("reshape_transposed", "reshape", [T([3, 4], view=[["t"]])], lambda x: x.reshape(12), {"shape": [12]})
case("reshape_scalar", "reshape", [T([1])], lambda x: x.reshape(()), {"shape": []})
case("permute", "permute", [T([2, 3, 4])], lambda x: x.permute(2, 0, 1), {"dims": [2, 0, 1]})
case("transpose", "transpose", [T([2, 3, 4])], lambda x: x.transpose(0, 2), {"dim0": 0, "dim1": 2})
case("T", "T", [T([3, 4])], lambda x: x.T)
case("squeeze_all", "squeeze", [T([1, 3, 1, 2])], lambda x: x.squeeze(), {"dim": None})
case("squeeze_dim", "squeeze", [T([1, 3, 1, 2])], lambda x: x.squeeze(2), {"dim": 2})
case("squeeze_noop", "squeeze", [T([1, 3, 1, 2])], lambda x: x.squeeze(1), {"dim": 1})
case("unsqueeze", "unsqueeze", [T([3, 2])], lambda x: x.unsqueeze(1), {"dim": 1})
case("unsqueeze_neg", "unsqueeze", [T([3, 2])], lambda x: x.unsqueeze(-1), {"dim": -1})
case("expand", "expand", [T([3, 1])], lambda x: x.expand(2, 3, 4), {"shape": [2, 3, 4]})
case("expand_keep", "expand", [T([3, 1])], lambda x: x.expand(-1, 5), {"shape": [-1, 5]})
case("flatten", "flatten", [T([2, 3, 4])], lambda x: x.flatten(), {"start": 0, "end": -1})
case("flatten_mid", "flatten", [T([2, 3, 4, 5])], lambda x: x.flatten(1, 2), {"start": 1, "end": 2})
case("flatten_transposed", "flatten", [T([4, 3], view=[["t"]])], lambda x: x.flatten(), {"start": 0, "end": -1})
case("unflatten", "unflatten", [T([2, 12])], lambda x: x.unflatten(1, (3, 4)), {"dim": 1, "sizes": [3, 4]})
case("narrow", "narrow", [T([5, 6])], lambda x: x.narrow(1, 2, 3), {"dim": 1, "start": 2, "length": 3})
case("narrow_neg", "narrow", [T([5, 6])], lambda x: x.narrow(0, -2, 2), {"dim": 0, "start": -2, "length": 2})
case("select", "select", [T([3, 4, 5])], lambda x: x.select(1, 2), {"dim": 1, "index": 2})
case("select_neg", "select", [T([3, 4, 5])], lambda x: x.select(-1, -1), {"dim": -1, "index": -1})
case("index_range", "index", [T([4, 6])], lambda x: x[:, 1:3], {"idx": [["all"], ["range", 1, 3]]})
case("index_int_fromend", "index", [T([4, 6])], lambda x: x[-1], {"idx": [["int", -1]]})
case("index_step", "index", [T([8, 3])], lambda x: x[1:7:2], {"idx": [["slice", 1, 7, 2]]})
case("index_newaxis_ellipsis", "index", [T([2, 3, 4])], lambda x: x[..., None, 1], {"idx": [["ellipsis"], ["newaxis"], ["int", 1]]})
case("index_range_fromend", "index", [T([6])], lambda x: x[-3:], {"idx": [["range_fromend", 3]]})
case("contiguous", "contiguous", [T([3, 4], view=[["t"]])], lambda x: x.contiguous())
case("clone_expanded", "contiguous", [T([1, 4], view=[["expand", [3, 4]]])], lambda x: x.contiguous())
case("cat_0", "cat", [T([2, 3]), T([4, 3])], lambda a, b: torch.cat([a, b], 0), {"dim": 0})
case("cat_1", "cat", [T([2, 3]), T([2, 1]), T([2, 2])], lambda a, b, c: torch.cat([a, b, c], 1), {"dim": 1})
case("cat_transposed", "cat", [T([3, 2], view=[["t"]]), T([2, 3])], lambda a, b: torch.cat([a, b], -1), {"dim": -1})
case("cat_promote", "cat", [T([2], "int32", "int"), T([3])], lambda a, b: torch.cat([a, b]), {"dim": 0})
case("cat_empty", "cat", [T([0]), T([2, 3])], lambda a, b: torch.cat([a, b]), {"dim": 0})
case("stack_0", "stack", [T([2, 3]), T([2, 3])], lambda a, b: torch.stack([a, b]), {"dim": 0})
case("stack_last", "stack", [T([2, 3]), T([2, 3]), T([2, 3])], lambda a, b, c: torch.stack([a, b, c], -1), {"dim": -1})
case("split_size", "split", [T([7, 2])], lambda x: x.split(3), {"size": 3, "dim": 0})
case("split_sizes", "split", [T([2, 6])], lambda x: x.split([1, 2, 3], 1), {"sizes": [1, 2, 3], "dim": 1})
case("chunk", "chunk", [T([7, 2])], lambda x: x.chunk(3), {"chunks": 3, "dim": 0})
case("chunk_dim1", "chunk", [T([2, 6])], lambda x: x.chunk(4, 1), {"chunks": 4, "dim": 1})
def idx(vals, dtype="int64"):
    t = torch.tensor(vals, dtype=DT[dtype]); s = enc(t); s["view"] = []; return s, t
case("index_select_0", "index_select", [T([4, 3]), idx([3, 0, 3])], lambda x, i: x.index_select(0, i), {"dim": 0})
case("index_select_1", "index_select", [T([2, 5]), idx([4, 1], "int32")], lambda x, i: x.index_select(1, i), {"dim": 1})
case("index_select_transposed", "index_select", [T([5, 3], view=[["t"]]), idx([0, 4])], lambda x, i: x.index_select(1, i), {"dim": 1})
case("gather_1", "gather", [T([3, 4]), idx([[0, 3], [1, 1], [2, 0]])], lambda x, i: x.gather(1, i), {"dim": 1})
case("gather_0", "gather", [T([3, 4]), idx([[2, 0, 1, 1]])], lambda x, i: x.gather(0, i), {"dim": 0})
case("gather_transposed", "gather", [T([4, 3], view=[["t"]]), idx([[0], [3], [1]])], lambda x, i: x.gather(1, i), {"dim": 1})
case("scatter", "scatter", [T([3, 4]), idx([[0, 3], [1, 2], [2, 0]]), T([3, 2])], lambda x, i, s: x.scatter(1, i, s), {"dim": 1})
case("scatter_value", "scatter", [T([3, 4]), idx([[1], [0], [3]])], lambda x, i: x.scatter(1, i, 9.0), {"dim": 1, "value": 9.0})
case("scatter_add", "scatter_add", [T([3, 4]), idx([[0, 0, 1], [2, 2, 2], [3, 1, 3]]), T([3, 3])], lambda x, i, s: x.scatter_add(1, i, s), {"dim": 1})
case("scatter_add_int", "scatter_add", [T([5], "int64", "int"), idx([0, 0, 4]), T([3], "int64", "int")], lambda x, i, s: x.scatter_add(0, i, s), {"dim": 0})
case("repeat", "repeat", [T([2, 3])], lambda x: x.repeat(2, 2), {"repeats": [2, 2]})
case("repeat_more_dims", "repeat", [T([3])], lambda x: x.repeat(2, 1, 2), {"repeats": [2, 1, 2]})
for dg in [0, 1, -1]:
    case(f"tril_{dg}", "tril", [T([4, 5])], lambda x, dg=dg: x.tril(dg), {"diagonal": dg})
    case(f"triu_{dg}", "triu", [T([2, 4, 3])], lambda x, dg=dg: x.triu(dg), {"diagonal": dg})

# ---------------------------------------------------------------- creation
for (a, b, s) in [(0, 5, 1), (2, 11, 3), (5, 0, -2)]:
    case(f"arange_{a}_{b}_{s}", "arange", [], lambda a=a, b=b, s=s: torch.arange(a, b, s), {"start": a, "end": b, "step": s})
case("arange_float", "arange_float", [], lambda: torch.arange(0.0, 1.0, 0.3), {"start": 0.0, "end": 1.0, "step": 0.3})
for n in [1, 5, 7]:
    case(f"linspace_{n}", "linspace", [], lambda n=n: torch.linspace(-1, 2, n), {"start": -1, "end": 2, "steps": n})
case("eye", "eye", [], lambda: torch.eye(3, 4), {"n": 3, "m": 4})
case("zeros_int", "zeros", [], lambda: torch.zeros(2, 3, dtype=torch.int32), {"shape": [2, 3], "dtype": "int32"})
case("ones", "ones", [], lambda: torch.ones(4), {"shape": [4], "dtype": "float32"})
case("full", "full", [], lambda: torch.full((2, 2), 3.5, dtype=torch.float64), {"shape": [2, 2], "value": 3.5, "dtype": "float64"})


# ---------------------------------------------------------------- RMS norm (drawn after every earlier case, so those keep their values)
def rms_norm(x, w=None, eps=1e-5):
    # PyTorch's rms_norm (2.4+) and Hugging Face's LlamaRMSNorm: half-precision input is normalised in float32 and
    # rounded once, then multiplied by the weight (PyTorch 1.13 has no rms_norm to call).
    h = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    y = (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)
    return y if w is None else y * w


case("rms_norm", "rms_norm", [T([4, 24]), T([24])], rms_norm, {"shape": [24], "eps": 1e-5}, tol="reduction")
case("rms_norm_noweight_3d", "rms_norm", [T([2, 3, 40])], lambda x: rms_norm(x, None, 1e-6), {"shape": [40], "eps": 1e-6}, tol="reduction")
case("rms_norm_f64", "rms_norm", [T([3, 17], "float64"), T([17], "float64")], rms_norm, {"shape": [17], "eps": 1e-5}, tol="reduction")
case("rms_norm_bf16", "rms_norm", [T([6, 64], "bfloat16", "wide"), T([64], "bfloat16")], rms_norm, {"shape": [64], "eps": 1e-5}, tol="bfloat16")

# ---------------------------------------------------------------- printing
prints = [torch.tensor([[0.1, 0.2], [0.3, 0.4]]), torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1e-5, 1.0]),
          torch.tensor([1, 2, 3]), torch.tensor([True, False]), torch.tensor(1.5), torch.arange(2000.0).reshape(40, 50),
          torch.tensor([1.5, -2.25], dtype=torch.float64), torch.zeros(0, 3), torch.arange(24).reshape(2, 3, 4),
          torch.tensor([float("nan"), float("inf"), 1.25]), torch.linspace(0, 1, 30), torch.tensor([1, 2], dtype=torch.int32),
          torch.tensor([float("nan"), float("inf"), 1.0]), torch.tensor([float("nan"), float("-inf"), 5e-6, 1.0]), torch.tensor([float("nan"), 0.0])]
printing = [{"input": enc(t), "text": str(t).replace("torch.", "")} for t in prints]

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases, "printing": printing}, f, separators=(",", ":"))
n_grad = sum(1 for c in cases if "grad" in c)
n_second = sum(1 for c in cases if "grad" in c and "second" in c["grad"])
print(f"wrote {len(cases)} cases ({n_grad} with gradients, {n_second} with second-order ones) and {len(printing)} printing cases to {OUT}")
