#!/usr/bin/env python3
"""PyTorch's behaviour on the edge cases of issue 15 (hardening): values where PyTorch returns one, and whether it
raises where Kiln must raise too.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_hardening_golden.py
Writes tests/golden/data/hardening.json; tests/Kiln.Tests/Core/EdgeCaseGoldenTests.cs reads it.
"""
import json, math, os
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "hardening.json")


def num(v):
    if isinstance(v, float):
        if math.isnan(v): return "nan"
        if math.isinf(v): return "inf" if v > 0 else "-inf"
    return v


values = {}
x = torch.tensor([[0.0, 1.5, -2.0, 0.0], [3.0, 0.0, 0.0, -0.25], [0.0, 0.0, 0.0, 0.0]])
values["input"] = {"shape": list(x.shape), "data": [num(v) for v in x.reshape(-1).tolist()]}
values["norm_p0_all"] = x.norm(p=0).item()
values["norm_p0_dim1"] = x.norm(p=0, dim=1).tolist()
values["norm_pneginf_dim1"] = [num(v) for v in x.norm(p=float("-inf"), dim=1).tolist()]
values["norm_pinf_dim0"] = x.norm(p=float("inf"), dim=0).tolist()
xg = x.clone().requires_grad_()
xg.norm(p=0).backward()
# PyTorch leaves the gradient undefined (None): a count of non-zeros is flat. Kiln gives zeros, the same numbers.
values["norm_p0_grad"] = (xg.grad if xg.grad is not None else torch.zeros_like(x)).reshape(-1).tolist()
values["abs_int64_min"] = torch.tensor([-(2 ** 63), -5, 7]).abs().tolist()
values["abs_int8_min"] = torch.tensor([-128, -5, 7], dtype=torch.int8).abs().tolist()
values["arange_int_extremes"] = torch.arange(2 ** 62, 2 ** 62 + 10, 3).tolist()
values["arange_descending"] = torch.arange(5, -6, -4).tolist()


def raises(fn):
    try:
        fn()
        return None
    except (RuntimeError, IndexError, ValueError, OverflowError) as e:
        return str(e).splitlines()[0]


errors = {
    "gather_negative": raises(lambda: torch.arange(6.0).reshape(2, 3).gather(1, torch.tensor([[0, -1], [1, 2]]))),
    "scatter_negative": raises(lambda: torch.zeros(2, 3).scatter(1, torch.tensor([[0], [-1]]), 1.0)),
    "embedding_negative": raises(lambda: F.embedding(torch.tensor([0, -1]), torch.randn(4, 3))),
    "embedding_too_large": raises(lambda: F.embedding(torch.tensor([4]), torch.randn(4, 3))),
    "arange_nan_end": raises(lambda: torch.arange(0.0, float("nan"), 1.0)),
    "arange_inf_end": raises(lambda: torch.arange(0.0, float("inf"), 1.0)),
    "arange_wrong_sign": raises(lambda: torch.arange(0, 10, -1)),
    "arange_zero_step": raises(lambda: torch.arange(0, 10, 0)),
    "narrow_past_end": raises(lambda: torch.arange(16).narrow(0, 10, 7)),
    "zeros_overflow": raises(lambda: torch.zeros(65536, 65536, 65536, 65536)),
}
for k, v in errors.items():
    assert v is not None, f"PyTorch did not raise for {k}"

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "values": values, "errors": errors}, f, indent=1)
print(f"wrote {len(values)} values and {len(errors)} error cases to {OUT}")
