#!/usr/bin/env python3
"""PyTorch's results for the first-hour tensor surface of issue 15 (rounding, special functions, modulo and bitwise
operators, value tests, sorting and selection, advanced indexing, roll/tile/diag, lerp/addcmul), with the gradients of
the differentiable ones.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_course_golden.py
Writes tests/golden/data/course.json; tests/Kiln.Tests/Golden/CourseGoldenTests.cs reads it. Each case: named inputs
(float64 values, a dtype), PyTorch's outputs, and for float cases the gradient of sum(output * weights) per input.
"""
import json, math, os
import torch
import numpy as np

torch.manual_seed(15)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "course.json")
NAME = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.int32: "int32", torch.bool: "bool",
        torch.uint8: "uint8", torch.int8: "int8"}


def num(v):
    if isinstance(v, bool): return 1 if v else 0
    if isinstance(v, float):
        if math.isnan(v): return "nan"
        if math.isinf(v): return "inf" if v > 0 else "-inf"
    return v


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": NAME[t.dtype], "data": [num(x) for x in t.reshape(-1).tolist()]}


cases = []


def case(name, inputs, fn, grad=True):
    """inputs: dict name -> tensor. fn(**inputs) -> tensor or tuple of tensors."""
    leaves = {k: v.clone().requires_grad_(grad and v.is_floating_point()) for k, v in inputs.items()}
    out = fn(**leaves)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    c = {"name": name, "inputs": {k: enc(v) for k, v in inputs.items()}, "outputs": [enc(o) for o in outs]}
    first = outs[0]
    if grad and first.is_floating_point() and first.requires_grad:
        w = torch.randn(first.shape, dtype=first.dtype)
        (first * w).sum().backward()
        c["weights"] = enc(w)
        c["grads"] = {k: enc(v.grad) if v.grad is not None else enc(torch.zeros_like(v)) for k, v in leaves.items() if v.is_floating_point()}
    cases.append(c)


x = torch.randn(3, 5) * 3
x[0, 0] = 2.5; x[0, 1] = -2.5; x[0, 2] = 0.5; x[0, 3] = -0.0; x[0, 4] = 1.5
unit = torch.rand(4, 5) * 1.8 - 0.9
pos = torch.rand(4, 5) * 5 + 0.05
for op in ["floor", "ceil", "round", "trunc", "sign"]:
    case(op, {"x": x}, lambda x, op=op: getattr(torch, op)(x))
case("sign_nan", {"x": torch.tensor([float("nan"), -2.0, 0.0, 3.0])}, lambda x: torch.sign(x), grad=False)
case("floor_int", {"x": torch.tensor([-3, 0, 7])}, lambda x: torch.floor(x), grad=False)
case("sign_int", {"x": torch.tensor([-3, 0, 7])}, lambda x: torch.sign(x), grad=False)
case("erf", {"x": x}, lambda x: torch.erf(x))
case("erf_small", {"x": torch.tensor([1e-8, -3e-5, 1e-3, 2.4, 2.6, -5.0])}, lambda x: torch.erf(x))
for op, inp in [("log2", pos), ("log10", pos), ("tan", unit), ("asin", unit), ("acos", unit), ("atan", x)]:
    case(op, {"x": inp}, lambda x, op=op: getattr(torch, op)(x))
case("atan2", {"y": torch.randn(3, 4), "x": torch.randn(4)}, lambda y, x: torch.atan2(y, x))
case("remainder", {"a": torch.randn(3, 4) * 5, "b": torch.tensor([2.0, -2.0, 0.75, -3.5])}, lambda a, b: torch.remainder(a, b))
case("remainder_int", {"a": torch.tensor([-7, -1, 0, 5, 7, 9]), "b": torch.tensor([3, 3, 3, -3, -3, 4])}, lambda a, b: a % b, grad=False)
case("remainder_scalar", {"a": torch.tensor([-7.5, -1.0, 0.0, 5.25])}, lambda a: a % 2.0)
case("bitwise_int", {"a": torch.tensor([12, -7, 0, 255]), "b": torch.tensor([10, 3, -1, 15])},
     lambda a, b: (a & b, a | b, a ^ b, ~a), grad=False)
case("bitwise_bool", {"a": torch.tensor([True, True, False, False]), "b": torch.tensor([True, False, True, False])},
     lambda a, b: (a & b, a | b, a ^ b, ~a), grad=False)
case("bitwise_uint8", {"a": torch.tensor([5, 200, 0], dtype=torch.uint8)}, lambda a: ~a, grad=False)
special = torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), -2.0, 0.0])
case("isnan_isinf_isfinite", {"x": special}, lambda x: (torch.isnan(x), torch.isinf(x), torch.isfinite(x)), grad=False)
a = torch.tensor([1.0, 1.0, float("nan"), float("inf"), 1e-9, 100.0])
b = torch.tensor([1.0 + 1e-6, 1.1, float("nan"), float("inf"), 0.0, 100.0011])
case("isclose", {"a": a, "b": b}, lambda a, b: (torch.isclose(a, b), torch.isclose(a, b, equal_nan=True), torch.isclose(a, b, rtol=1e-3, atol=0.0)), grad=False)
case("lerp", {"s": torch.randn(3, 4), "e": torch.randn(3, 4), "w": torch.rand(4)}, lambda s, e, w: torch.lerp(s, e, w))
case("lerp_scalar", {"s": torch.randn(5), "e": torch.randn(5)}, lambda s, e: torch.lerp(s, e, 0.3))
case("addcmul_addcdiv", {"t": torch.randn(3, 4), "a": torch.randn(3, 4), "b": torch.rand(4) + 0.5},
     lambda t, a, b: torch.addcmul(t, a, b, value=0.5) + torch.addcdiv(t, a, b, value=-2.0))
# sorting and selection (distinct values: no ties)
s = torch.randperm(24).double().reshape(4, 6) - 10.0
case("sort_last", {"x": s}, lambda x: torch.sort(x))
case("sort_dim0_desc", {"x": s}, lambda x: torch.sort(x, dim=0, descending=True))
case("sort_nan", {"x": torch.tensor([3.0, float("nan"), -1.0, 2.0])}, lambda x: torch.sort(x), grad=False)
case("sort_ties_stable", {"x": torch.tensor([2.0, 1.0, 2.0, 1.0, 0.0])}, lambda x: torch.sort(x, stable=True), grad=False)
case("argsort", {"x": s}, lambda x: torch.argsort(x, dim=1, descending=True), grad=False)
case("topk", {"x": s}, lambda x: torch.topk(x, 3))
case("topk_smallest_dim0", {"x": s}, lambda x: torch.topk(x, 2, dim=0, largest=False))
case("median_all", {"x": s}, lambda x: torch.median(x))
case("median_dim", {"x": s}, lambda x: torch.median(x, dim=1))
case("median_even_keepdim", {"x": s}, lambda x: torch.median(x, dim=0, keepdim=True))
case("quantile_all", {"x": s}, lambda x: torch.quantile(x, 0.3))
case("quantile_dim", {"x": s}, lambda x: torch.quantile(x, 0.75, dim=1))
case("quantile_keepdim", {"x": s}, lambda x: torch.quantile(x, 0.5, dim=0, keepdim=True))
case("unique", {"x": torch.tensor([[3, 1, 2], [2, 3, 3]])}, lambda x: torch.unique(x, sorted=True, return_inverse=True, return_counts=True), grad=False)
case("unique_float", {"x": torch.tensor([1.5, -1.0, 1.5, 0.0, -1.0])}, lambda x: torch.unique(x, return_inverse=True, return_counts=True), grad=False)
case("nonzero", {"x": torch.tensor([[0, 1, 0], [2, 0, 3]])}, lambda x: torch.nonzero(x), grad=False)
m = torch.randn(3, 4)
mask = m > 0.2
case("masked_select", {"x": m, "mask": mask}, lambda x, mask: x[mask])
case("masked_select_broadcast", {"x": torch.randn(3, 4), "mask": torch.tensor([True, False, True, True])}, lambda x, mask: torch.masked_select(x, mask))
case("index_tensor", {"x": torch.randn(5, 3), "i": torch.tensor([[4, 0], [-1, 2]])}, lambda x, i: x[i])
case("index_tensor_dim1", {"x": torch.randn(3, 5), "i": torch.tensor([3, 0, 3])}, lambda x, i: x[:, i])
case("roll", {"x": torch.randn(3, 4)}, lambda x: (torch.roll(x, 1, 1), torch.roll(x, -5, 0), torch.roll(x, 3)))
case("tile", {"x": torch.randn(2, 3)}, lambda x: (torch.tile(x, (2,)), torch.tile(x, (2, 1, 2))))
case("movedim_unbind", {"x": torch.randn(2, 3, 4)}, lambda x: (torch.movedim(x, 0, 2),) + torch.unbind(x, 1))
case("diag_1d", {"x": torch.randn(3)}, lambda x: (torch.diag(x), torch.diag(x, 1), torch.diag(x, -2)))
case("diag_2d", {"x": torch.randn(3, 4)}, lambda x: (torch.diag(x), torch.diag(x, 1), torch.diag(x, -1)))
case("trace", {"x": torch.randn(4, 3)}, lambda x: torch.trace(x))
with torch.random.fork_rng():  # its own seed, so the cases after it keep their values
    torch.manual_seed(17)
    case("flip", {"x": torch.randn(2, 3, 4)}, lambda x: (torch.flip(x, [1]), torch.flip(x, [0, 2]), torch.flip(x, [-1, 0, 1]), torch.flip(x, [])))
    case("flip_scalar", {"x": torch.tensor(1.5)}, lambda x: (torch.flip(x, [0]), torch.flip(x, [-1])))
    # Vector norms over rows holding zeros: a zero row and a zero inside a row, where p < 2 puts 0·inf in a naive rule.
    rows = torch.randn(3, 4); rows[1] = 0; rows[2, 1] = 0
    for p_name, p in [("2", 2.0), ("1", 1.0), ("3", 3.0), ("0_5", 0.5), ("1_5", 1.5), ("inf", float("inf"))]:
        case("norm_zero_rows_p" + p_name, {"x": rows}, lambda x, p=p: torch.norm(x, p, dim=1))

# Functions PyTorch code reaches for beyond the layers: amax/amin (ties share the gradient), logaddexp, xlogy, grids,
# stacking, rotation, differences, take_along_dim, cdist (both of PyTorch's p=2 forms), counting and searching.
with torch.random.fork_rng():
    torch.manual_seed(31)
    tied = torch.tensor([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, 4.0, 2.0, 4.0]])
    case("amax_ties", {"x": tied}, lambda x: (torch.amax(x, 1), torch.amax(x, (0, 1)), torch.amax(x, 0, keepdim=True)))
    case("amax_all", {"x": tied}, lambda x: torch.amax(x, (0, 1)))
    case("amin_ties_keepdim", {"x": -tied}, lambda x: (torch.amin(x, 1, keepdim=True), torch.amin(x, 0)))
    case("logaddexp", {"a": torch.tensor([0.0, 1.0, -3.0, 100.0, -100.0, 2.0]), "b": torch.tensor([0.0, -2.0, -3.5, 99.0, -101.0, 2.0])},
         lambda a, b: torch.logaddexp(a, b))
    case("xlogy", {"x": torch.tensor([0.0, 0.0, 2.0, 1.5, -1.0]), "y": torch.tensor([0.5, 3.0, 3.0, 0.5, 2.0])}, lambda x, y: torch.xlogy(x, y))
    # Values only where y is 0 or NaN: PyTorch's gradient of y at x = y = 0 is NaN, Kiln's 0.
    case("xlogy_zero", {"x": torch.tensor([0.0, 0.0, 2.0, 0.0]), "y": torch.tensor([0.0, float("nan"), 0.0, 3.0])}, lambda x, y: torch.xlogy(x, y), grad=False)
    case("meshgrid_ij", {"a": torch.randn(3), "b": torch.randn(2)}, lambda a, b: torch.meshgrid(a, b, indexing="ij"))
    case("meshgrid_xy", {"a": torch.randn(3), "b": torch.randn(2), "c": torch.randn(4)}, lambda a, b, c: torch.meshgrid(a, b, c, indexing="xy"))
    case("hstack", {"a": torch.randn(2, 3), "b": torch.randn(2, 1)}, lambda a, b: torch.hstack([a, b]))
    case("hstack_vectors", {"a": torch.randn(3), "b": torch.randn(2)}, lambda a, b: torch.hstack([a, b]))
    case("vstack", {"a": torch.randn(3), "b": torch.randn(2, 3)}, lambda a, b: torch.vstack([a, b]))
    case("rot90", {"x": torch.randn(2, 3, 4)}, lambda x: (torch.rot90(x), torch.rot90(x, 2), torch.rot90(x, 3, [1, 2]), torch.rot90(x, -1, [0, 2])))
    case("diff", {"x": torch.randn(3, 5), "p": torch.randn(3, 1)}, lambda x, p: (torch.diff(x, n=2, prepend=p), torch.diff(x, dim=0)))
    case("take_along_dim", {"x": torch.randn(3, 4), "i": torch.tensor([[0, 3], [2, 2], [1, 0]])}, lambda x, i: torch.take_along_dim(x, i, 1))
    case("take_along_dim_broadcast", {"x": torch.randn(3, 4), "i": torch.tensor([[0, 2, 1]])}, lambda x, i: torch.take_along_dim(x, i.T, 0))
    case("take_along_dim_flat", {"x": torch.randn(3, 4), "i": torch.tensor([11, 0, 5])}, lambda x, i: torch.take_along_dim(x, i))
    case("cdist", {"a": torch.randn(4, 3), "b": torch.randn(5, 3)}, lambda a, b: torch.cdist(a, b))
    case("cdist_p1_batched", {"a": torch.randn(2, 4, 3), "b": torch.randn(2, 5, 3)}, lambda a, b: torch.cdist(a, b, p=1.0))
    case("cdist_products", {"a": torch.randn(30, 6), "b": torch.randn(7, 6)}, lambda a, b: torch.cdist(a, b))
    case("bincount", {"x": torch.tensor([0, 1, 1, 3, 1]), "w": torch.tensor([0.5, 1.0, 2.0, 0.25, 1.0])},
         lambda x, w: (torch.bincount(x), torch.bincount(x, minlength=6), torch.bincount(x, weights=w)), grad=False)
    case("count_nonzero", {"x": torch.tensor([[0, 1, 2], [0, 0, 3]])}, lambda x: (torch.count_nonzero(x), torch.count_nonzero(x, 0)), grad=False)
    case("searchsorted", {"s": torch.tensor([1.0, 3.0, 5.0, 7.0]), "v": torch.tensor([[3.0, 6.0], [9.0, 0.0]])},
         lambda s, v: (torch.searchsorted(s, v), torch.searchsorted(s, v, right=True), torch.bucketize(v, s), torch.bucketize(v, s, right=True)), grad=False)
    case("searchsorted_rows", {"s": torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]), "v": torch.tensor([[2.0, 0.0], [5.0, 6.0]])},
         lambda s, v: torch.searchsorted(s, v), grad=False)

# The rest of the tensor surface ported code reaches for: index updates, repeat_interleave, running extrema and
# logcumsumexp, NaN-aware reductions, windows and diagonals, the named products, covariance, k-th values, histograms and
# the pointwise functions composed of others.
with torch.random.fork_rng():
    torch.manual_seed(47)
    case("index_add", {"x": torch.randn(4, 3), "i": torch.tensor([0, 2, 0]), "s": torch.randn(3, 3)},
         lambda x, i, s: (x.index_add(0, i, s), x.index_add(0, i, s, alpha=-0.5)))
    case("index_add_dim1", {"x": torch.randn(2, 5), "i": torch.tensor([4, 1]), "s": torch.randn(2, 2)}, lambda x, i, s: x.index_add(1, i, s))
    case("index_copy", {"x": torch.randn(4, 3), "i": torch.tensor([3, 1]), "s": torch.randn(2, 3)}, lambda x, i, s: x.index_copy(0, i, s))
    case("index_fill", {"x": torch.randn(3, 4), "i": torch.tensor([0, 2])}, lambda x, i: (x.index_fill(1, i, -1.5), x.index_fill(0, i, 2.0)))
    case("repeat_interleave", {"x": torch.randn(2, 3)},
         lambda x: (x.repeat_interleave(2), x.repeat_interleave(3, dim=1), x.repeat_interleave(2, dim=0)))
    case("repeat_interleave_counts", {"x": torch.randn(3, 2), "r": torch.tensor([1, 0, 3])},
         lambda x, r: (x.repeat_interleave(r, dim=0), x.repeat_interleave(torch.tensor([2]), dim=1)))
    tied_run = torch.tensor([[1.0, 3.0, 2.0, 3.0, 5.0, -1.0, 5.0], [0.5, float("nan"), 2.0, float("nan"), 9.0, 1.0, 0.0]])
    case("cummax", {"x": torch.randn(3, 6)}, lambda x: (torch.cummax(x, 1).values, torch.cummax(x, 1).indices, torch.cummax(x, 0).values))
    case("cummin", {"x": torch.randn(3, 6)}, lambda x: (torch.cummin(x, 1).values, torch.cummin(x, 1).indices, torch.cummin(x, 0).indices))
    case("cummax_ties_nan", {"x": tied_run}, lambda x: (torch.cummax(x, 1).values, torch.cummax(x, 1).indices,
                                                        torch.cummin(x, 1).values, torch.cummin(x, 1).indices), grad=False)
    case("cummax_int", {"x": torch.tensor([[3, 1, 4, 1, 5, 9, 2, 6]])}, lambda x: (torch.cummax(x, 1).values, torch.cummax(x, 1).indices), grad=False)
    case("logcumsumexp", {"x": torch.randn(3, 9) * 3}, lambda x: (torch.logcumsumexp(x, 1), torch.logcumsumexp(x, 0)))
    case("logcumsumexp_wide_range", {"x": torch.tensor([-1000.0, 0.0, 1000.0, float("-inf"), 999.0])}, lambda x: torch.logcumsumexp(x, 0))
    nans = torch.randn(3, 4); nans[0, 1] = float("nan"); nans[2] = float("nan"); nans[1, 3] = float("inf")
    case("nan_to_num", {"x": nans}, lambda x: (torch.nan_to_num(x), torch.nan_to_num(x, nan=2.0, posinf=5.0, neginf=-5.0)))
    nan_only = torch.randn(3, 4); nan_only[0, 1] = float("nan"); nan_only[2] = float("nan")
    case("nansum", {"x": nan_only}, lambda x: (torch.nansum(x), torch.nansum(x, 1), torch.nansum(x, 0, keepdim=True)))
    case("nanmean", {"x": nan_only}, lambda x: (torch.nanmean(x, 0), torch.nanmean(x), torch.nanmean(x, 1)))
    case("unfold_windows", {"x": torch.randn(2, 7)}, lambda x: (x.unfold(1, 3, 2), x.unfold(0, 2, 1), x.unfold(1, 7, 1)))
    case("unfold_middle", {"x": torch.randn(2, 6, 3)}, lambda x: x.unfold(1, 2, 3))
    case("diagonal", {"x": torch.randn(3, 4, 5)},
         lambda x: (torch.diagonal(x, 0, 1, 2), torch.diagonal(x, 1, 0, 2), torch.diagonal(x, -2, 2, 1), torch.diagonal(x, 0, 0, 1)))
    case("diag_embed", {"x": torch.randn(2, 3)}, lambda x: (torch.diag_embed(x), torch.diag_embed(x, 1), torch.diag_embed(x, -1, 0, 2)))
    case("tensor_split", {"x": torch.randn(7, 2)},
         lambda x: torch.tensor_split(x, 3) + torch.tensor_split(x, [2, 5]) + torch.tensor_split(x, [4, 2, 9]))
    case("dot_mv_mm", {"a": torch.randn(3), "m": torch.randn(2, 3), "n": torch.randn(3, 4)},
         lambda a, m, n: (m.mm(n), torch.dot(a, a), m.mv(a)))
    case("inner", {"a": torch.randn(2, 3), "b": torch.randn(4, 3)}, lambda a, b: (torch.inner(a, b), torch.inner(a[0], b[1])))
    case("kron", {"a": torch.randn(2, 3), "b": torch.randn(2, 2)}, lambda a, b: (torch.kron(a, b), torch.kron(a[0], b)))
    case("baddbmm", {"x": torch.randn(2, 3, 4), "b1": torch.randn(2, 3, 5), "b2": torch.randn(2, 5, 4)},
         lambda x, b1, b2: (torch.baddbmm(x, b1, b2, beta=0.5, alpha=2.0), torch.baddbmm(x, b1, b2)))
    case("addmv_addr", {"x": torch.randn(3), "m": torch.randn(3, 4), "v": torch.randn(4)},
         lambda x, m, v: (torch.addmv(x, m, v, beta=2.0, alpha=-1.0), torch.addr(m, x, v, beta=0.5)))
    case("addmv_beta_zero", {"x": torch.tensor([float("nan"), 1.0]), "m": torch.randn(2, 2), "v": torch.randn(2)},
         lambda x, m, v: torch.addmv(x, m, v, beta=0.0))
    case("cross", {"a": torch.randn(4, 3), "b": torch.randn(4, 3)}, lambda a, b: (torch.linalg.cross(a, b), torch.cross(a.T, b.T, dim=0)))
    case("matrix_power", {"a": torch.randn(2, 3, 3, dtype=torch.float64) * 0.5 + torch.eye(3, dtype=torch.float64)},
         lambda a: (torch.linalg.matrix_power(a, 5), torch.linalg.matrix_power(a, 0), torch.linalg.matrix_power(a, 1), torch.linalg.matrix_power(a, -2)))
    case("cov", {"x": torch.randn(3, 6)}, lambda x: (torch.cov(x), torch.cov(x, correction=0), torch.cov(x[0])))
    case("cov_weights", {"x": torch.randn(2, 5), "fw": torch.tensor([1, 2, 1, 3, 1]), "aw": torch.rand(5) + 0.1},
         lambda x, fw, aw: (torch.cov(x, fweights=fw, aweights=aw), torch.cov(x, aweights=aw), torch.cov(x, fweights=fw, correction=0)))
    case("corrcoef", {"x": torch.randn(3, 8)}, lambda x: torch.corrcoef(x))
    case("kthvalue", {"x": torch.randn(3, 5)}, lambda x: (torch.kthvalue(x, 2, 1).values, torch.kthvalue(x, 2, 1).indices,
                                                          torch.kthvalue(x, 3, 0, keepdim=True).values, torch.kthvalue(x, 3, 0, keepdim=True).indices))
    case("unique_consecutive", {"x": torch.tensor([[1, 1, 2], [2, 3, 3], [1, 1, 1]])},
         lambda x: torch.unique_consecutive(x, return_inverse=True, return_counts=True), grad=False)
    case("histc", {"x": torch.randn(40)}, lambda x: (torch.histc(x, 7), torch.histc(x, 5, -1.0, 1.0), torch.histc(x, 4, 0.0, 0.0)), grad=False)
    case("histc_edges", {"x": torch.tensor([0.0, 0.25, 0.5, 1.0, 1.5, -0.1, 0.3])}, lambda x: torch.histc(x, 4, 0.0, 1.0), grad=False)
    signed = torch.tensor([5.5, -5.5, 5.5, -5.5, 7.0, -0.0, 3.0, -2.25])
    divisor = torch.tensor([2.0, 2.0, -2.0, -2.0, 3.5, 1.0, 0.7, 0.5])
    case("fmod", {"a": signed, "b": divisor}, lambda a, b: (torch.fmod(a, b), torch.fmod(a, 1.5)))
    case("fmod_int", {"a": torch.tensor([7, -7, 7, -7, 0]), "b": torch.tensor([3, 3, -3, -3, 2])}, lambda a, b: torch.fmod(a, b), grad=False)
    case("frac", {"x": torch.tensor([2.75, -2.75, 0.5, -0.0, 3.0, 1e-3])}, lambda x: torch.frac(x))
    case("hypot", {"a": torch.randn(6), "b": torch.randn(6)}, lambda a, b: torch.hypot(a, b))
    case("copysign", {"a": torch.tensor([1.5, -2.0, 3.0, -0.5, 2.0]), "b": torch.tensor([-1.0, 2.0, -0.0, 0.0, -3.0])},
         lambda a, b: (torch.copysign(a, b), torch.copysign(a, -1.0)))
    case("signbit", {"x": torch.tensor([1.5, -2.0, -0.0, 0.0, float("-inf")])}, lambda x: torch.signbit(x), grad=False)
    # No input near 0 but 0: both PyTorch's derivative formula and the composed one cancel there in float32.
    case("sinc", {"x": torch.tensor([0.0, 0.5, -1.25, 2.0, 0.1, -3.7])}, lambda x: torch.sinc(x))
    case("deg2rad_rad2deg", {"x": torch.randn(5) * 100}, lambda x: (torch.deg2rad(x), torch.rad2deg(x)))
    case("deg2rad_int", {"x": torch.tensor([0, 90, 180, -45])}, lambda x: (torch.deg2rad(x), torch.rad2deg(x)), grad=False)
    case("heaviside", {"x": torch.tensor([-1.5, 0.0, 2.0, 0.0]), "v": torch.tensor([0.5, 0.25, 0.5, 1.0])}, lambda x, v: torch.heaviside(x, v), grad=False)
    case("float_power", {"x": torch.rand(5) + 0.5, "y": torch.randn(5)}, lambda x, y: (torch.float_power(x, y), torch.float_power(x, 3)))
    case("floor_divide", {"a": signed, "b": divisor}, lambda a, b: torch.floor_divide(a, b), grad=False)
    case("floor_divide_int", {"a": torch.tensor([7, -7, 7, -7, 0]), "b": torch.tensor([3, 3, -3, -3, 2])},
         lambda a, b: (torch.floor_divide(a, b), torch.floor_divide(a, 2)), grad=False)
    case("logaddexp2", {"a": torch.randn(6) * 10, "b": torch.randn(6) * 10}, lambda a, b: torch.logaddexp2(a, b))
    case("logical_ops", {"a": torch.tensor([0.0, 1.5, 0.0, -2.0]), "b": torch.tensor([0, 0, 3, 1])},
         lambda a, b: (torch.logical_and(a, b), torch.logical_or(a, b), torch.logical_xor(a, b)), grad=False)
    case("isposinf_isneginf", {"x": torch.tensor([1.0, float("inf"), float("-inf"), float("nan")])}, lambda x: (torch.isposinf(x), torch.isneginf(x)), grad=False)
    case("aliases", {"x": torch.randn(2, 3, 4)},
         lambda x: (x.swapaxes(0, 2), x.moveaxis(0, 1), torch.broadcast_to(x[:, :1], (2, 3, 4)), x.clamp_min(0.1), x.clamp_max(-0.2), x.reshape_as(x.swapaxes(0, 2)).clip(-0.5, 0.5)))
    case("dist_msort", {"a": torch.randn(3, 4), "b": torch.randn(3, 4)}, lambda a, b: (torch.dist(a, b), torch.dist(a, b, 1), torch.msort(a)))

# scatter_reduce: every reduction with and without self, ties for amax/amin, zeros for prod, an index smaller than src.
with torch.random.fork_rng():
    torch.manual_seed(79)
    sr_index = torch.tensor([[0, 1, 0, 2], [2, 2, 1, 0]])
    for reduce in ["sum", "prod", "mean", "amax", "amin"]:
        for include in [True, False]:
            case(f"scatter_reduce_{reduce}" + ("" if include else "_exclude_self"), {"x": torch.randn(3, 4), "i": sr_index, "s": torch.randn(2, 5)},
                 lambda x, i, s, reduce=reduce, include=include: x.scatter_reduce(0, i, s[:, :4], reduce, include_self=include))
    tied_src = torch.tensor([[1.0, 2.0, 2.0], [2.0, 0.5, 2.0]])
    case("scatter_reduce_amax_ties", {"x": torch.tensor([[2.0, 0.0, 1.0], [-1.0, 2.0, 3.0]]), "i": torch.tensor([[0, 1, 1], [0, 1, 1]]), "s": tied_src},
         lambda x, i, s: x.scatter_reduce(1, i, s, "amax"))
    zeros_src = torch.tensor([[0.0, 2.0, 3.0], [0.5, 0.0, 0.0]])
    case("scatter_reduce_prod_zeros", {"x": torch.tensor([[2.0, 0.0, 1.5], [-1.0, 2.0, 3.0]]), "i": torch.tensor([[0, 0, 1], [2, 2, 2]]), "s": zeros_src},
         lambda x, i, s: x.scatter_reduce(1, i, s, "prod"))
    case("scatter_reduce_int_mean", {"x": torch.tensor([5, 7, -3]), "i": torch.tensor([0, 0, 2, 2]), "s": torch.tensor([2, 3, 4, -6])},
         lambda x, i, s: (x.scatter_reduce(0, i, s, "mean"), x.scatter_reduce(0, i, s, "amax", include_self=False)), grad=False)

# Symmetric factorizations, log-determinants and the pseudo-inverse (float64). Inputs are built inside the call (X·Xᵀ + I,
# X + Xᵀ) so the gradient of X is the symmetric one; eigenvectors enter only sign-free (V∘V scaled by the eigenvalues).
with torch.random.fork_rng():
    torch.manual_seed(83)
    eye3 = torch.eye(3, dtype=torch.float64)
    case("linalg_cholesky", {"x": torch.randn(2, 3, 3, dtype=torch.float64)}, lambda x: torch.linalg.cholesky(x @ x.transpose(-2, -1) + eye3))
    def eigh_signfree(x):
        L, V = torch.linalg.eigh(x + x.transpose(-2, -1))
        return (V * V * L.unsqueeze(-2), L)
    case("linalg_eigh", {"x": torch.randn(2, 4, 4, dtype=torch.float64)}, eigh_signfree)
    case("linalg_eigvalsh", {"x": torch.randn(3, 3, dtype=torch.float64)}, lambda x: torch.linalg.eigvalsh(x + x.T))
    case("linalg_slogdet", {"x": torch.randn(2, 3, 3, dtype=torch.float64)}, lambda x: torch.linalg.slogdet(x)[::-1])
    case("linalg_logdet", {"x": torch.randn(3, 3, dtype=torch.float64)}, lambda x: torch.logdet(x @ x.T + eye3))
    case("linalg_pinv_tall", {"x": torch.randn(5, 3, dtype=torch.float64)}, lambda x: torch.linalg.pinv(x))
    case("linalg_pinv_wide_batch", {"x": torch.randn(2, 2, 4, dtype=torch.float64)}, lambda x: torch.linalg.pinv(x))
    case("linalg_pinv_rank_deficient", {"x": torch.tensor([[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]], dtype=torch.float64)}, lambda x: torch.linalg.pinv(x), grad=False)

# torch.distributions: log densities, entropies, the normal's cdf and closed-form KL divergences, with the parameters'
# gradients (and the value's, for continuous families).
import torch.distributions as D
with torch.random.fork_rng():
    torch.manual_seed(89)
    loc, scale = torch.randn(3), torch.rand(3) + 0.3
    case("dist_normal", {"loc": loc, "scale": scale, "x": torch.randn(2, 3)},
         lambda loc, scale, x: (D.Normal(loc, scale).log_prob(x), D.Normal(loc, scale).entropy(), D.Normal(loc, scale).cdf(x)))
    case("dist_uniform", {"low": torch.tensor([0.0, -1.0, 2.0]), "high": torch.tensor([1.0, 3.0, 2.5]), "x": torch.tensor([[0.5, 2.9, 2.1], [0.25, -0.5, 2.4]])},
         lambda low, high, x: (D.Uniform(low, high).log_prob(x), D.Uniform(low, high).entropy()))
    case("dist_uniform_outside", {"low": torch.tensor([0.0, -1.0]), "high": torch.tensor([1.0, 3.0]), "x": torch.tensor([1.5, -1.0])},
         lambda low, high, x: D.Uniform(low, high, validate_args=False).log_prob(x), grad=False)
    bern_x = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    case("dist_bernoulli_probs", {"p": torch.rand(4) * 0.9 + 0.05, "x": bern_x},
         lambda p, x: (D.Bernoulli(probs=p).log_prob(x), D.Bernoulli(probs=p).entropy()))
    case("dist_bernoulli_logits", {"l": torch.randn(4) * 2, "x": bern_x},
         lambda l, x: (D.Bernoulli(logits=l).log_prob(x), D.Bernoulli(logits=l).entropy(), D.Bernoulli(logits=l).probs))
    cat_values = torch.tensor([[0, 3, 1], [2, 2, 4]])
    case("dist_categorical_logits", {"l": torch.randn(3, 5), "v": cat_values},
         lambda l, v: (D.Categorical(logits=l).log_prob(v), D.Categorical(logits=l).entropy(), D.Categorical(logits=l).probs))
    zero_probs = torch.rand(2, 4) + 0.1; zero_probs[0, 2] = 0
    case("dist_categorical_probs", {"p": zero_probs, "v": torch.tensor([1, 3])},
         lambda p, v: (D.Categorical(probs=p).log_prob(v), D.Categorical(probs=p).entropy()))
    tril = torch.tensor([[1.2, 0.0, 0.0], [0.3, 0.8, 0.0], [-0.4, 0.5, 1.5]])
    case("dist_mvn_scale_tril", {"loc": torch.randn(2, 3), "L": tril, "x": torch.randn(4, 2, 3)},
         lambda loc, L, x: (D.MultivariateNormal(loc, scale_tril=L).log_prob(x), D.MultivariateNormal(loc, scale_tril=L).entropy()))
    case("dist_mvn_covariance", {"loc": torch.randn(3), "c": torch.randn(3, 3), "x": torch.randn(5, 3)},
         lambda loc, c, x: (D.MultivariateNormal(loc, covariance_matrix=c @ c.T + torch.eye(3)).log_prob(x),
                            D.MultivariateNormal(loc, covariance_matrix=c @ c.T + torch.eye(3)).variance))
    case("kl_normal", {"l1": torch.randn(3), "s1": torch.rand(3) + 0.3, "l2": torch.randn(3), "s2": torch.rand(3) + 0.3},
         lambda l1, s1, l2, s2: D.kl_divergence(D.Normal(l1, s1), D.Normal(l2, s2)))
    case("kl_bernoulli", {"p": torch.tensor([0.2, 0.0, 0.7, 1.0]), "q": torch.tensor([0.5, 0.3, 0.0, 0.9])},
         lambda p, q: D.kl_divergence(D.Bernoulli(probs=p), D.Bernoulli(probs=q)), grad=False)
    case("kl_bernoulli_grad", {"lp": torch.randn(4), "lq": torch.randn(4)},
         lambda lp, lq: D.kl_divergence(D.Bernoulli(logits=lp), D.Bernoulli(logits=lq)))
    case("kl_categorical", {"a": torch.randn(2, 4), "b": torch.randn(2, 4)},
         lambda a, b: D.kl_divergence(D.Categorical(logits=a), D.Categorical(logits=b)))
    case("kl_uniform", {"l1": torch.tensor([0.0, 0.0]), "h1": torch.tensor([1.0, 2.0]), "l2": torch.tensor([-1.0, 0.5]), "h2": torch.tensor([2.0, 3.0])},
         lambda l1, h1, l2, h2: D.kl_divergence(D.Uniform(l1, h1), D.Uniform(l2, h2)), grad=False)
    case("kl_mvn", {"m1": torch.randn(2, 3), "c1": torch.randn(3, 3), "m2": torch.randn(3), "L2": tril},
         lambda m1, c1, m2, L2: D.kl_divergence(D.MultivariateNormal(m1, covariance_matrix=c1 @ c1.T + torch.eye(3)), D.MultivariateNormal(m2, scale_tril=L2)))

# torch.special's lgamma, digamma and erfinv (reflection below 1/2, poles, ±1), and the families built on them.
with torch.random.fork_rng():
    torch.manual_seed(97)
    gamma_points = torch.tensor([0.1, 0.5, 0.9, 1.0, 1.5, 2.0, 3.7, 10.0, 55.5, -0.3, -1.7, -2.5])
    case("lgamma", {"x": gamma_points}, lambda x: torch.lgamma(x))
    case("lgamma_float64", {"x": gamma_points.double() * 1.3}, lambda x: torch.lgamma(x))
    case("lgamma_poles", {"x": torch.tensor([0.0, -1.0, -2.0, 1.0, 2.0])}, lambda x: torch.lgamma(x), grad=False)
    case("digamma", {"x": gamma_points}, lambda x: torch.digamma(x))
    case("digamma_float64", {"x": gamma_points.double() * 0.7 + 0.05}, lambda x: torch.digamma(x))
    case("digamma_poles", {"x": torch.tensor([0.0, -1.0, -3.0, 1.0])}, lambda x: torch.digamma(x), grad=False)
    case("erfinv", {"x": torch.tensor([-0.999, -0.7, -0.2, 0.0, 1e-4, 0.3, 0.9, 0.99999])}, lambda x: torch.erfinv(x))
    case("erfinv_float64", {"x": torch.tensor([-0.95, -0.5, 0.001, 0.25, 0.75, 0.999999], dtype=torch.float64)}, lambda x: torch.erfinv(x))
    case("erfinv_ends", {"x": torch.tensor([1.0, -1.0, 1.5, 0.0])}, lambda x: torch.erfinv(x), grad=False)
    rates = torch.rand(3) * 2 + 0.2
    case("dist_exponential", {"r": rates, "x": torch.rand(2, 3) * 3}, lambda r, x: (D.Exponential(r).log_prob(x), D.Exponential(r).entropy()))
    case("dist_laplace", {"loc": torch.randn(3), "s": rates, "x": torch.randn(2, 3)},
         lambda loc, s, x: (D.Laplace(loc, s).log_prob(x), D.Laplace(loc, s).entropy()))
    case("dist_gamma", {"a": torch.rand(3) * 3 + 0.2, "b": rates, "x": torch.rand(2, 3) * 3 + 0.05},
         lambda a, b, x: (D.Gamma(a, b).log_prob(x), D.Gamma(a, b).entropy()))
    case("dist_beta", {"a": torch.rand(3) * 3 + 0.2, "b": torch.rand(3) * 2 + 0.5, "x": torch.rand(2, 3) * 0.9 + 0.05},
         lambda a, b, x: (D.Beta(a, b).log_prob(x), D.Beta(a, b).entropy()))
    case("dist_poisson", {"r": rates * 3, "k": torch.tensor([[0.0, 1.0, 4.0], [2.0, 7.0, 0.0]])}, lambda r, k: D.Poisson(r).log_prob(k))
    case("kl_exponential_laplace_poisson", {"r1": rates, "r2": torch.rand(3) + 0.5, "m1": torch.randn(3), "m2": torch.randn(3)},
         lambda r1, r2, m1, m2: D.kl_divergence(D.Exponential(r1), D.Exponential(r2)) + D.kl_divergence(D.Laplace(m1, r1), D.Laplace(m2, r2))
                                + D.kl_divergence(D.Poisson(r1), D.Poisson(r2)))
    case("kl_gamma_beta", {"a1": torch.rand(3) * 2 + 0.3, "b1": rates, "a2": torch.rand(3) * 2 + 0.3, "b2": torch.rand(3) + 0.5},
         lambda a1, b1, a2, b2: (D.kl_divergence(D.Gamma(a1, b1), D.Gamma(a2, b2)), D.kl_divergence(D.Beta(a1, b1), D.Beta(a2, b2))))

# loss modules and layers of the first hour
import torch.nn as nn
logits = torch.randn(4, 5); classes = torch.tensor([1, 0, 4, 2]); cw = torch.rand(5) + 0.5
case("cross_entropy_loss", {"x": logits, "y": classes, "w": cw}, lambda x, y, w: nn.CrossEntropyLoss(weight=w.detach(), label_smoothing=0.1)(x, y))
case("nll_loss_sum", {"x": torch.randn(4, 5).log_softmax(1), "y": classes}, lambda x, y: nn.NLLLoss(reduction="sum")(x, y))
reg_in, reg_t = torch.randn(3, 4), torch.randn(3, 4)
case("mse_loss", {"x": reg_in, "t": reg_t}, lambda x, t: nn.MSELoss()(x, t))
case("l1_loss", {"x": reg_in, "t": reg_t}, lambda x, t: nn.L1Loss(reduction="sum")(x, t))
case("smooth_l1_loss", {"x": reg_in, "t": reg_t}, lambda x, t: nn.SmoothL1Loss(beta=0.5)(x, t))
case("huber_loss", {"x": reg_in, "t": reg_t}, lambda x, t: nn.HuberLoss(delta=0.7)(x, t))
case("bce_loss", {"x": torch.rand(6) * 0.9 + 0.05, "t": torch.rand(6)}, lambda x, t: nn.BCELoss()(x, t))
case("bce_with_logits_loss", {"x": torch.randn(2, 3), "t": torch.rand(2, 3), "pw": torch.rand(3) + 0.5},
     lambda x, t, pw: nn.BCEWithLogitsLoss(pos_weight=pw.detach())(x, t))
case("kl_div_loss", {"x": torch.randn(3, 4).log_softmax(1), "t": torch.randn(3, 4).softmax(1)}, lambda x, t: nn.KLDivLoss(reduction="sum")(x, t))
seq = torch.randn(2, 3, 9)
case("max_pool1d", {"x": seq}, lambda x: nn.MaxPool1d(3, stride=2, padding=1)(x))
case("avg_pool1d", {"x": seq}, lambda x: nn.AvgPool1d(4, stride=2, padding=1, count_include_pad=False)(x))
case("adaptive_max_pool2d", {"x": torch.randn(2, 3, 5, 7)}, lambda x: nn.AdaptiveMaxPool2d((3, 2))(x))
case("instance_norm2d", {"x": torch.randn(2, 3, 4, 5) * 2 + 1}, lambda x: nn.InstanceNorm2d(3)(x))
case("instance_norm1d_affine", {"x": torch.randn(2, 3, 6)}, lambda x: nn.InstanceNorm1d(3, affine=True)(x))
case("upsample_nearest", {"x": torch.randn(1, 2, 3, 4)}, lambda x: nn.Upsample(scale_factor=2, mode="nearest")(x))
case("upsample_bilinear", {"x": torch.randn(1, 2, 3, 4)}, lambda x: nn.Upsample(size=(5, 7), mode="bilinear", align_corners=False)(x))

# einsum and cumprod
case("einsum_matmul", {"a": torch.randn(3, 4), "b": torch.randn(4, 5)}, lambda a, b: torch.einsum("ij,jk->ik", a, b))
case("einsum_attention", {"q": torch.randn(2, 3, 4, 5), "k": torch.randn(2, 3, 6, 5)}, lambda q, k: torch.einsum("bhqd,bhkd->bhqk", q, k))
case("einsum_implicit_outer", {"a": torch.randn(3), "b": torch.randn(4)}, lambda a, b: torch.einsum("i,j", a, b))
case("einsum_dot_and_sum", {"a": torch.randn(5), "b": torch.randn(5)}, lambda a, b: torch.einsum("i,i->", a, b))
case("einsum_transpose_sum", {"a": torch.randn(2, 3, 4)}, lambda a: torch.einsum("ijk->kj", a))
case("einsum_three", {"a": torch.randn(2, 3), "b": torch.randn(3, 4), "c": torch.randn(4, 2)}, lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c))
case("einsum_batch_broadcast", {"a": torch.randn(1, 3, 4), "b": torch.randn(5, 4, 2)}, lambda a, b: torch.einsum("bij,bjk->bik", a, b))
cp = torch.randn(3, 5); cp[1, 2] = 0.0; cp[2, 0] = 0.0
case("cumprod", {"x": cp}, lambda x: (torch.cumprod(x, 1), torch.cumprod(x, 0)))
case("cumprod_int", {"x": torch.tensor([[1, 2, 3], [4, 0, 6]], dtype=torch.int32)}, lambda x: torch.cumprod(x, 1), grad=False)

# linalg (float64: the factorizations are compared at 1e-10)
sq = torch.randn(3, 3, dtype=torch.float64) + 3 * torch.eye(3, dtype=torch.float64)
case("linalg_inv", {"a": sq}, lambda a: torch.linalg.inv(a))
case("linalg_inv_batch", {"a": torch.randn(2, 4, 4, dtype=torch.float64) + 4 * torch.eye(4, dtype=torch.float64)}, lambda a: torch.linalg.inv(a))
case("linalg_det", {"a": torch.randn(2, 3, 3, dtype=torch.float64)}, lambda a: torch.linalg.det(a))
case("linalg_solve", {"a": sq, "b": torch.randn(3, 2, dtype=torch.float64)}, lambda a, b: torch.linalg.solve(a, b))
case("linalg_solve_vector", {"a": sq, "b": torch.randn(3, dtype=torch.float64)}, lambda a, b: torch.linalg.solve(a, b))
case("linalg_qr", {"a": torch.randn(5, 3, dtype=torch.float64)}, lambda a: torch.linalg.qr(a), grad=False)
case("linalg_qr_wide", {"a": torch.randn(2, 4, dtype=torch.float64)}, lambda a: torch.linalg.qr(a), grad=False)
case("linalg_svdvals", {"a": torch.randn(4, 3, dtype=torch.float64)}, lambda a: torch.linalg.svd(a, full_matrices=False)[1], grad=False)
mat = torch.randn(3, 4, dtype=torch.float64)
case("linalg_norm_matrix", {"a": mat}, lambda a: (torch.linalg.norm(a), torch.linalg.norm(a, "fro"), torch.linalg.norm(a, float("inf")),
                                                  torch.linalg.norm(a, 1), torch.linalg.norm(a, -1), torch.linalg.norm(a, 2), torch.linalg.norm(a, "nuc")), grad=False)
case("linalg_norm_fro_grad", {"a": mat}, lambda a: torch.linalg.norm(a, "fro"))
case("linalg_norm_inf_grad", {"a": mat}, lambda a: torch.linalg.norm(a, float("inf")))
case("linalg_norm_vector", {"a": torch.randn(6, dtype=torch.float64)}, lambda a: torch.linalg.norm(a, 3))

# Arrangements, integration, splitting floats and renormalising: tensordot, block_diag, cartesian_prod, combinations,
# tril/triu_indices, vander, logspace, std_mean/var_mean, trapezoid, ldexp/frexp, renorm.
with torch.random.fork_rng():
    torch.manual_seed(98)
    case("tensordot", {"a": torch.randn(2, 3, 4), "b": torch.randn(3, 4, 5)},
         lambda a, b: (torch.tensordot(a, b, dims=2), torch.tensordot(a, b, dims=0).sum(-1), torch.tensordot(a, b.permute(1, 2, 0), dims=([1, 2], [2, 0]))))
    case("block_diag", {"a": torch.randn(2, 3), "b": torch.randn(3), "c": torch.tensor(1.5), "d": torch.randn(1, 2)},
         lambda a, b, c, d: torch.block_diag(a, b, c, d))
    case("cartesian_prod", {"a": torch.randn(3), "b": torch.randn(2), "c": torch.randn(2)},
         lambda a, b, c: (torch.cartesian_prod(a, b, c), torch.cartesian_prod(a, b)))
    case("combinations", {"x": torch.randn(4)},
         lambda x: (torch.combinations(x), torch.combinations(x, r=3), torch.combinations(x, with_replacement=True)))
    case("tril_triu_indices", {}, lambda: (torch.tril_indices(3, 4), torch.tril_indices(4, 3, offset=-1), torch.triu_indices(3, 4, 1),
                                           torch.triu_indices(4, 4, -2)), grad=False)
    vx = torch.tensor([1.5, -0.5, 0.0, 2.0])
    # (PyTorch 1.13's vander backward trips over its own in-place cumprod: values here, gradients by finite differences.)
    case("vander", {"x": vx}, lambda x: (torch.vander(x), torch.vander(x, N=3, increasing=True), torch.vander(x, N=1)), grad=False)
    case("vander_int", {"x": torch.tensor([1, 2, 3])}, lambda x: torch.vander(x, N=4), grad=False)
    case("logspace", {}, lambda: (torch.logspace(-2, 3, 6), torch.logspace(0, 4, 5, base=2), torch.logspace(1, 1.5, 4, dtype=torch.float64)), grad=False)
    sm = torch.randn(3, 5)
    case("std_mean", {"x": sm}, lambda x: (*torch.std_mean(x, 1), *torch.std_mean(x, 0, keepdim=True, correction=0)))
    case("var_mean", {"x": sm}, lambda x: (*torch.var_mean(x, [0, 1]), *torch.var_mean(x, 1, unbiased=False)))
    ty = torch.randn(3, 6)
    tx = torch.sort(torch.rand(6) * 4).values
    case("trapezoid", {"y": ty, "x": tx}, lambda y, x: (torch.trapezoid(y, x), torch.trapezoid(y, dx=0.5, dim=0), torch.trapezoid(y)))
    case("trapezoid_broadcast_x", {"y": ty, "x": tx.expand(3, 6) + torch.rand(3, 1)}, lambda y, x: torch.trapezoid(y, x, dim=1))
    case("cumulative_trapezoid", {"y": ty, "x": tx}, lambda y, x: (torch.cumulative_trapezoid(y, x), torch.cumulative_trapezoid(y, dx=2.0, dim=0)))
    case("ldexp", {"x": torch.randn(2, 3), "e": torch.tensor([[1, -2, 0], [3, 5, -1]])}, lambda x, e: torch.ldexp(x, e))
    case("frexp", {"x": torch.tensor([0.75, -3.0, 1e-30, 1024.0, 0.0, -0.1, 6.5e4, 1.0])}, lambda x: torch.frexp(x))
    case("renorm", {"x": torch.randn(3, 4, 2) * 2}, lambda x: (torch.renorm(x, 2, 0, 2.5), torch.renorm(x, 1, 2, 3.0)))
    # (PyTorch 1.13 fails in the backward of an inf-norm renorm: values only.)
    case("renorm_inf", {"x": torch.randn(4, 3) * 2}, lambda x: torch.renorm(x, float("inf"), 1, 1.0), grad=False)

# Independent, transformed distributions (tanh-squashed and affine-then-sigmoid normals) and LogNormal.
with torch.random.fork_rng():
    torch.manual_seed(99)
    loc, sc = torch.randn(2, 3), torch.rand(2, 3) + 0.3
    case("dist_independent", {"loc": loc, "s": sc, "x": torch.randn(4, 2, 3)},
         lambda loc, s, x: (D.Independent(D.Normal(loc, s), 1).log_prob(x), D.Independent(D.Normal(loc, s), 2).log_prob(x),
                            D.Independent(D.Normal(loc, s), 1).entropy()))
    case("kl_independent", {"l1": loc, "s1": sc, "l2": torch.randn(2, 3), "s2": torch.rand(2, 3) + 0.5},
         lambda l1, s1, l2, s2: D.kl_divergence(D.Independent(D.Normal(l1, s1), 1), D.Independent(D.Normal(l2, s2), 1)))
    case("dist_tanh_normal", {"loc": loc, "s": sc, "y": torch.rand(5, 2, 3) * 1.8 - 0.9},
         lambda loc, s, y: (D.TransformedDistribution(D.Normal(loc, s), [D.TanhTransform()]).log_prob(y),
                            D.TransformedDistribution(D.Independent(D.Normal(loc, s), 1), [D.TanhTransform()]).log_prob(y)))
    case("dist_affine_sigmoid", {"loc": loc, "s": sc, "y": torch.rand(2, 3) * 0.9 + 0.05},
         lambda loc, s, y: D.TransformedDistribution(D.Normal(loc, s), [D.AffineTransform(0.5, 2.0), D.SigmoidTransform()]).log_prob(y))
    case("dist_lognormal", {"loc": loc, "s": sc, "x": torch.rand(3, 2, 3) * 4 + 0.05},
         lambda loc, s, x: (D.LogNormal(loc, s).log_prob(x), D.LogNormal(loc, s).mean, D.LogNormal(loc, s).variance, D.LogNormal(loc, s).entropy()))

# nn.utils: pad_sequence / unpad_sequence / unpack_sequence, parameters_to_vector.
with torch.random.fork_rng():
    torch.manual_seed(100)
    from torch.nn.utils.rnn import pad_sequence, unpad_sequence, pack_sequence, unpack_sequence
    from torch.nn.utils import parameters_to_vector
    sa, sb, sc = torch.randn(3, 2), torch.randn(5, 2), torch.randn(1, 2)
    case("pad_sequence", {"a": sa, "b": sb, "c": sc},
         lambda a, b, c: (pad_sequence([a, b, c]), pad_sequence([a, b, c], batch_first=True, padding_value=-1.5)))
    case("unpad_unpack_sequence", {"a": sa, "b": sb, "c": sc},
         lambda a, b, c: (*unpad_sequence(pad_sequence([a, b, c], batch_first=True), torch.tensor([3, 5, 1]), batch_first=True),
                          *unpack_sequence(pack_sequence([a, b, c], enforce_sorted=False))))
    case("parameters_to_vector", {"w": torch.randn(2, 3), "b": torch.randn(3)}, lambda w, b: parameters_to_vector([w, b]))

# More distribution families (log densities with parameter gradients; moments, entropies, cdf and icdf as values) and their KLs.
with torch.random.fork_rng():
    torch.manual_seed(101)
    loc, sc = torch.randn(3), torch.rand(3) + 0.4
    xs, ps = torch.randn(2, 3) * 2, torch.rand(2, 3) * 0.9 + 0.05
    pos = torch.rand(2, 3) * 3 + 0.05
    case("dist_cauchy", {"loc": loc, "s": sc, "x": xs, "p": ps},
         lambda loc, s, x, p: (D.Cauchy(loc, s).log_prob(x), D.Cauchy(loc, s).entropy(), D.Cauchy(loc, s).cdf(x),
                               D.Cauchy(loc, s).icdf(p), D.Cauchy(loc, s).mean, D.Cauchy(loc, s).variance))
    case("dist_cauchy_icdf", {"loc": loc, "s": sc, "p": ps}, lambda loc, s, p: D.Cauchy(loc, s).icdf(p))
    case("dist_halfnormal", {"s": sc, "x": pos, "p": ps},
         lambda s, x, p: (D.HalfNormal(s).log_prob(x), D.HalfNormal(s).entropy(), D.HalfNormal(s).cdf(x), D.HalfNormal(s).icdf(p),
                          D.HalfNormal(s).mean, D.HalfNormal(s).variance))
    case("dist_halfcauchy", {"s": sc, "x": pos, "p": ps},
         lambda s, x, p: (D.HalfCauchy(s).log_prob(x), D.HalfCauchy(s).entropy(), D.HalfCauchy(s).cdf(x), D.HalfCauchy(s).icdf(p),
                          D.HalfCauchy(s).mean, D.HalfCauchy(s).variance))
    case("dist_half_below_zero", {"s": sc, "x": torch.tensor([[-0.5, 0.0, 1.0], [2.0, -3.0, 0.25]])},
         lambda s, x: (D.HalfNormal(s, validate_args=False).log_prob(x), D.HalfCauchy(s, validate_args=False).log_prob(x)), grad=False)
    case("dist_gumbel", {"loc": loc, "s": sc, "x": xs, "p": ps},
         lambda loc, s, x, p: (D.Gumbel(loc, s).log_prob(x), D.Gumbel(loc, s).entropy(), D.Gumbel(loc, s).mean, D.Gumbel(loc, s).variance,
                               D.Gumbel(loc, s).cdf(x), D.Gumbel(loc, s).icdf(p)))
    df = torch.tensor([0.8, 1.5, 5.0])
    case("dist_studentt", {"df": df, "loc": loc, "s": sc, "x": xs},
         lambda df, loc, s, x: (D.StudentT(df, loc, s).log_prob(x), D.StudentT(df, loc, s).entropy(), D.StudentT(df, loc, s).mean,
                                D.StudentT(df, loc, s).variance))
    case("dist_studentt_entropy", {"df": df + 2, "s": sc}, lambda df, s: D.StudentT(df, 0.0, s).entropy())
    case("dist_chi2", {"df": torch.tensor([0.7, 2.0, 6.5]), "x": pos},
         lambda df, x: (D.Chi2(df).log_prob(x), D.Chi2(df).entropy(), D.Chi2(df).mean, D.Chi2(df).variance))
    conc = torch.rand(2, 4) * 3 + 0.3
    simplex = torch.rand(3, 2, 4) + 0.05
    simplex = simplex / simplex.sum(-1, keepdim=True)
    case("dist_dirichlet", {"a": conc, "x": simplex},
         lambda a, x: (D.Dirichlet(a).log_prob(x), D.Dirichlet(a).entropy(), D.Dirichlet(a).mean, D.Dirichlet(a).variance))
    case("dist_dirichlet_entropy", {"a": conc}, lambda a: D.Dirichlet(a).entropy())
    gp = torch.tensor([0.2, 0.55, 0.9])
    ks = torch.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 2.0]])
    case("dist_geometric", {"p": gp, "k": ks},
         lambda p, k: (D.Geometric(p).log_prob(k), D.Geometric(p).entropy(), D.Geometric(p).mean, D.Geometric(p).variance))
    case("dist_geometric_logits", {"l": torch.randn(3), "k": ks}, lambda l, k: (D.Geometric(logits=l).log_prob(k), D.Geometric(logits=l).entropy()))
    case("dist_binomial_grad", {"p": gp, "k": torch.tensor([[0.0, 4.0, 10.0], [7.0, 5.0, 9.0]])},
         lambda p, k: (D.Binomial(10, p).log_prob(k), D.Binomial(10, p).mean, D.Binomial(10, p).variance, D.Binomial(10, p).entropy()))
    case("dist_binomial_logits", {"l": torch.randn(3) * 2, "k": torch.tensor([[0.0, 4.0, 6.0], [3.0, 5.0, 1.0]])},
         lambda l, k: (D.Binomial(torch.tensor([6.0, 8.0, 6.0]), logits=l).log_prob(k), D.Binomial(6, logits=l).entropy()))
    mix_logits, mloc, msc = torch.randn(2, 3), torch.randn(2, 3), torch.rand(2, 3) + 0.3
    case("dist_mixture", {"w": mix_logits, "loc": mloc, "s": msc, "x": torch.randn(4, 2)},
         lambda w, loc, s, x: (D.MixtureSameFamily(D.Categorical(logits=w), D.Normal(loc, s)).log_prob(x),
                               D.MixtureSameFamily(D.Categorical(logits=w), D.Normal(loc, s)).mean,
                               D.MixtureSameFamily(D.Categorical(logits=w), D.Normal(loc, s)).variance,
                               D.MixtureSameFamily(D.Categorical(logits=w), D.Normal(loc, s)).cdf(x)))
    case("dist_mixture_event", {"w": mix_logits, "loc": torch.randn(2, 3, 2), "s": torch.rand(2, 3, 2) + 0.3, "x": torch.randn(4, 2, 2)},
         lambda w, loc, s, x: (D.MixtureSameFamily(D.Categorical(logits=w), D.Independent(D.Normal(loc, s), 1)).log_prob(x),
                               D.MixtureSameFamily(D.Categorical(logits=w), D.Independent(D.Normal(loc, s), 1)).mean,
                               D.MixtureSameFamily(D.Categorical(logits=w), D.Independent(D.Normal(loc, s), 1)).variance))
    case("dist_cdf_icdf", {"loc": loc, "s": sc, "x": xs, "p": ps},
         lambda loc, s, x, p: (D.Normal(loc, s).icdf(p), D.Exponential(s).cdf(x.abs()), D.Exponential(s).icdf(p),
                               D.Uniform(loc, loc + s, validate_args=False).cdf(x), D.Uniform(loc, loc + s).icdf(p), D.Laplace(loc, s).cdf(x), D.Laplace(loc, s).icdf(p)))
    a2, b2 = torch.rand(2, 4) * 2 + 0.5, torch.rand(3) + 0.3
    case("kl_more_families", {"a1": conc, "a2": a2, "l1": loc, "s1": sc, "l2": torch.randn(3), "s2": b2, "p1": gp, "p2": torch.tensor([0.4, 0.3, 0.7])},
         lambda a1, a2, l1, s1, l2, s2, p1, p2: (D.kl_divergence(D.Dirichlet(a1), D.Dirichlet(a2)), D.kl_divergence(D.Gumbel(l1, s1), D.Gumbel(l2, s2)),
                                                 D.kl_divergence(D.Geometric(p1), D.Geometric(p2)), D.kl_divergence(D.HalfNormal(s1), D.HalfNormal(s2))))
    case("kl_cauchy", {"l1": loc, "s1": sc, "l2": torch.randn(3), "s2": b2}, lambda l1, s1, l2, s2: D.kl_divergence(D.Cauchy(l1, s1), D.Cauchy(l2, s2)))

# torch.autograd.functional: Jacobians, Hessians and the four vector products, one and several inputs.
with torch.random.fork_rng():
    torch.manual_seed(102)
    import torch.autograd.functional as AF
    fx = lambda x: (x.sin() * x.sum()).tanh()
    gx = lambda x: (x.exp() * x.cos()).sum() + (x ** 3).sum() * x.norm()
    x0, v0, w0 = torch.randn(2, 3) * 0.7, torch.randn(2, 3), torch.randn(2, 3)
    case("autograd_functional", {"x": x0, "v": v0, "w": w0},
         lambda x, v, w: (AF.jacobian(fx, x), AF.hessian(gx, x), AF.vjp(fx, x, w)[1], AF.jvp(fx, x, v)[1],
                          AF.hvp(gx, x, v)[1], AF.vhp(gx, x, v)[1], AF.vjp(fx, x, w)[0], AF.hvp(gx, x, v)[0]), grad=False)
    fab = lambda a, b: (a @ b, (a.sum() * b).sigmoid())
    gab = lambda a, b: (a @ b).tanh().sum() + (a ** 2).sum() * b.sum()
    a0, b0 = torch.randn(2, 3) * 0.5, torch.randn(3, 2) * 0.5
    case("autograd_functional_many", {"a": a0, "b": b0, "u": torch.randn(2, 2), "t": torch.randn(3, 2)},
         lambda a, b, u, t: tuple(j for row in AF.jacobian(fab, (a, b)) for j in row) + tuple(h for row in AF.hessian(gab, (a, b)) for h in row)
                            + AF.vjp(fab, (a, b), (u, t))[1] + AF.jvp(fab, (a, b), (a * 0 + 1, b))[1] + AF.hvp(gab, (a, b), (a, b))[1], grad=False)

# torch.linalg: svdvals, matrix_rank, cond, lstsq (its drivers' extra results), solve_triangular, cholesky_solve, multi_dot, matrix_exp.
with torch.random.fork_rng():
    torch.manual_seed(103)
    L = torch.linalg
    sq = torch.randn(2, 3, 3) + 3 * torch.eye(3)
    case("linalg_svdvals_batched", {"a": torch.randn(2, 4, 3)}, lambda a: L.svdvals(a))
    low_rank = torch.randn(2, 5, 2) @ torch.randn(2, 2, 4)
    case("linalg_matrix_rank", {"a": low_rank, "b": torch.randn(3, 4)},
         lambda a, b: (L.matrix_rank(a), L.matrix_rank(b), L.matrix_rank(b, atol=1.0, rtol=0.0), L.matrix_rank(b, rtol=0.5)), grad=False)
    case("linalg_cond", {"a": sq},
         lambda a: (L.cond(a), L.cond(a, -2), L.cond(a, 1), L.cond(a, float("inf")), L.cond(a, -1), L.cond(a, "fro"), L.cond(a, "nuc")))
    A, B = torch.randn(5, 3), torch.randn(5, 2)
    case("linalg_lstsq", {"a": A, "b": B},
         lambda a, b: (L.lstsq(a, b).solution, L.lstsq(a, b).rank, L.lstsq(a, b, driver="gelsd").residuals, L.lstsq(a, b, driver="gelsd").rank,
                       L.lstsq(a, b, driver="gelsd").singular_values, L.lstsq(a, b, driver="gels").residuals))
    case("linalg_lstsq_batched_vector", {"a": torch.randn(2, 4, 3), "b": torch.randn(2, 4)},
         lambda a, b: (L.lstsq(a, b.unsqueeze(-1)).solution.squeeze(-1), L.lstsq(a, b.unsqueeze(-1), driver="gelss").residuals.squeeze(-1)))
    case("linalg_lstsq_wide", {"a": torch.randn(2, 4), "b": torch.randn(2, 3)}, lambda a, b: L.lstsq(a, b).solution)
    tri = torch.randn(3, 3) + 3 * torch.eye(3)
    case("linalg_solve_triangular", {"a": tri, "b": torch.randn(3, 2), "c": torch.randn(2, 3)},
         lambda a, b, c: (L.solve_triangular(a, b, upper=True), L.solve_triangular(a, b, upper=False), L.solve_triangular(a, c, upper=True, left=False),
                          L.solve_triangular(a, b, upper=False, unitriangular=True)))
    spd = torch.randn(3, 3); spd = spd @ spd.T + 3 * torch.eye(3)
    chol = torch.linalg.cholesky(spd)
    case("cholesky_solve", {"b": torch.randn(3, 2), "l": chol},
         lambda b, l: (torch.cholesky_solve(b, l), torch.cholesky_solve(b, l.T.contiguous(), upper=True)))
    case("linalg_multi_dot", {"v": torch.randn(3), "m1": torch.randn(3, 6), "m2": torch.randn(6, 2), "m3": torch.randn(2, 5), "w": torch.randn(5)},
         lambda v, m1, m2, m3, w: (L.multi_dot([m1, m2, m3]), L.multi_dot([v, m1, m2, m3, w]), L.multi_dot([v, m1]), L.multi_dot([m2, m3, w])))
    case("linalg_matrix_exp", {"a": torch.randn(2, 3, 3) * 1.5}, lambda a: L.matrix_exp(a))
    case("linalg_matrix_exp_float64", {"a": torch.randn(3, 3, dtype=torch.float64) * 0.3}, lambda a: L.matrix_exp(a))

# torch.special: Bessel functions, polygamma and zeta, the normal's tails, xlog1py/entr/multigammaln.
with torch.random.fork_rng():
    torch.manual_seed(104)
    S = torch.special
    bessel_points = torch.tensor([-45.0, -12.5, -3.0, -0.4, 0.0, 0.3, 1.0, 2.9, 7.5, 29.0, 31.0, 80.0])
    case("special_i0", {"x": bessel_points}, lambda x: (torch.i0(x), S.i0e(x), S.i1(x), S.i1e(x)))
    case("special_i0e_grad", {"x": bessel_points}, lambda x: S.i0e(x))
    case("special_i1_grad", {"x": bessel_points / 4}, lambda x: S.i1(x))
    case("special_i1e_grad", {"x": bessel_points}, lambda x: S.i1e(x))
    case("special_bessel_float64", {"x": bessel_points.double() * 1.1}, lambda x: (torch.i0(x), S.i0e(x), S.i1(x), S.i1e(x)))
    gamma_points = torch.tensor([0.1, 0.5, 1.0, 2.5, 7.0, 33.0, -0.5, -1.5, -2.7])
    case("special_polygamma", {"x": gamma_points}, lambda x: (torch.polygamma(1, x), torch.polygamma(2, x), torch.polygamma(3, x), torch.polygamma(0, x)))
    case("special_polygamma_grad", {"x": gamma_points}, lambda x: torch.polygamma(2, x))
    case("special_polygamma_float64", {"x": gamma_points.double() * 0.9}, lambda x: torch.polygamma(1, x))
    case("special_zeta", {"s": torch.tensor([2.0, 3.5, 1.0, 0.5, 4.0, 2.0, 3.0, 2.5]), "q": torch.tensor([1.0, 0.3, 2.0, 1.0, -2.0, -1.5, 12.0, -0.5])},
         lambda s, q: S.zeta(s, q), grad=False)
    tails = torch.tensor([-40.0, -25.0, -20.5, -19.0, -5.0, -1.0, 0.0, 0.7, 3.0, 8.0])
    case("special_ndtr", {"x": tails}, lambda x: (S.log_ndtr(x), S.ndtr(x)))
    case("special_ndtri", {"p": torch.tensor([1e-6, 0.01, 0.3, 0.5, 0.8, 0.999])}, lambda p: S.ndtri(p))
    case("special_ndtri_ends", {"p": torch.tensor([0.0, 1.0, 0.5])}, lambda p: S.ndtri(p), grad=False)
    case("special_erfcx", {"x": torch.tensor([-3.0, -0.5, 0.0, 0.5, 2.0, 10.0, 24.0, 26.0, 100.0, 1e4])}, lambda x: S.erfcx(x))
    case("special_erfcx_float64", {"x": torch.tensor([-2.0, 0.1, 5.0, 20.0, 30.0, 300.0], dtype=torch.float64)}, lambda x: S.erfcx(x))
    case("special_xlog1py_entr", {"x": torch.tensor([0.0, 0.5, 2.0, -1.0, 3.0]), "y": torch.tensor([-1.0, 0.3, 4.0, 0.5, -0.5])},
         lambda x, y: (S.xlog1py(x, y), S.entr(x.abs()), S.entr(torch.tensor([-1.0, 0.0, 2.0]))))
    case("special_multigammaln", {"x": torch.rand(2, 3) * 3 + 1.6}, lambda x: (S.multigammaln(x, 3), torch.mvlgamma(x, 1)))

# Window functions: periodic and symmetric, odd and even lengths, one point.
case("signal_windows", {"x": torch.zeros(1)},
     lambda x: (torch.hann_window(8), torch.hann_window(9, periodic=False), torch.hamming_window(10), torch.hamming_window(7, False, alpha=0.5, beta=0.4),
                torch.blackman_window(12), torch.blackman_window(5, periodic=False), torch.bartlett_window(8), torch.bartlett_window(7, periodic=False),
                torch.kaiser_window(9), torch.kaiser_window(6, False, 5.0), torch.hann_window(1), torch.kaiser_window(1),
                torch.hann_window(16, dtype=torch.float64), torch.kaiser_window(11, True, 3.5, dtype=torch.float64)), grad=False)

# mode, nanmedian, histogram.
with torch.random.fork_rng():
    torch.manual_seed(105)
    counts = torch.tensor([[1.0, 2, 2, 3, 3, 0], [5, 5, 1, 1, 4, 4], [7, 7, 7, 2, 2, 9]])
    case("mode", {"x": counts}, lambda x: (*torch.mode(x, 1), *torch.mode(x, 0, keepdim=True), *torch.mode(torch.tensor([3.0, 1, 3, 1, 2, 1, 3]), 0)))
    case("mode_grad", {"x": counts * 0.5}, lambda x: torch.mode(x, -1)[0])
    case("mode_int", {"x": torch.tensor([[4, 4, -1, 2], [0, 3, 3, 0]])}, lambda x: torch.mode(x), grad=False)
    nan = float("nan")
    case("nanmedian", {"x": torch.tensor([[1.0, nan, 3, 2], [4, 1, nan, nan], [2, 8, 6, 4]])},
         lambda x: (*torch.nanmedian(x, 1), torch.nanmedian(x), *torch.nanmedian(x, 0, keepdim=True)))
    case("nanmedian_all_nan", {"x": torch.tensor([[nan, nan], [1.0, nan]])}, lambda x: torch.nanmedian(x, 1)[0], grad=False)
    data = torch.randn(50) * 2
    case("histogram", {"x": data, "w": torch.rand(50)},
         lambda x, w: (*torch.histogram(x, bins=7), *torch.histogram(x, bins=4, range=(-1.0, 3.0)), *torch.histogram(x, bins=5, weight=w, density=True),
                       *torch.histogram(x, bins=torch.tensor([-3.0, -1.0, 0.0, 0.5, 4.0])), *torch.histogram(torch.tensor([2.0, 2.0, 2.0]), bins=4)), grad=False)

# torch.nn.utils.fusion: a batch norm folded into the convolution or linear layer before it (eval mode).
with torch.random.fork_rng():
    torch.manual_seed(106)
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval, fuse_conv_bn_weights
    def fused_conv(cw, cb, rm, rv, g, b, x, transposed=False):
        conv = (torch.nn.ConvTranspose2d(4, 3, 3, stride=2) if transposed else torch.nn.Conv2d(3, 4, 3, padding=1)).eval()
        bn = torch.nn.BatchNorm2d(3 if transposed else 4).eval()
        with torch.no_grad():
            conv.weight.copy_(cw); conv.bias.copy_(cb); bn.running_mean.copy_(rm); bn.running_var.copy_(rv); bn.weight.copy_(g); bn.bias.copy_(b)
        f = fuse_conv_bn_eval(conv, bn, transpose=transposed)
        return f.weight, f.bias, f(x), bn(conv(x))
    case("fuse_conv_bn", {"cw": torch.randn(4, 3, 3, 3), "cb": torch.randn(4), "rm": torch.randn(4), "rv": torch.rand(4) + 0.5, "g": torch.randn(4), "b": torch.randn(4),
                          "x": torch.randn(2, 3, 5, 5)}, lambda **k: fused_conv(**k), grad=False)
    case("fuse_conv_transpose_bn", {"cw": torch.randn(4, 3, 3, 3), "cb": torch.randn(3), "rm": torch.randn(3), "rv": torch.rand(3) + 0.5, "g": torch.randn(3), "b": torch.randn(3),
                                    "x": torch.randn(2, 4, 4, 4)}, lambda **k: fused_conv(**k, transposed=True), grad=False)
    def fused_linear(lw, lb, rm, rv, g, b, x):
        lin, bn = torch.nn.Linear(5, 3).eval(), torch.nn.BatchNorm1d(3).eval()
        with torch.no_grad():
            lin.weight.copy_(lw); lin.bias.copy_(lb); bn.running_mean.copy_(rm); bn.running_var.copy_(rv); bn.weight.copy_(g); bn.bias.copy_(b)
        f = fuse_linear_bn_eval(lin, bn)
        return f.weight, f.bias, f(x), bn(lin(x))
    case("fuse_linear_bn", {"lw": torch.randn(3, 5), "lb": torch.randn(3), "rm": torch.randn(3), "rv": torch.rand(3) + 0.5, "g": torch.randn(3), "b": torch.randn(3),
                            "x": torch.randn(4, 5)}, lambda **k: fused_linear(**k), grad=False)
    case("fuse_conv_bn_weights_no_bias", {"cw": torch.randn(2, 1, 3), "rm": torch.randn(2), "rv": torch.rand(2) + 0.5},
         lambda cw, rm, rv: fuse_conv_bn_weights(cw, None, rm, rv, 1e-3, None, None), grad=False)

# One-hot categorical and multinomial.
with torch.random.fork_rng():
    torch.manual_seed(107)
    pr = torch.rand(2, 4) + 0.1
    hot = torch.nn.functional.one_hot(torch.tensor([[1, 3], [0, 2], [3, 3]]), 4).float()
    case("dist_onehot_categorical", {"p": pr, "v": hot},
         lambda p, v: (D.OneHotCategorical(p).log_prob(v), D.OneHotCategorical(p).entropy(), D.OneHotCategorical(p).mean, D.OneHotCategorical(p).variance))
    case("dist_multinomial", {"p": pr, "x": torch.tensor([[2.0, 0, 1, 3], [1, 1, 1, 3]])},
         lambda p, x: (D.Multinomial(6, p).log_prob(x), D.Multinomial(6, p).mean, D.Multinomial(6, p).variance, D.Multinomial(6, p).entropy()))
    case("dist_multinomial_logits", {"l": torch.randn(4), "x": torch.tensor([0.0, 2, 0, 1])},
         lambda l, x: (D.Multinomial(3, logits=l).log_prob(x), D.Multinomial(3, logits=l).entropy()))

# More distribution families: Weibull, Pareto, Kumaraswamy (transformed, through PowerTransform), the relaxed (Concrete)
# Bernoulli and one-hot categorical, negative binomial, F, logistic-normal (StickBreakingTransform).
with torch.random.fork_rng():
    torch.manual_seed(108)
    sc, conc = torch.rand(3) + 0.5, torch.tensor([0.7, 1.6, 3.2])
    pos = torch.rand(2, 3) * 3 + 0.05
    case("dist_weibull", {"s": sc, "k": conc, "x": pos},
         lambda s, k, x: (D.Weibull(s, k).log_prob(x), D.Weibull(s, k).mean, D.Weibull(s, k).variance, D.Weibull(s, k).entropy()))
    alpha = torch.tensor([0.8, 1.5, 3.0])
    case("dist_pareto", {"s": sc, "a": alpha, "x": sc + torch.rand(2, 3) * 2},
         lambda s, a, x: (D.Pareto(s, a).log_prob(x), D.Pareto(s, a).mean, D.Pareto(s, a).variance, D.Pareto(s, a).entropy()))
    unit = torch.rand(2, 3) * 0.9 + 0.05
    case("dist_kumaraswamy", {"a": torch.tensor([0.6, 1.5, 4.0]), "b": torch.tensor([2.5, 0.8, 1.2]), "x": unit},
         lambda a, b, x: (D.Kumaraswamy(a, b).log_prob(x), D.Kumaraswamy(a, b).mean, D.Kumaraswamy(a, b).variance, D.Kumaraswamy(a, b).entropy(),
                          D.Kumaraswamy(a, b).cdf(x), D.Kumaraswamy(a, b).icdf(x)))
    logits = torch.randn(3)
    case("dist_relaxed_bernoulli", {"t": torch.tensor(0.6), "l": logits, "x": unit, "y": torch.randn(2, 3) * 2},
         lambda t, l, x, y: (D.RelaxedBernoulli(t, logits=l).log_prob(x), D.relaxed_bernoulli.LogitRelaxedBernoulli(t, logits=l).log_prob(y)))
    case("dist_relaxed_bernoulli_probs", {"t": torch.tensor(1.7), "p": torch.tensor([0.2, 0.5, 0.85]), "x": unit},
         lambda t, p, x: D.RelaxedBernoulli(t, probs=p).log_prob(x))
    simplex = torch.rand(3, 2, 4) + 0.05
    simplex = simplex / simplex.sum(-1, keepdim=True)
    cl = torch.randn(2, 4)
    case("dist_relaxed_onehot", {"t": torch.tensor(0.8), "l": cl, "x": simplex},
         lambda t, l, x: (D.RelaxedOneHotCategorical(t, logits=l).log_prob(x), D.relaxed_categorical.ExpRelaxedCategorical(t, logits=l).log_prob(x.log())))
    case("dist_relaxed_onehot_probs", {"t": torch.tensor(2.5), "p": torch.rand(2, 4) + 0.1, "x": simplex},
         lambda t, p, x: D.RelaxedOneHotCategorical(t, probs=p).log_prob(x))
    counts = torch.tensor([[0.0, 3.0, 7.0], [2.0, 0.0, 12.0]])
    case("dist_negative_binomial", {"r": torch.tensor([2.5, 4.0, 1.0]), "p": torch.tensor([0.3, 0.6, 0.85]), "k": counts},
         lambda r, p, k: (D.NegativeBinomial(r, probs=p).log_prob(k), D.NegativeBinomial(r, probs=p).mean, D.NegativeBinomial(r, probs=p).variance))
    case("dist_negative_binomial_logits", {"r": torch.tensor([0.5, 3.0, 6.0]), "l": torch.randn(3), "k": counts},
         lambda r, l, k: (D.NegativeBinomial(r, logits=l).log_prob(k), D.NegativeBinomial(r, logits=l).mean))
    case("dist_fisher_snedecor", {"d1": torch.tensor([1.5, 4.0, 9.0]), "d2": torch.tensor([1.8, 3.5, 7.0]), "x": pos},
         lambda d1, d2, x: (D.FisherSnedecor(d1, d2).log_prob(x), D.FisherSnedecor(d1, d2).mean, D.FisherSnedecor(d1, d2).variance))
    case("dist_logistic_normal", {"loc": torch.randn(2, 3), "s": torch.rand(2, 3) + 0.4, "x": simplex[0]},
         lambda loc, s, x: D.LogisticNormal(loc, s).log_prob(x))
    case("stick_breaking", {"x": torch.randn(2, 3) * 1.5},
         lambda x: (D.transforms.StickBreakingTransform()(x), D.transforms.StickBreakingTransform().log_abs_det_jacobian(x, D.transforms.StickBreakingTransform()(x)),
                    D.transforms.StickBreakingTransform().inv(D.transforms.StickBreakingTransform()(x))))
    case("dist_von_mises", {"loc": torch.tensor([0.5, -2.0, 3.0]), "k": torch.tensor([0.3, 2.5, 8.0]), "x": torch.randn(2, 3) * 2},
         lambda loc, k, x: (D.VonMises(loc, k).log_prob(x), D.VonMises(loc, k).mean, D.VonMises(loc, k).variance))
    cb_p = torch.tensor([0.1, 0.4995, 0.8])
    case("dist_continuous_bernoulli", {"p": cb_p, "x": unit},
         lambda p, x: (D.ContinuousBernoulli(p).log_prob(x), D.ContinuousBernoulli(p).mean, D.ContinuousBernoulli(p).variance,
                       D.ContinuousBernoulli(p).entropy(), D.ContinuousBernoulli(p).cdf(x), D.ContinuousBernoulli(p).icdf(x)))
    case("dist_continuous_bernoulli_logits", {"l": torch.tensor([-2.0, 0.001, 1.5]), "x": unit},
         lambda l, x: (D.ContinuousBernoulli(logits=l).log_prob(x), D.ContinuousBernoulli(logits=l).mean, D.ContinuousBernoulli(logits=l).entropy()))

# Low-rank multivariate normals (capacitance forms) and the precision-matrix normal, their KL pairs.
with torch.random.fork_rng():
    torch.manual_seed(109)
    lr_loc, lr_w, lr_d = torch.randn(2, 4), torch.randn(4, 2), torch.rand(4) + 0.3
    case("dist_lowrank_mvn", {"loc": lr_loc, "w": lr_w, "d": lr_d, "x": torch.randn(3, 2, 4)},
         lambda loc, w, d, x: (D.LowRankMultivariateNormal(loc, w, d).log_prob(x), D.LowRankMultivariateNormal(loc, w, d).entropy(),
                               D.LowRankMultivariateNormal(loc, w, d).variance))
    case("dist_lowrank_mvn_matrices", {"w": torch.randn(3, 4, 2), "d": torch.rand(3, 4) + 0.3},
         lambda w, d: (D.LowRankMultivariateNormal(torch.zeros(4), w, d).scale_tril, D.LowRankMultivariateNormal(torch.zeros(4), w, d).covariance_matrix,
                       D.LowRankMultivariateNormal(torch.zeros(4), w, d).precision_matrix))
    spd = torch.randn(3, 3)
    case("dist_mvn_precision", {"loc": torch.randn(2, 3), "c": spd, "x": torch.randn(4, 2, 3)},
         lambda loc, c, x: (D.MultivariateNormal(loc, precision_matrix=c @ c.T + torch.eye(3)).log_prob(x),
                            D.MultivariateNormal(loc, precision_matrix=c @ c.T + torch.eye(3)).scale_tril,
                            D.MultivariateNormal(loc, precision_matrix=c @ c.T + torch.eye(3)).precision_matrix))
    case("kl_lowrank_mvn", {"m1": torch.randn(2, 4), "w1": torch.randn(4, 2), "d1": torch.rand(4) + 0.3, "m2": torch.randn(4), "w2": torch.randn(4, 3),
                            "d2": torch.rand(4) + 0.3, "c": torch.randn(4, 4)},
         lambda m1, w1, d1, m2, w2, d2, c: (D.kl_divergence(D.LowRankMultivariateNormal(m1, w1, d1), D.LowRankMultivariateNormal(m2, w2, d2)),
                                            D.kl_divergence(D.MultivariateNormal(m2, covariance_matrix=c @ c.T + torch.eye(4)), D.LowRankMultivariateNormal(m1, w1, d1)),
                                            D.kl_divergence(D.LowRankMultivariateNormal(m1, w1, d1), D.MultivariateNormal(m2, covariance_matrix=c @ c.T + torch.eye(4)))))
    # linalg.solve broadcasts batch dims; B of A's shape minus one dim is one right-hand side, otherwise matrices.
    case("linalg_solve_broadcast", {"a": torch.randn(2, 1, 3, 3) + 3 * torch.eye(3), "b": torch.randn(4, 3, 2)}, lambda a, b: torch.linalg.solve(a, b))
    case("linalg_solve_matrix_rhs_fewer_dims", {"a": torch.randn(2, 3, 3) + 3 * torch.eye(3), "b": torch.randn(3, 4)}, lambda a, b: torch.linalg.solve(a, b))
    # Wishart: the three parameterizations, batched df, log density at SPD points, moments, entropy.
    wl = torch.tril(torch.randn(2, 3, 3), -1) + torch.diag_embed(torch.rand(2, 3) + 0.5)
    spd_points = torch.randn(4, 2, 3, 3)
    spd_points = spd_points @ spd_points.mT + torch.eye(3)
    case("dist_wishart_scale_tril", {"df": torch.tensor([3.5, 6.0]), "L": wl, "x": spd_points},
         lambda df, L, x: (D.Wishart(df, scale_tril=L).log_prob(x), D.Wishart(df, scale_tril=L).entropy(), D.Wishart(df, scale_tril=L).mean,
                           D.Wishart(df, scale_tril=L).variance, D.Wishart(df, scale_tril=L).mode))
    wc = torch.randn(3, 3)
    case("dist_wishart_covariance", {"c": wc, "x": spd_points[0]},
         lambda c, x: (D.Wishart(torch.tensor(4.0), covariance_matrix=c @ c.T + torch.eye(3)).log_prob(x),
                       D.Wishart(torch.tensor(4.0), covariance_matrix=c @ c.T + torch.eye(3)).precision_matrix))
    case("dist_wishart_precision", {"c": wc, "x": spd_points[0]},
         lambda c, x: (D.Wishart(torch.tensor(2.5), precision_matrix=c @ c.T + torch.eye(3)).log_prob(x),
                       D.Wishart(torch.tensor(2.5), precision_matrix=c @ c.T + torch.eye(3)).scale_tril))
    # LKJCholesky: log density of Cholesky factors of correlation matrices (rows of unit length).
    corr_rows = torch.tril(torch.randn(3, 4, 4))
    corr_rows = corr_rows / corr_rows.norm(dim=-1, keepdim=True)
    corr_rows = corr_rows * torch.where(torch.diagonal(corr_rows, dim1=-2, dim2=-1) < 0, -1.0, 1.0).unsqueeze(-1)
    case("dist_lkj_cholesky", {"eta": torch.tensor([0.5, 1.0, 3.0]), "L": corr_rows},
         lambda eta, L: D.LKJCholesky(4, eta).log_prob(L))

# KL divergences across families (PyTorch's registry), the remaining same-family pairs, Chi2 as a Gamma, transformed
# pairs with the same transforms; +inf where q has no density over part of p's support.
with torch.random.fork_rng():
    torch.manual_seed(110)
    K = D.kl_divergence
    case("kl_cross_beta", {"a": torch.tensor([0.7, 2.0, 3.5]), "b": torch.tensor([1.5, 0.9, 2.5]), "l": torch.randn(3), "r": torch.rand(3) + 0.5,
                           "k": torch.rand(3) + 0.8, "m": torch.randn(3), "s": torch.rand(3) + 0.6},
         lambda a, b, l, r, k, m, s: (K(D.Beta(a, b), D.Normal(m, s)), K(D.Beta(a, b), D.ContinuousBernoulli(logits=l)), K(D.Beta(a, b), D.Exponential(r)),
                                      K(D.Beta(a, b), D.Gamma(k, r)), K(D.Beta(a, b), D.Uniform(-0.5 - r, 1 + r)), K(D.Beta(a, b), D.Uniform(0.1 * r, 1 + r)),
                                      K(D.Beta(a, b), D.Pareto(r, k))))
    case("kl_cross_continuous_bernoulli", {"l": torch.tensor([-1.5, 0.0005, 2.0]), "r": torch.rand(3) + 0.5, "m": torch.randn(3), "s": torch.rand(3) + 0.6},
         lambda l, r, m, s: (K(D.ContinuousBernoulli(logits=l), D.Normal(m, s)), K(D.ContinuousBernoulli(logits=l), D.Exponential(r)),
                             K(D.ContinuousBernoulli(logits=l), D.Uniform(-r, 1 + r)), K(D.ContinuousBernoulli(logits=l), D.Uniform(0.1 * r, 1 + r)),
                             K(D.ContinuousBernoulli(logits=l), D.Pareto(r, r))))
    case("kl_cross_exponential_gamma", {"lam": torch.rand(3) + 0.4, "k": torch.tensor([0.6, 1.4, 3.0]), "r": torch.rand(3) + 0.5, "m": torch.randn(3), "s": torch.rand(3) + 0.6},
         lambda lam, k, r, m, s: (K(D.Exponential(lam), D.Gamma(k, r)), K(D.Exponential(lam), D.Gumbel(m, s)), K(D.Exponential(lam), D.Normal(m, s)),
                                  K(D.Gamma(k, r), D.Exponential(lam)), K(D.Gamma(k, r), D.Gumbel(m, s)), K(D.Gamma(k, r), D.Normal(m, s)),
                                  K(D.Chi2(k * 2), D.Gamma(k, r)), K(D.Gamma(k, r), D.Chi2(lam * 3)),
                                  K(D.Exponential(lam), D.Beta(k, r)), K(D.Gamma(k, r), D.Uniform(m - 1, m + 1))))
    case("kl_cross_location_scale", {"m1": torch.randn(3), "s1": torch.rand(3) + 0.5, "m2": torch.randn(3), "s2": torch.rand(3) + 0.6},
         lambda m1, s1, m2, s2: (K(D.Gumbel(m1, s1), D.Normal(m2, s2)), K(D.Laplace(m1, s1), D.Normal(m2, s2)), K(D.Normal(m1, s1), D.Gumbel(m2, s2)),
                                 K(D.Normal(m1, s1), D.Laplace(m2, s2)), K(D.Normal(m1, s1), D.Exponential(s2)), K(D.Laplace(m1, s1), D.Gamma(s1, s2)),
                                 K(D.Gumbel(m1, s1), D.Uniform(m2 - 1, m2 + 1))))
    case("kl_cross_pareto", {"sc": torch.rand(3) + 0.5, "al": torch.tensor([2.5, 3.2, 6.0]), "lam": torch.rand(3) + 0.4, "k": torch.rand(3) + 0.8,
                             "m": torch.randn(3), "s": torch.rand(3) + 0.6},
         lambda sc, al, lam, k, m, s: (K(D.Pareto(sc, al), D.Normal(m, s)), K(D.Pareto(sc, al), D.Exponential(lam)), K(D.Pareto(sc, al), D.Gamma(k, lam)),
                                       K(D.Pareto(sc, al), D.Pareto(sc * 0.8, k)), K(D.Pareto(sc, al), D.Pareto(sc * 1.2, k)),
                                       K(D.Pareto(sc, torch.tensor([0.8, 1.5, 1.9])), D.Normal(m, s)), K(D.Pareto(sc, torch.tensor([0.8, 1.5, 1.9])), D.Exponential(lam)),
                                       K(D.Pareto(sc, al), D.Uniform(m - 1, m + 1))))
    case("kl_cross_uniform", {"lo": torch.tensor([0.1, 0.25, 0.4]), "w": torch.tensor([0.3, 0.5, 0.55]), "a": torch.tensor([0.7, 2.0, 3.5]),
                              "b": torch.tensor([1.5, 0.9, 2.5]), "l": torch.randn(3), "r": torch.rand(3) + 0.5, "m": torch.randn(3), "s": torch.rand(3) + 0.6},
         lambda lo, w, a, b, l, r, m, s: (K(D.Uniform(lo, lo + w), D.Beta(a, b)), K(D.Uniform(lo, lo + w), D.ContinuousBernoulli(logits=l)),
                                          K(D.Uniform(lo, lo + w), D.Exponential(r)), K(D.Uniform(lo, lo + w), D.Gamma(a, r)), K(D.Uniform(lo, lo + w), D.Gumbel(m, s)),
                                          K(D.Uniform(lo, lo + w), D.Normal(m, s)), K(D.Uniform(lo + 1, lo + 1 + w), D.Pareto(r * 0.5 + 0.2, a)),
                                          K(D.Uniform(lo - 0.5, lo + w), D.Beta(a, b)), K(D.Uniform(lo - 0.5, lo + w), D.Exponential(r)),
                                          K(D.Uniform(lo, lo + w), D.Pareto(lo + 0.05, a))))
    case("kl_same_more", {"pa": torch.tensor([0.2, 0.5, 0.85]), "pb": torch.tensor([0.35, 0.4, 0.6]), "l1": torch.randn(3), "l2": torch.randn(3),
                          "c1": torch.randn(2, 4), "c2": torch.randn(2, 4), "m1": torch.randn(3), "s1": torch.rand(3) + 0.5, "m2": torch.randn(3),
                          "s2": torch.rand(3) + 0.6, "rate": torch.rand(3) + 0.3},
         lambda pa, pb, l1, l2, c1, c2, m1, s1, m2, s2, rate: (
             K(D.Binomial(torch.tensor([5.0, 5.0, 9.0]), probs=pa), D.Binomial(torch.tensor([5.0, 3.0, 9.0]), probs=pb)),
             K(D.ContinuousBernoulli(logits=l1), D.ContinuousBernoulli(logits=l2)), K(D.OneHotCategorical(logits=c1), D.OneHotCategorical(logits=c2)),
             K(D.LogNormal(m1, s1), D.LogNormal(m2, s2)), K(D.Bernoulli(pa), D.Poisson(rate)), K(D.Poisson(rate), D.Bernoulli(pb)),
             K(D.Poisson(rate), D.Binomial(torch.tensor([5.0, 3.0, 9.0]), probs=pb))))

# The regularized incomplete gamma functions (gradients in x; PyTorch has none in a), and the gamma and chi-squared cdfs
# through them (newer PyTorch's Gamma.cdf: gammainc(concentration, rate * x)).
with torch.random.fork_rng():
    torch.manual_seed(111)
    ig_a = torch.tensor([0.3, 1.0, 2.5, 30.0])
    ig_x = torch.rand(3, 4) * torch.tensor([1.0, 3.0, 6.0, 60.0]) + 0.01
    case("special_gammainc", {"x": ig_x},
         lambda x: (torch.special.gammainc(torch.tensor([0.3, 1.0, 2.5, 30.0]), x), torch.special.gammaincc(torch.tensor([0.3, 1.0, 2.5, 30.0]), x),
                    torch.igamma(torch.tensor([0.3, 1.0, 2.5, 30.0]), x)))
    case("dist_gamma_cdf", {"x": torch.rand(2, 3) * 4 + 0.01},
         lambda x: (torch.special.gammainc(torch.tensor([0.7, 2.0, 5.0]), torch.tensor([1.5, 0.5, 2.0]) * x),
                    torch.special.gammainc(torch.tensor([1.5, 2.0, 3.5]), 0.5 * x)))

# Modes (PyTorch 1.13's .mode; Kumaraswamy's is NaN there for b > 1 and is checked against its formula instead).
with torch.random.fork_rng():
    torch.manual_seed(112)
    mp_ = torch.tensor([0.2, 0.5, 0.85])
    ma = torch.tensor([0.6, 1.0, 3.5])
    mb = torch.tensor([0.8, 2.5, 1.2])
    mconc = torch.tensor([[0.5, 0.7, 0.9, 0.3], [1.5, 0.6, 3.0, 2.0]])
    case("dist_modes", {"p": mp_, "a": ma, "b": mb, "l": torch.randn(3), "c": torch.randn(2, 4), "conc": mconc}, lambda p, a, b, l, c, conc: (
        D.Normal(l, a).mode, D.Gamma(a, b).mode, D.Beta(a, b).mode, D.Dirichlet(conc).mode, D.Binomial(torch.tensor([4.0, 7.0, 10.0]), probs=p).mode,
        D.NegativeBinomial(torch.tensor([0.5, 3.0, 6.0]), probs=p).mode, D.Bernoulli(p).mode, D.Categorical(logits=c).mode, D.OneHotCategorical(logits=c).mode,
        D.Poisson(a * 3).mode, D.FisherSnedecor(torch.tensor([1.5, 4.0, 9.0]), b * 3).mode, D.Weibull(b, a + 1).mode, D.LogNormal(l, a).mode,
        D.Pareto(b, a).mode, D.Exponential(a).mode, D.Geometric(p).mode, D.HalfNormal(a).mode, D.HalfCauchy(a).mode, D.Uniform(l, l + a).mode,
        D.Independent(D.Normal(c, c.exp()), 1).mode, D.MultivariateNormal(l, torch.eye(3)).mode, D.Laplace(l, a).mode, D.Cauchy(l, a).mode,
        D.Gumbel(l, a).mode, D.StudentT(a, l, b).mode, D.VonMises(l, a).mode, D.LowRankMultivariateNormal(l, torch.ones(3, 1), a).mode),
        grad=False)

# More transforms, transform_to/biject_to for the common constraints, enumerate_support, perplexity.
with torch.random.fork_rng():
    torch.manual_seed(113)
    TT = D.transforms
    C_ = D.constraints
    case("transforms_more", {"x": torch.randn(2, 3) * 2, "m": torch.randn(2, 3, 3)},
         lambda x, m: (TT.SoftplusTransform()(x), TT.SoftplusTransform().inv(TT.SoftplusTransform()(x)),
                       TT.SoftplusTransform().log_abs_det_jacobian(x, TT.SoftplusTransform()(x)), TT.AbsTransform()(x), TT.SoftmaxTransform()(x),
                       TT.LowerCholeskyTransform()(m), TT.LowerCholeskyTransform().inv(TT.LowerCholeskyTransform()(m)),
                       TT.ComposeTransform([TT.ExpTransform(), TT.AffineTransform(1.0, 2.0)]).log_abs_det_jacobian(x, TT.ComposeTransform([TT.ExpTransform(), TT.AffineTransform(1.0, 2.0)])(x))))
    case("transform_to", {"x": torch.randn(2, 3) * 1.5},
         lambda x: (D.transform_to(C_.positive)(x), D.transform_to(C_.greater_than(2.0))(x), D.transform_to(C_.less_than(1.0))(x),
                    D.transform_to(C_.interval(-1.0, 3.0))(x), D.transform_to(C_.unit_interval)(x), D.biject_to(C_.simplex)(x), D.transform_to(C_.simplex)(x),
                    D.biject_to(C_.interval(-1.0, 3.0)).log_abs_det_jacobian(x, D.biject_to(C_.interval(-1.0, 3.0))(x)),
                    D.biject_to(C_.independent(C_.positive, 1)).log_abs_det_jacobian(x, D.biject_to(C_.independent(C_.positive, 1))(x)),
                    D.biject_to(C_.simplex).log_abs_det_jacobian(x, D.biject_to(C_.simplex)(x)),
                    D.biject_to(C_.interval(-1.0, 3.0)).inv(D.biject_to(C_.interval(-1.0, 3.0))(x))))
    case("enumerate_support", {"p": torch.rand(2, 3) * 0.8 + 0.1, "c": torch.randn(2, 4)},
         lambda p, c: (D.Bernoulli(p).enumerate_support(), D.Bernoulli(p).enumerate_support(expand=False), D.Categorical(logits=c).enumerate_support(),
                       D.OneHotCategorical(logits=c).enumerate_support(), D.OneHotCategorical(logits=c).enumerate_support(expand=False),
                       D.Binomial(5, probs=p[0]).enumerate_support()), grad=False)
    case("perplexity", {"l": torch.randn(3), "s": torch.rand(3) + 0.4, "c": torch.randn(2, 4)},
         lambda l, s, c: (D.Normal(l, s).perplexity(), D.Categorical(logits=c).perplexity(), D.Gamma(s, s + 1).perplexity()))

# einsum with an ellipsis (broadcast from the right) and with a letter repeated in one operand (diagonal, trace).
with torch.random.fork_rng():
    torch.manual_seed(114)
    case("einsum_ellipsis_batch_matmul", {"a": torch.randn(2, 3, 4, 5), "b": torch.randn(3, 5, 6)}, lambda a, b: torch.einsum("...ij,...jk->...ik", a, b))
    case("einsum_ellipsis_implicit", {"a": torch.randn(2, 3, 7), "b": torch.randn(2, 4, 7)}, lambda a, b: torch.einsum("bi...,bj...", a, b))
    case("einsum_ellipsis_summed", {"a": torch.randn(2, 3, 4, 4)}, lambda a: torch.einsum("...ij->ij", a))
    case("einsum_ellipsis_broadcast_one", {"a": torch.randn(3, 2), "b": torch.randn(3, 1)}, lambda a, b: torch.einsum("i...,i...->...", a, b))
    case("einsum_ellipsis_middle", {"a": torch.randn(2, 3, 5), "b": torch.randn(3, 4)}, lambda a, b: torch.einsum("ij...,jk", a, b))
    case("einsum_diagonal", {"a": torch.randn(4, 4)}, lambda a: (torch.einsum("ii->i", a), torch.einsum("ii", a)))
    case("einsum_batch_diagonal", {"a": torch.randn(2, 3, 4, 4)}, lambda a: (torch.einsum("...ii->...i", a), torch.einsum("biji->bj", a.permute(0, 2, 1, 3))))
    case("unique_dim", {"x": torch.tensor([[1., 2., 3.], [0., 5., 1.], [1., 2., 3.], [0., 5., 0.], [0., 5., 1.]])},
         lambda x: (*torch.unique(x, dim=0, return_inverse=True, return_counts=True), *torch.unique(x, dim=1, return_inverse=True, return_counts=True)), grad=False)
    case("bitwise_shifts", {"a": torch.tensor([1, -8, 100, 7, -1, 12345], dtype=torch.int32), "b": torch.tensor([0, 2, 20, 3, 30, 1], dtype=torch.int32),
                            "u": torch.tensor([1, 200, 255, 16], dtype=torch.uint8), "s": torch.tensor([1, 1, 7, 3], dtype=torch.uint8),
                            "l": torch.tensor([3, -5, 1 << 40], dtype=torch.int64), "m": torch.tensor([60, 1, 23], dtype=torch.int64)},
         lambda a, b, u, s, l, m: (torch.bitwise_left_shift(a, b), torch.bitwise_right_shift(a, b), u << s, u >> s, l << m, l >> m, a << 3, a >> 2), grad=False)
    case("einsum_repeated_with_product", {"a": torch.randn(3, 4, 3), "b": torch.randn(4, 5)}, lambda a, b: torch.einsum("iji,jk->k", a, b))

# Shape helpers, NaN-ignoring extrema, integer gcd/lcm, nextafter, isin, aminmax, flat indexing, index_reduce,
# unravel_index, addbmm, vecdot.
with torch.random.fork_rng():
    torch.manual_seed(115)
    case("atleast_and_stacks", {"s": torch.tensor(1.5), "v": torch.randn(3), "m": torch.randn(2, 3), "w": torch.randn(2, 3)},
         lambda s, v, m, w: (torch.atleast_1d(s), torch.atleast_2d(v), torch.atleast_3d(m), torch.atleast_3d(v), torch.dstack([m, w]),
                             torch.column_stack([v, m.t()]), torch.row_stack([v, m]), *torch.broadcast_tensors(v, m), torch.fliplr(m), torch.flipud(m),
                             torch.ravel(m.t())))
    nan = float("nan")
    case("fmax_fmin", {"a": torch.tensor([1.0, nan, 3.0, 2.0, nan, -1.0]), "b": torch.tensor([2.0, 1.0, nan, 2.0, nan, -4.0])},
         lambda a, b: (torch.fmax(a, b), torch.fmin(a, b)))
    case("gcd_lcm", {"a": torch.tensor([12, -18, 0, 7, 0, 100], dtype=torch.int64), "b": torch.tensor([8, 12, 5, 13, 0, -75], dtype=torch.int64)},
         lambda a, b: (torch.gcd(a, b), torch.lcm(a, b), torch.gcd(a.int(), b.int())), grad=False)
    case("nextafter", {"a": torch.tensor([1.0, 1.0, 0.0, -2.5, 3.0]), "b": torch.tensor([2.0, 0.0, -1.0, -2.5, float("inf")])},
         lambda a, b: (torch.nextafter(a, b), torch.nextafter(a.double(), b.double())), grad=False)
    case("isin_aminmax", {"x": torch.tensor([[1.0, 2.0, nan], [4.0, 2.0, -1.0]]), "t": torch.tensor([2.0, -1.0, nan, 7.0]), "y": torch.randn(3, 4)},
         lambda x, t, y: (torch.isin(x, t), torch.isin(x, t, invert=True), *torch.aminmax(y), *torch.aminmax(y, dim=1), *torch.aminmax(y, dim=0, keepdim=True)), grad=False)
    case("take_put", {"x": torch.randn(3, 4), "s": torch.randn(2, 2)},
         lambda x, s: (torch.take(x, torch.tensor([[0, 5], [-1, 11]])), x.put(torch.tensor([[1, 6], [1, -2]]), s, accumulate=True),
                       x.put(torch.tensor([[1, 6], [3, -2]]), s)))
    case("masked_scatter", {"x": torch.randn(3, 4), "src": torch.randn(12)},
         lambda x, src: x.masked_scatter(torch.tensor([True, False, True, True]), src))
    for reduce in ["prod", "mean", "amax", "amin"]:
        for include in [True, False]:
            case(f"index_reduce_{reduce}" + ("" if include else "_exclude"), {"x": torch.rand(4, 3) + 0.5, "src": torch.rand(5, 3) + 0.5},
                 lambda x, src, reduce=reduce, include=include: x.index_reduce(0, torch.tensor([0, 2, 0, 3, 2]), src, reduce, include_self=include))
    case("argwhere_unravel", {"x": torch.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])},
         # torch.unravel_index arrived after 1.13: numpy's, the same definition.
         lambda x: (torch.argwhere(x), *[torch.from_numpy(c).long() for c in np.unravel_index(np.array([0, 5, 13, 23]), (2, 3, 4))]), grad=False)
    case("addbmm_vecdot", {"i": torch.randn(3, 5), "b1": torch.randn(4, 3, 2), "b2": torch.randn(4, 2, 5), "u": torch.randn(2, 3, 4), "v": torch.randn(3, 4)},
         lambda i, b1, b2, u, v: (torch.addbmm(i, b1, b2, beta=0.5, alpha=2.0), torch.linalg.vecdot(u, v), torch.linalg.vecdot(u, v.unsqueeze(0), dim=1)))

# torch.fft: complex inputs and outputs as view_as_real pairs [..., 2]; each case's first output carries the gradient.
with torch.random.fork_rng():
    torch.manual_seed(116)
    C = torch.view_as_complex
    R = torch.view_as_real
    case("fft_c2c", {"z": torch.randn(3, 8, 2)},
         lambda z: (R(torch.fft.fft(C(z))), R(torch.fft.fft(C(z), n=6)), R(torch.fft.fft(C(z), dim=0, norm="ortho")), R(torch.fft.ifft(C(z), norm="forward"))))
    case("fft_c2c_odd_lengths", {"z": torch.randn(2, 7, 2)},
         lambda z: (R(torch.fft.fft(C(z), n=12)), R(torch.fft.fft(C(z))), R(torch.fft.ifft(C(z), n=5)), R(torch.fft.fft(C(z), n=13, norm="ortho"))))
    case("ifft_c2c", {"z": torch.randn(4, 6, 2)}, lambda z: (R(torch.fft.ifft(C(z), dim=0)), R(torch.fft.ifft(C(z), norm="ortho"))))
    case("fft_of_real", {"x": torch.randn(3, 10)}, lambda x: (R(torch.fft.fft(x)), R(torch.fft.fft(x, n=7, dim=0))))
    case("rfft", {"x": torch.randn(3, 10)}, lambda x: (R(torch.fft.rfft(x)), R(torch.fft.rfft(x, n=9)), R(torch.fft.rfft(x, dim=0, norm="forward"))))
    case("irfft", {"z": torch.randn(3, 6, 2)}, lambda z: (torch.fft.irfft(C(z)), torch.fft.irfft(C(z), n=11), torch.fft.irfft(C(z), n=7, norm="ortho")))
    case("hfft_ihfft", {"z": torch.randn(2, 5, 2), "x": torch.randn(2, 9)},
         lambda z, x: (torch.fft.hfft(C(z)), torch.fft.hfft(C(z), n=9, norm="ortho"), R(torch.fft.ihfft(x).resolve_conj())))
    case("ihfft_grad", {"x": torch.randn(2, 9)}, lambda x: R(torch.fft.ihfft(x, norm="forward").resolve_conj()))
    case("fft2_ifft2", {"z": torch.randn(2, 4, 6, 2)}, lambda z: (R(torch.fft.fft2(C(z))), R(torch.fft.ifft2(C(z), s=(3, 8))), R(torch.fft.fftn(C(z))), R(torch.fft.ifftn(C(z), dim=(0, 2)))))
    case("rfft2_irfft2", {"x": torch.randn(2, 6, 8)}, lambda x: (R(torch.fft.rfft2(x)), R(torch.fft.rfftn(x, s=(5, 7))), torch.fft.irfft2(torch.fft.rfft2(x)),
                                                               torch.fft.irfftn(torch.fft.rfftn(x, dim=(0, 2)), dim=(0, 2))))
    case("irfftn_grad", {"z": torch.randn(3, 4, 5, 2)}, lambda z: torch.fft.irfftn(C(z), s=(4, 8), dim=(1, 2)))
    case("fft_freq_shift", {"x": torch.randn(4, 5)},
         lambda x: (torch.fft.fftshift(x), torch.fft.ifftshift(x), torch.fft.fftshift(x, dim=1), torch.fft.fftfreq(8), torch.fft.fftfreq(7, d=0.5),
                    torch.fft.rfftfreq(8), torch.fft.rfftfreq(9, d=2.0)))
    case("stft", {"x": torch.randn(2, 64)},
         lambda x: (R(torch.stft(x, 16, hop_length=4, window=torch.hann_window(16), return_complex=True)),
                    R(torch.stft(x[0], 16, hop_length=5, win_length=12, window=torch.hann_window(12), return_complex=True)),
                    R(torch.stft(x, 8, center=False, normalized=True, return_complex=True)),
                    R(torch.stft(x, 8, hop_length=3, onesided=False, pad_mode="constant", return_complex=True))))
    case("complex_abs_angle", {"z": torch.cat([torch.randn(5, 2), torch.zeros(1, 2)])},
         lambda z: (C(z).abs(), C(z).angle(), R(torch.polar(C(z).abs(), C(z).angle()))))
    case("istft", {"z": torch.randn(2, 9, 7, 2)},
         lambda z: (torch.istft(C(z), 16, hop_length=4, window=torch.hann_window(16)),
                    torch.istft(C(z), 16, hop_length=4, window=torch.hann_window(16), length=30),
                    torch.istft(C(z[0]), 16, hop_length=5, win_length=12, window=torch.hann_window(12), normalized=True),
                    torch.istft(C(z), 16, hop_length=4, window=torch.hamming_window(16), center=False)))
    case("stft_istft_round_trip", {"x": torch.randn(2, 50)},
         lambda x: torch.istft(torch.stft(x, 16, hop_length=4, window=torch.hann_window(16), return_complex=True), 16, hop_length=4,
                               window=torch.hann_window(16), length=50))

# assignment through the indexer (no gradients)
def assigned():
    base = torch.arange(12.0).reshape(3, 4)
    a = base.clone(); a[:, 1] = -1.0
    b = base.clone(); b[b > 5] = 0.0
    c = base.clone(); c[base > 8] = torch.tensor([-1.0, -2.0, -3.0])
    d = base.clone(); d[torch.tensor([2, 0])] = torch.tensor([7.0, 8.0, 9.0, 10.0])
    e = base.clone(); e[1] = 5.0
    return a, b, c, d, e
case("index_assign", {}, lambda: assigned(), grad=False)


# ---------------------------------------------------------------- optimizers and schedulers (trajectories)
import torch.optim as optim


def trajectory(make_opt, steps=6):
    torch.manual_seed(3)
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    target = torch.randn(4, 3, dtype=torch.float64)
    opt = make_opt([w])
    start = w.detach().clone()
    out = []
    for _ in range(steps):
        opt.zero_grad()
        ((w - target) ** 2 * torch.arange(1.0, 13.0, dtype=torch.float64).reshape(4, 3)).sum().backward()
        opt.step()
        out.append(w.detach().clone())
    return {"start": enc(start), "target": enc(target), "steps": [enc(t) for t in out]}


class ModernNAdam(optim.Optimizer):
    """PyTorch 2's NAdam (1.13 multiplies mu twice in the look-ahead factor); Kiln follows PyTorch 2."""
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            b1, b2 = g["betas"]
            for p in g["params"]:
                st = self.state[p]
                if not st:
                    st["step"] = 0; st["mu_product"] = 1.0
                    st["exp_avg"] = torch.zeros_like(p); st["exp_avg_sq"] = torch.zeros_like(p)
                st["step"] += 1; step = st["step"]
                grad = p.grad if g["weight_decay"] == 0 else p.grad.add(p, alpha=g["weight_decay"])
                mu = b1 * (1. - 0.5 * (0.96 ** (step * g["momentum_decay"])))
                mu_next = b1 * (1. - 0.5 * (0.96 ** ((step + 1) * g["momentum_decay"])))
                st["mu_product"] *= mu
                st["exp_avg"].mul_(b1).add_(grad, alpha=1 - b1)
                st["exp_avg_sq"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
                denom = st["exp_avg_sq"].div(1 - b2 ** step).sqrt().add_(g["eps"])
                p.addcdiv_(grad, denom, value=-g["lr"] * (1. - mu) / (1. - st["mu_product"]))
                p.addcdiv_(st["exp_avg"], denom, value=-g["lr"] * mu_next / (1. - st["mu_product"] * mu_next))


optimizers = {
    "adamax": trajectory(lambda p: optim.Adamax(p, lr=0.05, weight_decay=0.01)),
    "adadelta": trajectory(lambda p: optim.Adadelta(p, lr=0.5, rho=0.8)),
    "nadam": trajectory(lambda p: ModernNAdam(p, lr=0.05, weight_decay=0.01)),
    "radam": trajectory(lambda p: optim.RAdam(p, lr=0.05), steps=8),
    "rprop": trajectory(lambda p: optim.Rprop(p, lr=0.05, etas=(0.4, 1.3), step_sizes=(1e-3, 0.2)), steps=10),
    "asgd": trajectory(lambda p: optim.ASGD(p, lr=0.05, lambd=1e-2, alpha=0.6, t0=3, weight_decay=0.01), steps=8),
}


def lrs(make_sched, steps, make_opt=lambda p: optim.SGD(p, lr=0.1, momentum=0.9), fractional=None):
    p = [torch.zeros(1, requires_grad=True)]
    opt = make_opt(p)
    sched = make_sched(opt)
    rates, momenta = [opt.param_groups[0]["lr"]], [opt.param_groups[0].get("momentum", 0.0)]
    for i in range(steps):
        opt.step()
        if fractional is None: sched.step()
        else: sched.step(fractional[i])
        rates.append(opt.param_groups[0]["lr"]); momenta.append(opt.param_groups[0].get("momentum", 0.0))
    return {"lr": rates, "momentum": momenta}


schedulers = {
    "warm_restarts": lrs(lambda o: optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01), 16),
    "warm_restarts_fractional": lrs(lambda o: optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2), 6, fractional=[0.5, 1.0, 1.75, 2.5, 4.25, 7.0]),
    "cyclic_triangular": lrs(lambda o: optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=2), 14),
    "cyclic_triangular2": lrs(lambda o: optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2, mode="triangular2"), 12),
    "cyclic_exp_range": lrs(lambda o: optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2, mode="exp_range", gamma=0.9), 10),
}

# ---------------------------------------------------------------- recurrent cells and RNN (weights, outputs, gradients)
def module_case(name, module, x, state=None, select=lambda out: out[0] if isinstance(out, tuple) else out):
    torch.manual_seed(sum(map(ord, name)))
    x = x.clone().requires_grad_()
    out = module(x) if state is None else module(x, state)
    first = select(out)
    w = torch.randn(first.shape)
    (first * w).sum().backward()
    outs = list(out) if isinstance(out, tuple) else [out]
    flat = []
    for o in outs:
        flat.extend(o if isinstance(o, tuple) else [o])
    return {"state": {k: enc(v) for k, v in module.state_dict().items()}, "input": enc(x),
            "outputs": [enc(o) for o in flat], "weights": enc(w),
            "grads": dict({k: enc(p.grad) for k, p in module.named_parameters()}, input=enc(x.grad))}


torch.manual_seed(21)
recurrent = {
    "rnn_cell_tanh": module_case("rnn_cell_tanh", nn.RNNCell(3, 4), torch.randn(2, 3)),
    "rnn_cell_relu_unbatched": module_case("rnn_cell_relu_unbatched", nn.RNNCell(3, 4, nonlinearity="relu"), torch.randn(3)),
    "lstm_cell": module_case("lstm_cell", nn.LSTMCell(3, 4), torch.randn(2, 3)),
    "gru_cell": module_case("gru_cell", nn.GRUCell(3, 4), torch.randn(2, 3)),
    "rnn_two_layers_bidirectional": module_case("rnn_two_layers_bidirectional", nn.RNN(3, 4, num_layers=2, bidirectional=True), torch.randn(5, 2, 3)),
    "rnn_relu_batch_first": module_case("rnn_relu_batch_first", nn.RNN(3, 4, nonlinearity="relu", batch_first=True), torch.randn(2, 5, 3)),
}

# the full Transformer (dropout 0): output for src and a causally masked tgt, gradients of inputs and every parameter
torch.manual_seed(8)
tr = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, dropout=0.0)
src, tgt = torch.randn(5, 2, 8, requires_grad=True), torch.randn(4, 2, 8, requires_grad=True)
mask = nn.Transformer.generate_square_subsequent_mask(4)
out = tr(src, tgt, tgt_mask=mask)
w = torch.randn(out.shape)
(out * w).sum().backward()
transformer = {"state": {k: enc(v) for k, v in tr.state_dict().items()}, "src": enc(src), "tgt": enc(tgt), "mask": enc(mask),
               "output": enc(out), "weights": enc(w),
               "grads": dict({k: enc(p.grad) for k, p in tr.named_parameters()}, src=enc(src.grad), tgt=enc(tgt.grad))}

# packed variable-length sequences through LSTM (bidirectional), GRU and RNN
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def packed_case(module, enforce_sorted, lengths, initial_state=False):
    torch.manual_seed(31)
    shape = (len(lengths), max(lengths), 3) if module.batch_first else (max(lengths), len(lengths), 3)
    x = torch.randn(*shape, requires_grad=True)
    packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=module.batch_first, enforce_sorted=enforce_sorted)
    hx = None
    if initial_state:
        layers = module.num_layers * (2 if module.bidirectional else 1)
        h_width = module.proj_size if getattr(module, "proj_size", 0) > 0 else module.hidden_size
        h0 = torch.randn(layers, len(lengths), h_width, requires_grad=True)
        hx = (h0, torch.randn(layers, len(lengths), module.hidden_size, requires_grad=True)) if isinstance(module, nn.LSTM) else h0
    out, state = module(packed, hx)
    padded, lens = pad_packed_sequence(out, batch_first=module.batch_first)
    w = torch.randn(padded.shape)
    states = list(state) if isinstance(state, tuple) else [state]
    loss = (padded * w).sum() + sum(s.sum() for s in states)
    loss.backward()
    case = {"state": {k: enc(v) for k, v in module.state_dict().items()}, "input": enc(x), "lengths": lengths,
            "packed_data": enc(packed.data), "batch_sizes": packed.batch_sizes.tolist(),
            "padded": enc(padded), "states": [enc(s) for s in states], "weights": enc(w),
            "grads": dict({k: enc(p.grad) for k, p in module.named_parameters()}, input=enc(x.grad))}
    if initial_state:
        initial = list(hx) if isinstance(hx, tuple) else [hx]
        case["initial"] = [enc(t) for t in initial]
        case["initial_grads"] = [enc(t.grad) for t in initial]
    return case


torch.manual_seed(30)
packed = {
    "lstm_bidirectional_unsorted": packed_case(nn.LSTM(3, 4, bidirectional=True), False, [3, 5, 2]),
    "gru_two_layers_sorted": packed_case(nn.GRU(3, 4, num_layers=2), True, [4, 4, 1]),
    "rnn_unsorted": packed_case(nn.RNN(3, 4), False, [1, 3, 2]),
    # Two bidirectional layers with a projection, batch-first, from a given (h0, c0); and a bidirectional GRU from h0.
    "lstm_projected_two_layers_batch_first_state": packed_case(
        nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, proj_size=2), False, [2, 5, 3, 5], initial_state=True),
    "gru_bidirectional_state": packed_case(nn.GRU(3, 4, bidirectional=True), False, [2, 4, 1], initial_state=True),
}

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases, "optimizers": optimizers, "schedulers": schedulers, "recurrent": recurrent,
               "transformer": transformer, "packed": packed}, f, separators=(",", ":"))
print(f"wrote {len(cases)} cases, {len(optimizers)} optimizer trajectories and {len(schedulers)} schedules to {OUT}")
