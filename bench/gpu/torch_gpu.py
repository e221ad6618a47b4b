#!/usr/bin/env python3
"""PyTorch side of bench/gpu: the same work as KilnGpuBench on the same GPU, eager and torch.compile.

Prints one JSON object (milliseconds / GB/s / TFLOP/s), timed like Kiln's side: median of repeats, the device
synchronised after each call. Sizes: `--small` as Kilns's --small.
"""
import json, statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

small = "--small" in sys.argv
dev = "cuda"
torch.manual_seed(0)


def timed(fn, reps=20, warmup=3):
    for _ in range(warmup):
        fn(); torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); torch.cuda.synchronize(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


r = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0)}
n = (1 << 12) if small else (1 << 28)
x = torch.rand(n, device=dev)
copy = timed(lambda: x.clone())
r["copy_gbps"] = 2 * n * 4 / copy / 1e9
ew = lambda t: torch.tanh(t * 2 + 1) * t
with torch.no_grad():
    r["eager_elementwise_ms"] = timed(lambda: ew(x)) * 1e3
    try:
        cew = torch.compile(ew)
        fused = timed(lambda: cew(x))
        r["compiled_elementwise_ms"] = fused * 1e3
        r["compiled_elementwise_gbps"] = 2 * n * 4 / fused / 1e9
    except Exception as e:  # torch.compile needs a working Triton; report why not
        r["compile_error"] = repr(e)[:200]

n2 = (1 << 12) if small else (1 << 26)
v = torch.randn(n2 // 1024, 1024, device=dev)
w = torch.randn(n2 // 1024, 1024, device=dev)
PER_OP = {"neg": lambda t: -t, "mul_scalar": lambda t: t * 2, "add": lambda t: t + w, "exp": torch.exp,
          "log_abs": lambda t: t.abs().log(), "tanh": torch.tanh, "sigmoid": torch.sigmoid, "silu": F.silu, "gelu": F.gelu,
          "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"), "softmax_rows": lambda t: t.softmax(-1),
          "log_softmax_rows": lambda t: t.log_softmax(-1), "sum": lambda t: t.sum(), "sum_rows": lambda t: t.sum(1)}
with torch.no_grad():
    for name, f in PER_OP.items():
        r[f"op_{name}_ms"] = timed(lambda: f(v)) * 1e3

batch = 8 if small else 256


def mlp_step(compiled):
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to(dev)
    fwd = torch.compile(model) if compiled else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xb = torch.randn(batch, 784, device=dev)
    yb = torch.randint(0, 10, (batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(fwd(xb), yb)
        loss.backward()
        opt.step()
    return timed(step, reps=3 if small else 50, warmup=3 if small else 10)


r["mlp_step_eager_ms"] = mlp_step(False) * 1e3
try:
    r["mlp_step_compiled_ms"] = mlp_step(True) * 1e3
except Exception as e:
    r["compile_error"] = repr(e)[:200]
m = 64 if small else 4096
for dt, name in ((torch.float32, "float32"), (torch.bfloat16, "bfloat16")):
    a = torch.randn(m, m, device=dev, dtype=dt)
    b = torch.randn(m, m, device=dev, dtype=dt)
    t = timed(lambda: a @ b, reps=3 if small else 10)
    r[f"gemm_{name}_ms"] = t * 1e3
    r[f"gemm_{name}_tflops"] = 2 * m ** 3 / t / 1e12
print(json.dumps(r))
