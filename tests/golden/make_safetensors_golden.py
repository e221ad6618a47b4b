#!/usr/bin/env python3
"""Writes tests/golden/data/reference.safetensors and its expected values from PyTorch.

Debian has no python3-safetensors, so the format is written by safetensors_io.py (shared with the other golden scripts), following the specification
(8-byte little-endian header length, JSON header with dtype/shape/data_offsets and __metadata__, raw little-endian
data), the way the Hugging Face library lays files out: tensors ordered by dtype alignment (largest first), then name,
and the header padded with spaces to a multiple of 8. It also reads back a file Kiln wrote, if given one:
  /usr/bin/python3 tests/golden/make_safetensors_golden.py [kiln_written.safetensors]
and with --read-kiln IN OUT.json writes PyTorch's view of it (dtype, shape, values) for the tests.
"""
import json, os, struct, sys
import numpy as np
import torch
from safetensors_io import CODES, DTYPES, raw, read, write

torch.manual_seed(99)
DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
if len(sys.argv) > 3 and sys.argv[1] == "--read-kiln":
    # PyTorch's view of a file Kiln wrote, for the test that checks Python reads what Kiln writes.
    tensors, meta = read(sys.argv[2])
    report = {"metadata": meta, "tensors": {}}
    for k, t in tensors.items():
        data = t.to(torch.float64) if t.dtype != torch.int64 else t
        report["tensors"][k] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                                "data": [v.item() for v in data.reshape(-1)]}
    with open(sys.argv[3], "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    sys.exit(0)

if len(sys.argv) > 1:
    tensors, meta = read(sys.argv[1])
    for k, t in tensors.items():
        print(k, str(t.dtype).replace("torch.", ""), list(t.shape), t.float().sum().item() if t.numel() else 0.0)
    print("metadata", json.dumps(meta, sort_keys=True))
    sys.exit(0)

tensors = {
    "encoder.weight": torch.randn(3, 4),
    "encoder.bias": torch.randn(4, dtype=torch.float64),
    "half": torch.randn(2, 3).half(),
    "brain": torch.randn(5).bfloat16(),
    "steps": torch.tensor([1, -2, 3_000_000_000_000], dtype=torch.int64),
    "ids": torch.tensor([[7, -8], [9, 10]], dtype=torch.int32),
    "bytes": torch.tensor([-128, 0, 127], dtype=torch.int8),
    "pixels": torch.tensor([0, 128, 255], dtype=torch.uint8),
    "mask": torch.tensor([True, False, True]),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
}
write(os.path.join(DIR, "reference.safetensors"), tensors, {"format": "pt", "note": "written by make_safetensors_golden.py"})
expected = {k: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                "data": [float(x) for x in t.double().reshape(-1).tolist()] if t.dtype.is_floating_point else [int(x) for x in t.reshape(-1).tolist()]}
            for k, t in tensors.items()}
with open(os.path.join(DIR, "reference.safetensors.json"), "w") as f:
    json.dump({"tensors": expected, "metadata": {"format": "pt", "note": "written by make_safetensors_golden.py"}}, f, separators=(",", ":"))
print("wrote reference.safetensors")
