#!/usr/bin/env python3
"""Turns bench/gpu's JSON into one Markdown table (with the issue's targets), or writes a table into bench/RESULTS.md.

  table.py kiln.json torch.json check.txt FAILURES      prints the section
  table.py --write RESULTS.md table.md                  replaces the "## GPU" section of RESULTS.md (or appends it)
"""
import datetime, json, re, sys


def section(kiln, torch, check, failures):
    k, t = json.load(open(kiln)), json.load(open(torch))
    summary = [l for l in open(check).read().splitlines() if l.startswith("check:")]
    rows = []

    def row(case, kv, tv, target, ok):
        fmt = lambda v: "" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
        rows.append(f"| {case} | {fmt(kv)} | {fmt(tv)} | {target} | {'' if ok is None else ('met' if ok else 'not met')} |")

    copy, fused = k.get("copy_gbps"), k.get("fused_gbps")
    row("copy bandwidth (GB/s)", copy, t.get("copy_gbps"), "", None)
    row("fused elementwise (GB/s; Kiln compiled, torch.compile)", fused, t.get("compiled_elementwise_gbps"), ">= 80% of Kiln's copy",
        fused is not None and copy and fused >= 0.8 * copy)
    row("elementwise, eager ops (ms)", k.get("eager_elementwise_ms"), t.get("eager_elementwise_ms"), "", None)
    kc, tc = k.get("mlp_step_compiled_ms"), t.get("mlp_step_compiled_ms")
    row("MLP 784-256-10 b256 step, eager (ms)", k.get("mlp_step_eager_ms"), t.get("mlp_step_eager_ms"), "", None)
    row("MLP step, compiled vs torch.compile (ms)", kc, tc, "<= torch.compile", None if kc is None or tc is None else kc <= tc)
    row("GEMM 4096 float32 (TFLOP/s)", k.get("gemm_float32_tflops"), t.get("gemm_float32_tflops"), "", None)
    kb, tb = k.get("gemm_bfloat16_tflops"), t.get("gemm_bfloat16_tflops")
    row(f"GEMM 4096 bfloat16 (TFLOP/s, {k.get('gemm_path')})", kb, tb, ">= 90% of torch.matmul", None if kb is None or tb is None else kb >= 0.9 * tb)
    ff = k.get("first_forward_ms")
    row("first compiled forward, new process (ms)", ff, None, "< 100 ms, no JIT", None if ff is None else ff < 100 and k.get("jit_compiled_kernels") == 0)
    row("device init (ms) / kernels JIT-compiled", k.get("device_init_ms"), k.get("jit_compiled_kernels"), "", None)
    for key in sorted(k_ for k_ in k if k_.startswith("op_")):
        kv, tv = k.get(key), t.get(key)
        row(f"{key[3:-3]}, 2^26 float32 (ms)", kv, tv, "", None)
    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    head = (f"## GPU (bench/gpu)\n\nCommand: `bench/gpu/run.sh` (publish here, then `bench/gpu/run.sh device` on the GPU machine)  \n"
            f"Measured {now} on {k.get('device')}; PyTorch {t.get('torch', '?')} in the same run. "
            f"Check against the CPU: {summary[0] if summary else '?'} (exit {failures}).\n\n"
            "| case | Kiln | PyTorch | target | |\n|---|---:|---:|---|---|\n")
    return head + "\n".join(rows) + "\n"


if sys.argv[1] == "--write":
    results, table = sys.argv[2], open(sys.argv[3]).read()
    text = open(results).read()
    pattern = re.compile(r"## GPU \(bench/gpu\)\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: table.rstrip("\n"), text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + table
    open(results, "w").write(text)
else:
    print(section(*sys.argv[1:5]))
