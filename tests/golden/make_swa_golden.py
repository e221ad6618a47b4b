#!/usr/bin/env python3
"""torch.optim.swa_utils as the reference for Kiln.Optim.Swa (tests/Kiln.Tests/NN/SwaGoldenTests.cs).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_swa_golden.py
Records SWALR's rates over a few schedules; a small model trained by SGD with an AveragedModel (the running mean) and
an exponential moving average over parameters and buffers updated after every step (their state dicts after each);
and update_bn's statistics of the averaged copy over a loader, with that copy's output in eval mode.
"""
import json, os
import torch
import torch.nn as nn
from torch.optim.swa_utils import AveragedModel, SWALR, update_bn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "swa.json")


def enc(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def rates(make, steps, groups=1):
    params = [[torch.zeros(1, requires_grad=True)] for _ in range(groups)]
    opt = torch.optim.SGD([{"params": p, "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], lr=0.1)
    sched = make(opt)
    out = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups])
    return out


schedules = {
    "cos_4": rates(lambda o: SWALR(o, swa_lr=0.02, anneal_epochs=4), 8),
    "linear_3": rates(lambda o: SWALR(o, swa_lr=0.05, anneal_epochs=3, anneal_strategy="linear"), 6),
    "at_once": rates(lambda o: SWALR(o, swa_lr=0.03, anneal_epochs=0), 3),
    "two_groups": rates(lambda o: SWALR(o, swa_lr=[0.01, 0.4], anneal_epochs=2), 4, groups=2),
}

torch.manual_seed(301)
model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
initial = {k: enc(v) for k, v in model.state_dict().items()}
x, y = torch.randn(8, 3), torch.randn(8, 2)
swa = AveragedModel(model)
ema = AveragedModel(model, avg_fn=lambda avg, cur, n: 0.8 * avg + 0.2 * cur, use_buffers=True)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
steps = []
for _ in range(5):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    swa.update_parameters(model)
    ema.update_parameters(model)
    steps.append({"swa": {k: enc(v) for k, v in swa.state_dict().items()},
                  "ema": {k: enc(v) for k, v in ema.state_dict().items()}})

batches = [torch.randn(4, 3) for _ in range(3)]
swa.train(False)
update_bn([[b] for b in batches], swa)
bn = swa.module[1]
after = {"running_mean": enc(bn.running_mean), "running_var": enc(bn.running_var),
         "num_batches_tracked": int(bn.num_batches_tracked), "momentum": bn.momentum, "training": swa.training}
swa.eval()
probe = torch.randn(5, 3)
after["input"] = enc(probe)
after["output"] = enc(swa(probe))

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "schedules": schedules, "initial": initial, "x": enc(x), "y": enc(y),
               "steps": steps, "batches": [enc(b) for b in batches], "update_bn": after}, f, indent=None)
print(f"wrote {len(schedules)} SWALR schedules, {len(steps)} averaging steps and update_bn to {OUT}")
