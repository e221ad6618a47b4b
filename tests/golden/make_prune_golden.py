#!/usr/bin/env python3
"""torch.nn.utils.prune as the reference for Kiln's Prune (tests/Kiln.Tests/NN/PruneGoldenTests.cs).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_prune_golden.py
Each scenario builds small layers from a seed, applies a sequence of prunings (deterministic methods only: the random
ones draw from PyTorch's generator, which Kiln does not replay), and records after every step each pruned tensor's mask
and every module's state-dict keys; at the end each module's forward on a fixed input and the gradients of
sum(output²) with respect to its parameters. Weights are drawn so that no two magnitudes or slice norms tie.
"""
import json, os
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "prune.json")


def enc(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def build(spec):
    kind = spec[0]
    if kind == "linear": return nn.Linear(spec[1], spec[2])
    if kind == "conv2d": return nn.Conv2d(spec[1], spec[2], spec[3])
    if kind == "embedding": return nn.Embedding(spec[1], spec[2])
    raise ValueError(kind)


def sample_input(spec, g):
    kind = spec[0]
    if kind == "linear": return torch.randn(3, spec[1], generator=g)
    if kind == "conv2d": return torch.randn(2, spec[1], 5, 5, generator=g)
    return torch.tensor([[1, 4, 0], [7, 4, 2]])


def amount(a):
    return {"value": a, "int": isinstance(a, int)}


def run(name, modules, steps, seed):
    torch.manual_seed(seed)
    mods = {k: build(v) for k, v in modules.items()}
    initial = {k: {n: enc(t) for n, t in m.state_dict().items()} for k, m in mods.items()}
    recorded = []
    for step in steps:
        op = step["op"]
        m = mods.get(step.get("module"))
        scores = None
        if "scores_seed" in step:
            scores = torch.randn(getattr(m, step["name"]).shape, generator=torch.Generator().manual_seed(step["scores_seed"]))
        if op == "l1_unstructured":
            prune.l1_unstructured(m, step["name"], step["amount"], importance_scores=scores)
        elif op == "ln_structured":
            n = step["n"]
            prune.ln_structured(m, step["name"], step["amount"], n=float(n) if isinstance(n, str) else n, dim=step["dim"], importance_scores=scores)
        elif op == "identity":
            prune.identity(m, step["name"])
        elif op == "custom_from_mask":
            mask = (torch.arange(getattr(m, step["name"]).numel()) % step["every"] != 0).float().view_as(getattr(m, step["name"]))
            prune.custom_from_mask(m, step["name"], mask)
        elif op == "global_unstructured":
            pairs = [(mods[k], n) for k, n in step["parameters"]]
            prune.global_unstructured(pairs, pruning_method=prune.L1Unstructured, amount=step["amount"])
        elif op == "remove":
            prune.remove(m, step["name"])
        else:
            raise ValueError(op)
        masks = {f"{k}.{b}": enc(t) for k, mm in mods.items() for b, t in mm.named_buffers() if b.endswith("_mask")}
        keys = {k: list(mm.state_dict().keys()) for k, mm in mods.items()}
        params = {k: [n for n, _ in mm.named_parameters()] for k, mm in mods.items()}
        out = dict(step)
        if scores is not None: out["scores"] = enc(scores)
        if "amount" in step: out["amount"] = amount(step["amount"])
        out.update({"masks": masks, "keys": keys, "parameters": params, "pruned": {k: prune.is_pruned(mm) for k, mm in mods.items()}})
        if op == "global_unstructured": out["parameters_pruned"] = step["parameters"]
        recorded.append(out)
    g = torch.Generator().manual_seed(seed + 1000)
    results = {}
    for k, m in mods.items():
        x = sample_input(modules[k], g)
        y = m(x)
        (y * y).sum().backward()
        results[k] = {"input": enc(x.float()), "output": enc(y),
                      "weight": enc(getattr(m, "weight")),
                      "grads": {n: enc(p.grad) for n, p in m.named_parameters()}}
    return {"name": name, "modules": modules, "initial": initial, "steps": recorded, "results": results}


scenarios = [
    run("linear_l1_again_and_again", {"fc": ["linear", 6, 4]},
        [{"op": "l1_unstructured", "module": "fc", "name": "weight", "amount": 0.3},    # round(7.2) = 7 of 24
         {"op": "l1_unstructured", "module": "fc", "name": "weight", "amount": 3},      # 3 of the 17 left
         {"op": "l1_unstructured", "module": "fc", "name": "bias", "amount": 0.5},      # round(2.0) = 2
         {"op": "ln_structured", "module": "fc", "name": "weight", "amount": 0.5, "n": 2, "dim": 0}], 201),
    run("python_rounds_half_to_even", {"a": ["linear", 5, 1], "b": ["linear", 7, 1]},
        [{"op": "l1_unstructured", "module": "a", "name": "weight", "amount": 0.5},     # 2.5 -> 2
         {"op": "l1_unstructured", "module": "b", "name": "weight", "amount": 0.5}], 202),  # 3.5 -> 4
    run("conv_structured_then_unstructured", {"conv": ["conv2d", 3, 4, 3]},
        [{"op": "ln_structured", "module": "conv", "name": "weight", "amount": 1, "n": 1, "dim": 0},
         {"op": "l1_unstructured", "module": "conv", "name": "weight", "amount": 0.25},
         {"op": "ln_structured", "module": "conv", "name": "weight", "amount": 0.34, "n": "inf", "dim": 1},
         {"op": "ln_structured", "module": "conv", "name": "weight", "amount": 1, "n": 2, "dim": -1}], 203),
    run("minimum_norm_on_a_fresh_layer", {"conv": ["conv2d", 2, 3, 2]},
        [{"op": "ln_structured", "module": "conv", "name": "weight", "amount": 1, "n": "-inf", "dim": 2}], 206),
    run("global_across_layers", {"fc1": ["linear", 5, 4], "fc2": ["linear", 4, 3]},
        [{"op": "l1_unstructured", "module": "fc2", "name": "weight", "amount": 2},
         {"op": "global_unstructured", "parameters": [["fc1", "weight"], ["fc2", "weight"], ["fc1", "bias"]], "amount": 0.4},
         {"op": "global_unstructured", "parameters": [["fc1", "weight"], ["fc2", "weight"]], "amount": 5}], 204),
    run("importance_scores_mask_and_remove", {"fc": ["linear", 4, 5], "emb": ["embedding", 8, 3]},
        [{"op": "l1_unstructured", "module": "fc", "name": "weight", "amount": 6, "scores_seed": 7},
         {"op": "ln_structured", "module": "fc", "name": "weight", "amount": 1, "n": 3, "dim": 1, "scores_seed": 8},
         {"op": "custom_from_mask", "module": "emb", "name": "weight", "every": 3},
         {"op": "identity", "module": "fc", "name": "bias"},
         {"op": "remove", "module": "fc", "name": "weight"},
         {"op": "l1_unstructured", "module": "emb", "name": "weight", "amount": 0.2}], 205),
]

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "scenarios": scenarios}, f, indent=None)
print(f"wrote {len(scenarios)} pruning scenarios to {OUT}")
