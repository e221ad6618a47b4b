#!/usr/bin/env python3
"""PyTorch side of bench/Kiln.Bench: the same work, timed the same way (median of repeats).

Input (stdin): JSON list of {"name", "op", "n", "threads", "reps"}. Output (stdout): JSON {name: seconds}.
The caller sets OPENBLAS_NUM_THREADS: OpenBLAS keeps its own pthreads, which set_num_threads does not reach.
"""
import json, os, statistics, sys, time
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))   # make_quant_golden

torch.manual_seed(0)
cases = json.load(sys.stdin)
results = {}
# Cases that time the same PyTorch work (the eager and compiled rows of one Kiln model) are measured once and shared,
# so both rows are divided by the same number.
def llama_decode(batch, prompt=32, new=16, dtype=torch.float32):
    """The golden script's reference Llama (tests/golden/make_transformers_golden.py), with Hugging Face's cache
    behaviour: each layer's keys and values concatenated per step. Returns one greedy generate call."""
    import math
    hs, inter, vocab, layers, nh, nkv, hd = 768, 2048, 32000, 12, 12, 4, 64
    g = torch.Generator().manual_seed(0)
    R = lambda *shape: (torch.randn(*shape, generator=g) * 0.02).to(dtype)
    W = [dict(q=R(nh * hd, hs), k=R(nkv * hd, hs), v=R(nkv * hd, hs), o=R(hs, nh * hd), gate=R(inter, hs), up=R(inter, hs),
              down=R(hs, inter), n1=torch.ones(hs, dtype=dtype), n2=torch.ones(hs, dtype=dtype)) for _ in range(layers)]
    embed, head, norm = R(vocab, hs), R(vocab, hs), torch.ones(hs, dtype=dtype)
    inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
    ids0 = torch.randint(3, vocab, (batch, prompt), generator=g)

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))

    def rot(x):
        return torch.cat((-x[..., hd // 2:], x[..., :hd // 2]), dim=-1)

    def step(ids, past, start):
        b, s = ids.shape
        freqs = torch.arange(start, start + s).float()[:, None] * inv[None]
        emb = torch.cat((freqs, freqs), -1)
        cos, sin = emb.cos().to(dtype), emb.sin().to(dtype)
        h = embed[ids]
        for i, w in enumerate(W):
            x = rms(h, w["n1"])
            q = (x @ w["q"].T).view(b, s, nh, hd).transpose(1, 2)
            k = (x @ w["k"].T).view(b, s, nkv, hd).transpose(1, 2)
            v = (x @ w["v"].T).view(b, s, nkv, hd).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            if past[i] is not None:
                k, v = torch.cat([past[i][0], k], 2), torch.cat([past[i][1], v], 2)
            past[i] = (k, v)
            kk, vv = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
            scores = q @ kk.transpose(2, 3) / math.sqrt(hd)
            if s > 1:
                scores = scores + torch.full((s, s + start), float("-inf"), dtype=dtype).triu(start + 1)
            h = h + (torch.softmax(scores, -1) @ vv).transpose(1, 2).reshape(b, s, nh * hd) @ w["o"].T
            x = rms(h, w["n2"])
            h = h + (torch.nn.functional.silu(x @ w["gate"].T) * (x @ w["up"].T)) @ w["down"].T
        return rms(h, norm)[:, -1] @ head.T

    def generate():
        with torch.no_grad():
            past = [None] * layers
            ids = ids0
            logits = step(ids, past, 0)
            for t in range(new):
                nxt = logits.argmax(-1, keepdim=True)
                ids = torch.cat([ids, nxt], 1)
                if t == new - 1: break
                logits = step(nxt, past, prompt + t)
            return ids
    return generate


def llama_train(batch, seq=128):
    """One training step (forward, cross entropy of the next token, backward, AdamW) of a small Llama written as the
    golden script's reference computes it (Hugging Face's eager semantics: repeat_kv, additive causal mask)."""
    import math
    hs, inter, vocab, layers, nh, nkv, hd = 256, 688, 2048, 4, 8, 4, 32
    P = lambda *shape: torch.nn.Parameter(torch.randn(*shape) * 0.02)
    W = [dict(q=P(nh * hd, hs), k=P(nkv * hd, hs), v=P(nkv * hd, hs), o=P(hs, nh * hd), gate=P(inter, hs), up=P(inter, hs),
              down=P(hs, inter), n1=torch.nn.Parameter(torch.ones(hs)), n2=torch.nn.Parameter(torch.ones(hs))) for _ in range(layers)]
    embed, head, norm = P(vocab, hs), P(vocab, hs), torch.nn.Parameter(torch.ones(hs))
    params = [embed, head, norm] + [p for w in W for p in w.values()]
    opt = torch.optim.AdamW(params, lr=1e-4)
    inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
    freqs = torch.arange(seq).float()[:, None] * inv[None]
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos(), emb.sin()
    causal = torch.full((seq, seq), float("-inf")).triu(1)
    ids = torch.randint(0, vocab, (batch, seq))

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

    def rot(x):
        return torch.cat((-x[..., hd // 2:], x[..., :hd // 2]), dim=-1)

    def fn():
        opt.zero_grad()
        b, s = ids.shape
        h = embed[ids]
        for w in W:
            x = rms(h, w["n1"])
            q = (x @ w["q"].T).view(b, s, nh, hd).transpose(1, 2)
            k = (x @ w["k"].T).view(b, s, nkv, hd).transpose(1, 2)
            v = (x @ w["v"].T).view(b, s, nkv, hd).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            kk, vv = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
            scores = q @ kk.transpose(2, 3) / math.sqrt(hd) + causal
            h = h + (torch.softmax(scores, -1) @ vv).transpose(1, 2).reshape(b, s, nh * hd) @ w["o"].T
            x = rms(h, w["n2"])
            h = h + (torch.nn.functional.silu(x @ w["gate"].T) * (x @ w["up"].T)) @ w["down"].T
        logits = rms(h, norm) @ head.T
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, vocab), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        return loss
    return fn


SAME_WORK = {"llama_step_compiled": "llama_step_eager", "lora_step_compiled": "lora_step_eager", "cifar_step_compiled": "cifar_step_eager", "resblock_step_compiled": "resblock_step_eager", "mlp_step_compiled": "mlp_step_eager", "mlp_step_reduce": "mlp_step_eager", "encoder_step_reduce": "encoder_step_eager", "lenet_step_compiled": "lenet_step_eager", "encoder_step_compiled": "encoder_step_eager", "encoder_step_tuned": "encoder_step_eager"}
measured = {}
for c in cases:
    torch.set_num_threads(c["threads"])
    op, n = c["op"], c["n"]
    key = (SAME_WORK.get(op, op), n, c["threads"])
    if key in measured:
        results[c["name"]] = measured[key]
        continue
    if op == "gemm":
        m, k, nn_ = c.get("dims") or (n, n, n)
        a, b = torch.randn(m, k), torch.randn(k, nn_)
        fn = lambda: torch.matmul(a, b)
    elif op in ("conv_bn3", "conv_bn32"):
        cin, cout, size = (3, 32, 32) if op == "conv_bn3" else (32, 64, 16)
        conv, bn = torch.nn.Conv2d(cin, cout, 3, padding=1), torch.nn.BatchNorm2d(cout)
        x = torch.randn(n, cin, size, size, requires_grad=True)
        def fn():
            x.grad = None; conv.zero_grad(); bn.zero_grad()
            y = bn(conv(x)).sum(); y.backward(); return y
    elif op in ("resblock", "resblock_step_eager", "resblock_step_compiled"):
        class Block(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = torch.nn.Conv2d(64, 64, 3, padding=1, bias=False)
                self.conv2 = torch.nn.Conv2d(64, 64, 3, padding=1, bias=False)
                self.bn1, self.bn2 = torch.nn.BatchNorm2d(64), torch.nn.BatchNorm2d(64)
            def forward(self, x):
                return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + x)
        block = Block()
        if op == "resblock":
            x = torch.randn(n, 64, 32, 32, requires_grad=True)
            def fn():
                x.grad = None; block.zero_grad()
                y = block(x).sum(); y.backward(); return y
        else:
            opt = torch.optim.SGD(block.parameters(), lr=0.01, momentum=0.9)
            x, target = torch.randn(n, 64, 32, 32), torch.randn(n, 64, 32, 32)
            def fn():
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(block(x), target)
                loss.backward(); opt.step(); return loss
    elif op in ("lora_step_eager", "lora_step_compiled"):
        # PEFT's LoRA Linear, written out (Debian has no peft): frozen base, y = base(x) + (x @ A.T) @ B.T * alpha / r.
        class LoraLinear(torch.nn.Module):
            def __init__(self, r=16, alpha=32):
                super().__init__()
                self.base = torch.nn.Linear(1024, 1024)
                self.base.requires_grad_(False)
                self.lora_A = torch.nn.Parameter(torch.randn(r, 1024) / 32)
                self.lora_B = torch.nn.Parameter(torch.zeros(1024, r))
                self.scale = alpha / r
            def forward(self, x):
                return self.base(x) + (x @ self.lora_A.t()) @ self.lora_B.t() * self.scale
        l1, l2, l3 = LoraLinear(), LoraLinear(), LoraLinear()
        params = [p for m in (l1, l2, l3) for p in m.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=1e-3)
        x, target = torch.randn(n, 1024), torch.randn(n, 1024)
        def fn():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(l3(torch.nn.functional.gelu(l2(torch.relu(l1(x))))), target)
            loss.backward(); opt.step(); return loss
    elif op in ("cifar_step_eager", "cifar_step_compiled"):
        model = torch.nn.Sequential(
            torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.BatchNorm2d(64), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(64 * 8 * 8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = torch.randn(n, 3, 32, 32), torch.randint(0, 10, (n,))
        def fn():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward(); opt.step(); return loss
    elif op in ("q_fp32", "q_nf4", "q_nf4_dq", "q_int8"):
        m, k, nn_ = c["dims"]
        x, w = torch.randn(m, k), torch.randn(nn_, k) / k ** 0.5
        if op == "q_fp32":
            fn = lambda: torch.nn.functional.linear(x, w)
        elif op == "q_int8":
            scb = w.abs().amax(1)
            cb = torch.round(w * (127 / scb).unsqueeze(1)).to(torch.int8)
            fn = lambda: torch.nn.functional.linear(x, cb.float() * (scb / 127).unsqueeze(1))
        else:
            # bitsandbytes' default (pure torch) gemm_4bit: dequantize the NF4 codes with the nested absmax, then linear.
            import make_quant_golden as q
            packed, t = q.quantize_4bit(w, "nf4", 64, True)
            code, qabs, nested, nmap = q.code4("nf4"), t["absmax"].long(), t["nested_absmax"], t["nested_quant_map"]
            offset = torch.tensor(json.loads(bytes(t["quant_state.bitsandbytes__nf4"].tolist()))["nested_offset"])
            p = packed.reshape(-1)
            def fn():
                absmax = nmap[qabs] * nested.repeat_interleave(256)[: qabs.numel()] + offset
                idx = torch.empty(p.numel() * 2, dtype=torch.long)
                idx[0::2] = (p >> 4).long(); idx[1::2] = (p & 15).long()
                wd = (code[idx].view(-1, 64) * absmax.view(-1, 1)).view(nn_, k)
                return torch.nn.functional.linear(x, wd)
    elif op in ("llama_decode_nf4", "llama_decode_int8"):
        fn = llama_decode(n)
    elif op == "rfft":
        x = torch.randn(*c["dims"])
        fn = lambda: torch.fft.rfft(x)
    elif op == "fft_c2c":
        z = torch.randn(*c["dims"], dtype=torch.complex64)
        fn = lambda: torch.fft.fft(z)
    elif op == "stft":
        x = torch.randn(*c["dims"])
        w = torch.hann_window(400)
        fn = lambda: torch.stft(x, 400, 160, window=w, return_complex=True)
    elif op == "add":
        a, b = torch.randn(n), torch.randn(n)
        fn = lambda: torch.add(a, b)
    elif op == "gelu":
        a = torch.randn(n)
        fn = lambda: torch.nn.functional.gelu(a)
    elif op == "transpose_copy":
        a = torch.randn(n, n).t()
        fn = lambda: a.contiguous()
    elif op == "gelu_t":
        a = torch.randn(n, n).t()
        fn = lambda: torch.nn.functional.gelu(a)
    elif op == "add_t":
        a, b = torch.randn(n, n).t(), torch.randn(n, n)
        fn = lambda: torch.add(a, b)
    elif op == "log_softmax":
        a = torch.randn(4096, 1000)
        fn = lambda: torch.log_softmax(a, dim=1)
    elif op in ("llama_step_eager", "llama_step_compiled"):
        fn = llama_train(n)
    elif op == "llama_decode":
        fn = llama_decode(n)
    elif op == "llama_decode_bf16":
        fn = llama_decode(n, dtype=torch.bfloat16)
    elif op == "softmax":
        a = torch.randn(4096, 1024)
        fn = lambda: torch.softmax(a, dim=1)
    elif op == "sum":
        a = torch.randn(n)
        fn = lambda: torch.sum(a)
    elif op == "mlp":
        x, y = torch.randn(n, 784), torch.randint(0, 10, (n, 1))
        w1 = (torch.randn(784, 128) * 0.03).requires_grad_()
        b1 = torch.zeros(128, requires_grad=True)
        w2 = (torch.randn(128, 10) * 0.1).requires_grad_()
        b2 = torch.zeros(10, requires_grad=True)
        def fn():
            for p in (w1, b1, w2, b2):
                p.grad = None
            logits = torch.relu(x @ w1 + b1) @ w2 + b2
            loss = -torch.log_softmax(logits, 1).gather(1, y).mean()  # cross-entropy, same formula as Kiln's run
            loss.backward()
            return loss
    elif op == "conv2d":
        conv = torch.nn.Conv2d(64, 64, 3, padding=1)
        x = torch.randn(n, 64, 32, 32, requires_grad=True)
        def fn():
            x.grad = None; conv.zero_grad()
            y = conv(x).sum(); y.backward(); return y
    elif op == "lstm":
        lstm = torch.nn.LSTM(128, 256, batch_first=True)
        x = torch.randn(n, 64, 128, requires_grad=True)
        def fn():
            x.grad = None; lstm.zero_grad()
            y = lstm(x)[0].sum(); y.backward(); return y
    elif op == "lstm_packed":
        # Unsorted lengths 8..64 (8 + 37·i mod 57), packed as the sequences of a text batch are.
        from torch.nn.utils.rnn import pack_padded_sequence
        lstm = torch.nn.LSTM(128, 256, batch_first=True)
        x = torch.randn(n, 64, 128, requires_grad=True)
        lengths = torch.tensor([8 + (37 * i) % 57 for i in range(n)])
        def fn():
            x.grad = None; lstm.zero_grad()
            out, (h, c) = lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
            y = out.data.sum() + h.sum(); y.backward(); return y
    elif op == "gru":
        gru = torch.nn.GRU(128, 256, batch_first=True)
        x = torch.randn(n, 64, 128, requires_grad=True)
        def fn():
            x.grad = None; gru.zero_grad()
            y = gru(x)[0].sum(); y.backward(); return y
    elif op == "encoder":
        layer = torch.nn.TransformerEncoderLayer(256, 4, batch_first=True)
        x = torch.randn(n, 128, 256, requires_grad=True)
        def fn():
            x.grad = None; layer.zero_grad()
            y = layer(x).sum(); y.backward(); return y
    elif op in ("mlp_step_eager", "mlp_step_compiled", "mlp_step_reduce", "lenet_step_eager", "lenet_step_compiled"):
        # One training step (forward, cross-entropy, backward, Adam) of the seed's classifier or LeNet, eager PyTorch.
        nn = torch.nn
        if op.startswith("mlp"):
            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
            x = torch.randn(n, 784)
        else:
            model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
            x = torch.randn(n, 1, 28, 28)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        y = torch.randint(0, 10, (n,))
        def fn():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
    elif op in ("encoder_step_eager", "encoder_step_compiled", "encoder_step_tuned", "encoder_step_reduce"):
        # One training step of a Transformer encoder layer (PyTorch's defaults: ff 2048, dropout 0.1, post-norm, relu).
        model = torch.nn.TransformerEncoderLayer(256, 4, batch_first=True)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        x = torch.randn(n, 128, 256)
        target = torch.randn(n, 128, 256)
        def fn():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), target)
            loss.backward()
            opt.step()
            return loss
    elif op == "adamw":
        p = torch.randn(n, requires_grad=True)
        p.grad = torch.randn(n)
        opt = torch.optim.AdamW([p])
        fn = opt.step
    elif op in ("fashion_mlp", "fashion_cnn"):
        import gzip, numpy as np
        root = "/usr/share/datasets/fashion-mnist"
        def idx(name):
            with gzip.open(f"{root}/{name}", "rb") as f:
                data = f.read()
            dims = data[3]
            shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
        images, labels = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
        class Fashion(torch.utils.data.Dataset):
            def __len__(self): return len(labels)
            def __getitem__(self, i):  # what torchvision's ToTensor + Normalize do, per sample
                x = torch.from_numpy(images[i].copy()).unsqueeze(0).float().div(255)
                return (x - 0.2860) / 0.3530, int(labels[i])
        g = torch.Generator(); g.manual_seed(1)
        loader = torch.utils.data.DataLoader(Fashion(), batch_size=n, shuffle=True, generator=g)
        nn = torch.nn
        if op == "fashion_mlp":
            model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
        else:
            model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
        opt = torch.optim.Adam(model.parameters())
        def fn():
            for x, y in loader:
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
    elif op in ("ops_grad", "ops_nograd"):
        x = torch.ones(1, requires_grad=True)
        def fn(record=op == "ops_grad"):
            with torch.set_grad_enabled(record):
                y = x
                for _ in range(n):
                    y = y * 1.0001
            return y
    else:
        raise SystemExit(f"unknown op {op}")
    for _ in range(c.get("warmup") or max(3, c["reps"] // 3)):
        fn()
    times = []
    for _ in range(c["reps"]):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    results[c["name"]] = measured[key] = statistics.median(times)
json.dump({"torch": torch.__version__, "blas": "OpenBLAS" if "openblas" in torch.__config__.show().lower() else "unknown",
           "results": results}, sys.stdout)
