#!/usr/bin/env python3
"""Golden files for Kiln.Quantization: bitsandbytes' 4-bit (NF4/FP4, blockwise absmax, double quantization) and
LLM.int8 row-wise formats, implemented here from bitsandbytes' documented reference semantics (its pure-PyTorch
"default" backend: scale each block by 1/absmax, clamp to [-1, 1], take the nearest code — the first on a tie — pack two
codes per byte with the first in the high nibble; double quantization subtracts the mean absmax and quantizes the rest
blockwise (256) with the 8-bit signed dynamic map). Debian has no bitsandbytes, so CI regenerates these with plain torch:

    /usr/bin/python3 tests/golden/make_quant_golden.py

Writes tests/golden/data/quant/: one safetensors file per case (input, packed bytes, absmax, maps, the quant-state JSON
bytes under bitsandbytes' key names, the dequantized tensor) plus llama_gqa_nf4/ — the HF fixture llama_gqa quantized
the way transformers saves a load_in_4bit model (config.json with quantization_config, model.safetensors with
bitsandbytes' keys) and dequant.safetensors with every dequantized weight.
"""
import json, os, shutil, sys
import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_file, load_file  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "quant")

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
       -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
       0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]
# bitsandbytes' FP4 (e2m1, no inf/nan): these magnitudes in its bit order, sign in bit 3, divided by the largest.
FP4 = [0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0, -0.0, -0.0625, -8.0, -12.0, -4.0, -6.0, -2.0, -3.0]


def code4(kind):
    t = torch.tensor(NF4 if kind == "nf4" else FP4, dtype=torch.float32)
    return t / t.abs().max()


def dynamic_map():
    """bitsandbytes' create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): 256 values in [-1, 1]."""
    data = []
    for i in range(7):
        boundaries = torch.linspace(0.1, 1, 2 ** i + 1)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-6 + i)) * means).tolist()
        data += (-(10 ** (-6 + i)) * means).tolist()
    data += [0, 1.0]
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


def blockwise(flat, code, blocksize, pad_even=False):
    """Nearest code of each element scaled by its block's 1/absmax; returns (indices uint8, absmax fp32)."""
    n = flat.numel()
    blocks = (n + blocksize - 1) // blocksize
    padded = torch.zeros(blocks * blocksize, dtype=torch.float32)
    padded[:n] = flat.float()
    absmax = padded.view(blocks, blocksize).abs().max(dim=1).values
    scaled = torch.clamp(padded.view(blocks, blocksize) * (1 / absmax).view(-1, 1), -1, 1).reshape(-1)[:n]
    if pad_even and n % 2:   # bitsandbytes pads the scaled values with 0.0, so the spare nibble is the code nearest 0
        scaled = torch.cat([scaled, torch.zeros(1)])
    idx = torch.argmin((scaled.view(-1, 1) - code.view(1, -1)).abs(), dim=1).to(torch.uint8)
    return idx, absmax


def quantize_4bit(w, kind, blocksize, double_quant):
    flat = w.reshape(-1)
    idx, absmax = blockwise(flat, code4(kind), blocksize, pad_even=True)
    packed = (idx[0::2] << 4 | idx[1::2]).view(-1, 1)
    t = {"quant_map": code4(kind)}
    state = {"quant_type": kind, "blocksize": blocksize, "dtype": str(w.dtype).replace("torch.", ""), "shape": list(w.shape)}
    if double_quant:
        offset = absmax.mean()
        qabs, nested = blockwise(absmax - offset, dynamic_map(), 256)
        t.update({"absmax": qabs, "nested_absmax": nested, "nested_quant_map": dynamic_map()})
        state.update({"nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": offset.item()})
    else:
        t["absmax"] = absmax
    t["quant_state.bitsandbytes__" + kind] = torch.tensor(list(json.dumps(state).encode()), dtype=torch.uint8)
    return packed, t


def dequantize_4bit(packed, t, kind, blocksize, shape, dtype):
    n = 1
    for s in shape: n *= s
    p = packed.reshape(-1)
    idx = torch.stack([p >> 4, p & 0xF], dim=1).reshape(-1)[:n].long()
    if "nested_absmax" in t:
        state = json.loads(bytes(t["quant_state.bitsandbytes__" + kind].tolist()))
        q = t["absmax"].long()
        absmax = t["nested_quant_map"][q] * t["nested_absmax"].repeat_interleave(256)[: q.numel()] + torch.tensor(state["nested_offset"], dtype=torch.float32)
    else:
        absmax = t["absmax"]
    vals = code4(kind)[idx] * absmax.repeat_interleave(blocksize)[:n]
    return vals.reshape(shape).to(dtype)


def quantize_int8_rows(w):
    """LLM.int8's row-wise format: int8 weight = round(W * 127 / absmax_row) (half to even), SCB = absmax_row."""
    scb = w.float().abs().max(dim=1).values
    q = torch.round(w.float() * (127.0 / scb).view(-1, 1)).to(torch.int8)
    return q, scb


def case_4bit(name, w, kind, blocksize, dq):
    packed, t = quantize_4bit(w, kind, blocksize, dq)
    out = {"input": w, "weight": packed, "dequant": dequantize_4bit(packed, t, kind, blocksize, list(w.shape), w.dtype)}
    out.update({"weight." + k: v for k, v in t.items()})
    save_file(out, os.path.join(OUT, name + ".safetensors"))


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(20261204)
    case_4bit("nf4_b64", torch.randn(48, 40, generator=g), "nf4", 64, False)
    case_4bit("nf4_b64_remainder", torch.randn(37, 23, generator=g) * 3, "nf4", 64, False)
    case_4bit("fp4_b128", torch.randn(30, 50, generator=g), "fp4", 128, False)
    case_4bit("nf4_b64_dq", torch.randn(256, 80, generator=g) * torch.rand(256, 1, generator=g), "nf4", 64, True)
    case_4bit("fp4_b64_dq", torch.randn(96, 33, generator=g), "fp4", 64, True)
    case_4bit("nf4_b256_bf16_dq", (torch.randn(32, 64, generator=g) * 0.1).to(torch.bfloat16), "nf4", 256, True)
    w = torch.randn(24, 40, generator=g)
    w[3, 7] = 9.0
    q, scb = quantize_int8_rows(w)
    save_file({"input": w, "weight": q, "SCB": scb, "dequant": q.float() * scb.view(-1, 1) * (1 / 127.0)}, os.path.join(OUT, "int8_rows.safetensors"))
    save_file({"dynamic_map": dynamic_map(), "nf4": code4("nf4"), "fp4": code4("fp4")}, os.path.join(OUT, "maps.safetensors"))

    # The HF fixture model quantized as transformers' load_in_4bit saves it: decoder Linear weights become 4-bit
    # (lm_head and embeddings stay), bitsandbytes' keys beside each; config.json gains quantization_config.
    src = os.path.join(HERE, "data", "hf", "llama_gqa")
    dst = os.path.join(OUT, "llama_gqa_nf4")
    os.makedirs(dst, exist_ok=True)
    weights = load_file(os.path.join(src, "model.safetensors"))
    saved, dequant = {}, {}
    for k, v in weights.items():
        if k.startswith("model.layers.") and k.endswith("_proj.weight"):
            packed, t = quantize_4bit(v, "nf4", 64, True)
            saved[k] = packed
            saved.update({k + "." + n: x for n, x in t.items()})
            dequant[k] = dequantize_4bit(packed, t, "nf4", 64, list(v.shape), v.dtype)
        else:
            saved[k] = v
    save_file(saved, os.path.join(dst, "model.safetensors"), {"format": "pt"})
    save_file(dequant, os.path.join(dst, "dequant.safetensors"))
    with open(os.path.join(src, "config.json")) as f: config = json.load(f)
    config["quantization_config"] = {
        "_load_in_4bit": True, "_load_in_8bit": False, "bnb_4bit_compute_dtype": "float32",
        "bnb_4bit_quant_storage": "uint8", "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True,
        "llm_int8_enable_fp32_cpu_offload": False, "llm_int8_has_fp16_weight": False, "llm_int8_skip_modules": None,
        "llm_int8_threshold": 6.0, "load_in_4bit": True, "load_in_8bit": False, "quant_method": "bitsandbytes"}
    with open(os.path.join(dst, "config.json"), "w") as f: json.dump(config, f, indent=2, sort_keys=True)
    print("wrote", OUT)


if __name__ == "__main__":
    main()


def ao_golden():
    """torch.ao.quantization itself (Debian's torch): observers' qparams, fake quantization and its straight-through
    gradient, dynamic and static (post-training) quantized Linear outputs. Written to data/quant/ao.safetensors."""
    import torch.ao.quantization as q
    import warnings
    warnings.filterwarnings("ignore")
    g = torch.Generator().manual_seed(7)
    torch.manual_seed(7)   # the Linear layers' own initialisation: the file is the same on every run
    out = {}
    batches = [torch.randn(64, 32, generator=g) * 2 + 0.3, torch.randn(64, 32, generator=g) * 3, torch.rand(64, 32, generator=g) * 5]
    for i, b in enumerate(batches): out[f"batch{i}"] = b
    cases = {
        "minmax_quint8": lambda: q.MinMaxObserver(dtype=torch.quint8),
        "minmax_quint8_reduce": lambda: q.MinMaxObserver(dtype=torch.quint8, reduce_range=True),
        "minmax_qint8_symmetric": lambda: q.MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric),
        "minmax_qint8_affine": lambda: q.MinMaxObserver(dtype=torch.qint8),
        "moving_quint8": lambda: q.MovingAverageMinMaxObserver(dtype=torch.quint8, averaging_constant=0.1),
        "histogram_quint8": lambda: q.HistogramObserver(dtype=torch.quint8),
        "histogram_qint8_symmetric": lambda: q.HistogramObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric),
    }
    for name, make in cases.items():
        for n in (1, 3):
            o = make()
            for b in batches[:n]: o(b)
            s, z = o.calculate_qparams()
            out[f"{name}_{n}.scale"] = s.float().reshape(1)
            out[f"{name}_{n}.zero_point"] = z.to(torch.int64).reshape(1)
    # Fake quantization (quint8, scale 0.05, zero point 100) and the straight-through gradient of sum(y * w).
    x = (torch.randn(200, generator=g) * 4).requires_grad_()
    w = torch.randn(200, generator=g)
    y = torch.fake_quantize_per_tensor_affine(x, 0.05, 100, 0, 255)
    (y * w).sum().backward()
    out.update({"fq.x": x.detach(), "fq.w": w, "fq.y": y.detach(), "fq.grad": x.grad})
    # Dynamic quantization of a Linear (qint8 weights, activations quantized per call).
    lin = torch.nn.Linear(64, 16)
    xs = torch.randn(5, 64, generator=g)
    dyn = q.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear}, dtype=torch.qint8)
    out.update({"dyn.weight": lin.weight.detach(), "dyn.bias": lin.bias.detach(), "dyn.x": xs, "dyn.y": dyn(xs).detach()})
    # Static post-training quantization: QuantStub, Linear, DeQuantStub; min-max observers, calibrated on three batches.
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.fc, self.dequant = q.QuantStub(), torch.nn.Linear(32, 8), q.DeQuantStub()
        def forward(self, t): return self.dequant(self.fc(self.quant(t)))
    net = Net().eval()
    net.qconfig = q.QConfig(activation=q.MinMaxObserver.with_args(dtype=torch.quint8),
                            weight=q.MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric))
    out.update({"ptq.weight": net.fc.weight.detach().clone(), "ptq.bias": net.fc.bias.detach().clone()})
    prepared = q.prepare(net)
    for b in batches: prepared(b)
    converted = q.convert(prepared)
    test = torch.randn(6, 32, generator=g) * 2
    out.update({"ptq.x": test, "ptq.y": converted(test).detach(),
                "ptq.out_scale": torch.tensor([converted.fc.scale], dtype=torch.float32),
                "ptq.out_zero_point": torch.tensor([converted.fc.zero_point], dtype=torch.int64)})
    save_file(out, os.path.join(OUT, "ao.safetensors"))
    ao_per_channel_golden(q)


def ao_per_channel_golden(q):
    """Per-channel weights and convolutions in torch.ao: per-channel observers' qparams, fake_quantize_per_channel_affine
    and its gradient, post-training static quantization of a Conv2d and a Linear under fbgemm's default qconfig
    (histogram activations with reduce_range, per-channel symmetric qint8 weights; run by the oneDNN engine), and QAT of a Conv2d under fbgemm's
    QAT config (one training-mode forward and backward, then convert). Written to data/quant/ao_per_channel.safetensors."""
    # Debian's torch has no fbgemm; oneDNN runs the same per-channel int8 convolutions and linears on x86.
    torch.backends.quantized.engine = "onednn" if "onednn" in torch.backends.quantized.supported_engines else "fbgemm"
    g = torch.Generator().manual_seed(11)
    torch.manual_seed(11)
    out = {}
    # A weight whose output channels differ in scale by 100x, so per-channel and per-tensor grids really differ.
    w = torch.randn(6, 4, 3, 3, generator=g) * torch.tensor([0.01, 0.1, 1.0, 0.5, 0.05, 2.0]).reshape(6, 1, 1, 1)
    out["pc.w"] = w
    for name, make in {
        "pc_minmax_sym": lambda: q.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
        "pc_minmax_affine": lambda: q.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.quint8, qscheme=torch.per_channel_affine),
        "pc_minmax_axis1": lambda: q.PerChannelMinMaxObserver(ch_axis=1, dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
        "pc_moving_sym": lambda: q.MovingAveragePerChannelMinMaxObserver(averaging_constant=0.1, ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
    }.items():
        o = make()
        o(w); o(w * 0.5 + 0.01)
        s, z = o.calculate_qparams()
        out[f"{name}.scale"] = s.float()
        out[f"{name}.zero_point"] = z.to(torch.int64)
    # fake_quantize_per_channel_affine along dim 0 and its straight-through gradient of sum(y * v).
    scale = torch.tensor([0.001, 0.01, 0.02, 0.005, 0.0005, 0.05])
    zp = torch.tensor([0, 0, 3, -2, 0, 1], dtype=torch.int32)
    x = (w * 1.0).requires_grad_()
    v = torch.randn(6, 4, 3, 3, generator=g)
    y = torch.fake_quantize_per_channel_affine(x, scale, zp, 0, -128, 127)
    (y * v).sum().backward()
    out.update({"pcfq.scale": scale, "pcfq.zero_point": zp.to(torch.int64), "pcfq.v": v, "pcfq.y": y.detach(), "pcfq.grad": x.grad})

    batches = [torch.randn(4, 4, 9, 9, generator=g) * 2 + 0.2, torch.randn(4, 4, 9, 9, generator=g), torch.rand(4, 4, 9, 9, generator=g) * 3]
    for i, b in enumerate(batches): out[f"conv.batch{i}"] = b
    class ConvNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.conv, self.dequant = q.QuantStub(), torch.nn.Conv2d(4, 6, 3, stride=2, padding=1), q.DeQuantStub()
        def forward(self, t): return self.dequant(self.conv(self.quant(t)))
    net = ConvNet().eval()
    with torch.no_grad(): net.conv.weight.copy_(w)
    net.qconfig = q.get_default_qconfig("fbgemm")
    out.update({"ptqconv.weight": net.conv.weight.detach().clone(), "ptqconv.bias": net.conv.bias.detach().clone()})
    prepared = q.prepare(net)
    for b in batches: prepared(b)
    converted = q.convert(prepared)
    test = torch.randn(2, 4, 9, 9, generator=g) * 2
    out.update({"ptqconv.x": test, "ptqconv.y": converted(test).detach(),
                "ptqconv.out_scale": torch.tensor([converted.conv.scale], dtype=torch.float32),
                "ptqconv.out_zero_point": torch.tensor([converted.conv.zero_point], dtype=torch.int64),
                "ptqconv.w_scales": converted.conv.weight().q_per_channel_scales().float(),
                "ptqconv.in_scale": converted.quant.scale.float().reshape(1), "ptqconv.in_zero_point": converted.quant.zero_point.to(torch.int64).reshape(1)})
    class LinNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.fc, self.dequant = q.QuantStub(), torch.nn.Linear(36, 6), q.DeQuantStub()
        def forward(self, t): return self.dequant(self.fc(self.quant(t)))
    lnet = LinNet().eval()
    with torch.no_grad(): lnet.fc.weight.copy_(w.reshape(6, 36))
    lnet.qconfig = q.get_default_qconfig("fbgemm")
    out.update({"ptqlin.weight": lnet.fc.weight.detach().clone(), "ptqlin.bias": lnet.fc.bias.detach().clone()})
    lprep = q.prepare(lnet)
    for b in batches: lprep(b.reshape(-1, 36)[:16])
    lconv = q.convert(lprep)
    ltest = torch.randn(5, 36, generator=g) * 2
    out.update({"ptqlin.x": ltest, "ptqlin.y": lconv(ltest).detach()})

    # QAT: fbgemm's fake quantization (explicit FakeQuantize modules, not the fused ones, same arithmetic).
    qat_cfg = q.QConfig(
        activation=q.FakeQuantize.with_args(observer=q.MovingAverageMinMaxObserver, dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=True),
        weight=q.FakeQuantize.with_args(observer=q.MovingAveragePerChannelMinMaxObserver, dtype=torch.qint8, qscheme=torch.per_channel_symmetric))
    qnet = ConvNet().train()
    with torch.no_grad(): qnet.conv.weight.copy_(w)
    qnet.qconfig = qat_cfg
    out.update({"qat.weight": qnet.conv.weight.detach().clone(), "qat.bias": qnet.conv.bias.detach().clone()})
    qprep = q.prepare_qat(qnet)
    xin = batches[0].clone().requires_grad_()
    qy = qprep(xin)
    vv = torch.randn(qy.shape, generator=g)
    (qy * vv).sum().backward()
    out.update({"qat.v": vv, "qat.y": qy.detach(), "qat.x_grad": xin.grad, "qat.w_grad": qprep.conv.weight.grad})
    qprep.eval()
    qconv = q.convert(qprep)
    out.update({"qat.test_y": qconv(test).detach()})
    save_file(out, os.path.join(OUT, "ao_per_channel.safetensors"))


if __name__ == "__main__" and torch.backends.quantized.supported_engines:
    ao_golden()
    print("wrote ao.safetensors")
