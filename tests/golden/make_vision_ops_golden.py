#!/usr/bin/env python3
"""torchvision.ops (box geometry, NMS, roi_align) as the reference for Kiln.Vision.VisionOps.

Run with Debian's python3-torch and python3-torchvision:  /usr/bin/python3 tests/golden/make_vision_ops_golden.py
Writes tests/golden/data/vision_ops.json: inputs, outputs and the gradients of sum(output * weight) for the
differentiable ops (weights recorded too). Scores are distinct so the NMS order does not depend on tie-breaking.
"""
import json, os
import torch
import torchvision
from torchvision import ops

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "vision_ops.json")
torch.manual_seed(7)


def enc(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": t.detach().reshape(-1).tolist()}


def boxes(n, size=20.0):
    xy = torch.rand(n, 2) * size
    wh = torch.rand(n, 2) * size * 0.6 + 0.5
    return torch.cat([xy, xy + wh], 1)


cases = []


def grad_case(name, fn, inputs, **extra):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    out = fn(*xs)
    weight = torch.randn(out.shape)
    (out * weight).sum().backward()
    cases.append({"name": name, "inputs": [enc(x) for x in inputs], "output": enc(out), "weight": enc(weight),
                  "grads": [enc(x.grad) for x in xs], **extra})


a, b = boxes(5), boxes(4)
grad_case("box_area", ops.box_area, [a])
grad_case("box_iou", ops.box_iou, [a, b])
grad_case("generalized_box_iou", ops.generalized_box_iou, [a, b])
for fi in ["xyxy", "xywh", "cxcywh"]:
    for fo in ["xyxy", "xywh", "cxcywh"]:
        if fi != fo:
            grad_case(f"box_convert_{fi}_{fo}", lambda x, fi=fi, fo=fo: ops.box_convert(x, fi, fo), [torch.rand(6, 4) * 10 + torch.tensor([0, 0, 1, 1])], formats=[fi, fo])

nms_cases = []
for n, thr in [(30, 0.5), (30, 0.2), (50, 0.7), (1, 0.5), (0, 0.5)]:
    bx = boxes(n, 15.0)
    sc = torch.randperm(max(n, 1))[:n].float() / max(n, 1) + torch.rand(n) * 1e-3
    cat = torch.randint(0, 3, (n,))
    nms_cases.append({"boxes": enc(bx), "scores": enc(sc), "iou": thr, "idxs": enc(cat),
                      "keep": enc(ops.nms(bx, sc, thr)), "batched_keep": enc(ops.batched_nms(bx, sc, cat, thr))})

roi = []
x = torch.randn(2, 3, 10, 12)
rois = torch.tensor([[0, 1.2, 0.7, 8.3, 6.9], [1, 3.0, 2.0, 11.5, 9.5], [0, -2.0, -1.5, 4.0, 3.0], [1, 5.0, 5.0, 5.4, 5.2], [0, 9.0, 6.0, 14.0, 12.0]])
for aligned in [False, True]:
    for ratio in [-1, 2]:
        for scale, out in [(1.0, (2, 3)), (0.5, (3, 3))]:
            name = f"roi_align_{'aligned' if aligned else 'legacy'}_r{ratio}_s{scale}"
            grad_case(name, lambda t, aligned=aligned, ratio=ratio, scale=scale, out=out: ops.roi_align(t, rois, output_size=out, spatial_scale=scale, sampling_ratio=ratio, aligned=aligned),
                      [x], rois=enc(rois), aligned=aligned, ratio=ratio, scale=scale, output_size=list(out))

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "cases": cases, "nms": nms_cases}, f, separators=(",", ":"))
print(f"wrote {OUT}: {len(cases)} cases, {len(nms_cases)} nms")
