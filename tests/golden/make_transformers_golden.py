#!/usr/bin/env python3
"""Golden data for Kiln.Transformers: tiny Llama-family models in Hugging Face's folder layout, with their outputs.

Debian has no `transformers` package, so this script carries a reference Llama written from Hugging Face's modeling
code's semantics (RMSNorm in float32, rotate-half RoPE with default / linear / llama3 frequency scaling, grouped-query
attention by repeating key/value heads, SwiGLU MLP, tied or untied lm_head). Each case builds a random tiny config,
saves config.json + model.safetensors (or shards with model.safetensors.index.json, tied weights written once, as
save_pretrained does) under data/transformers/<case>/, runs the reference and saves expected.safetensors: input_ids,
attention_mask, logits, and hidden_states.<i> (HF's output_hidden_states: the embeddings, each layer's output, the last
replaced by the final norm's). Run with Debian's python3-torch: /usr/bin/python3 tests/golden/make_transformers_golden.py
"""
import json, math, os, shutil
import torch
from safetensors_io import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "transformers")


def rope_settings(cfg):
    """(theta, scaling dict or None) from either layout: rope_theta + rope_scaling, or rope_parameters."""
    if "rope_parameters" in cfg:
        p = dict(cfg["rope_parameters"])
        theta = p.pop("rope_theta", 10000.0)
        return theta, (p if p.get("rope_type", "default") != "default" else None)
    return cfg.get("rope_theta", 10000.0), cfg.get("rope_scaling")


def inv_freq(cfg):
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    theta, scaling = rope_settings(cfg)
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type", "default"))
    if kind == "linear":
        inv = inv / scaling["factor"]
    elif kind == "llama3":
        factor, low, high, old = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"], scaling["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_llama = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        inv = torch.where(medium, smoothed, inv_llama)
    elif kind != "default":
        raise SystemExit(f"rope type {kind} not in the reference")
    return inv


def rms_norm(x, w, eps):
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return w * xf.to(x.dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(cfg, sd, ids, mask, positions=None):
    b, s = ids.shape
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or cfg["hidden_size"] // nh
    eps = cfg["rms_norm_eps"]
    h = sd["model.embed_tokens.weight"][ids]
    hidden = [h]
    pos = (torch.arange(s)[None, :].expand(b, s) if positions is None else positions).float()
    freqs = pos[:, :, None] * inv_freq(cfg)[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]     # [b, 1, s, head_dim]
    # Causal mask plus key padding, as HF builds it: the dtype's lowest value where attention is not allowed.
    allowed = torch.tril(torch.ones(s, s, dtype=torch.bool))[None, None] & mask[:, None, None, :].bool()
    additive = torch.zeros(b, 1, s, s).masked_fill(~allowed, torch.finfo(torch.float32).min)

    def lin(x, name, bias):
        y = x @ sd[name + ".weight"].T
        return y + sd[name + ".bias"] if bias else y

    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms_norm(h, sd[p + "input_layernorm.weight"], eps)
        ab = cfg.get("attention_bias", False)
        q = lin(x, p + "self_attn.q_proj", ab).view(b, s, nh, hd).transpose(1, 2)
        k = lin(x, p + "self_attn.k_proj", ab).view(b, s, nkv, hd).transpose(1, 2)
        v = lin(x, p + "self_attn.v_proj", ab).view(b, s, nkv, hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        scores = q @ k.transpose(2, 3) / math.sqrt(hd) + additive
        attn = torch.softmax(scores.float(), dim=-1) @ v
        h = h + lin(attn.transpose(1, 2).reshape(b, s, nh * hd), p + "self_attn.o_proj", ab)
        x = rms_norm(h, sd[p + "post_attention_layernorm.weight"], eps)
        mb = cfg.get("mlp_bias", False)
        h = h + lin(torch.nn.functional.silu(lin(x, p + "mlp.gate_proj", mb)) * lin(x, p + "mlp.up_proj", mb), p + "mlp.down_proj", mb)
        hidden.append(h)
    h = rms_norm(h, sd["model.norm.weight"], eps)
    hidden[-1] = h
    head = sd["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else sd["lm_head.weight"]
    return h @ head.T, hidden


def greedy(cfg, sd, ids, mask, new_tokens):
    """HF generate's greedy search without a cache: position ids from the mask (cumsum - 1, 1 at padding), the whole
    sequence recomputed for every new token."""
    for _ in range(new_tokens):
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        logits, _ = forward(cfg, sd, ids, mask, positions)
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        ids = torch.cat([ids, nxt], dim=1)
        mask = torch.cat([mask, torch.ones_like(nxt)], dim=1)
    return ids


def random_state(cfg, g):
    hs, inter, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or hs // nh
    R = lambda *shape: torch.randn(*shape, generator=g) * 0.2
    sd = {"model.embed_tokens.weight": R(v, hs)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        for name, shape in [("self_attn.q_proj", (nh * hd, hs)), ("self_attn.k_proj", (nkv * hd, hs)), ("self_attn.v_proj", (nkv * hd, hs)), ("self_attn.o_proj", (hs, nh * hd))]:
            sd[p + name + ".weight"] = R(*shape)
            if cfg.get("attention_bias", False): sd[p + name + ".bias"] = R(shape[0])
        for name, shape in [("mlp.gate_proj", (inter, hs)), ("mlp.up_proj", (inter, hs)), ("mlp.down_proj", (hs, inter))]:
            sd[p + name + ".weight"] = R(*shape)
            if cfg.get("mlp_bias", False): sd[p + name + ".bias"] = R(shape[0])
        sd[p + "input_layernorm.weight"] = 1 + R(hs)
        sd[p + "post_attention_layernorm.weight"] = 1 + R(hs)
    sd["model.norm.weight"] = 1 + R(hs)
    if not cfg.get("tie_word_embeddings", False): sd["lm_head.weight"] = R(v, hs)
    return sd


def base(**kw):
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 32, "intermediate_size": 48,
           "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 97,
           "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 64, "hidden_act": "silu",
           "tie_word_embeddings": False, "torch_dtype": "float32", "bos_token_id": 1, "eos_token_id": 2}
    cfg.update(kw)
    return cfg


CASES = {
    # GQA (4 query heads over 2 key/value heads), untied head, default RoPE.
    "llama_gqa": (base(), None),
    # Tied embeddings (no lm_head tensor in the file), biases on attention and MLP, linear RoPE scaling.
    "llama_tied_bias_linear": (base(tie_word_embeddings=True, attention_bias=True, mlp_bias=True, rope_scaling={"rope_type": "linear", "factor": 2.0}), None),
    # Llama 3 frequency scaling in the newer rope_parameters layout, an explicit head_dim, weights in two shards.
    "llama3_rope_sharded": (base(head_dim=16, rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                                                                   "high_freq_factor": 4.0, "original_max_position_embeddings": 16}), 60000),
}


def main():
    if os.path.isdir(OUT): shutil.rmtree(OUT)
    for i, (name, (cfg, shard_bytes)) in enumerate(CASES.items()):
        g = torch.Generator().manual_seed(100 + i)
        d = os.path.join(OUT, name)
        os.makedirs(d)
        if "rope_parameters" in cfg: cfg.pop("rope_theta", None)
        sd = random_state(cfg, g)
        with open(os.path.join(d, "config.json"), "w") as f: json.dump(cfg, f, indent=2)
        if shard_bytes is None:
            save_file(sd, os.path.join(d, "model.safetensors"), {"format": "pt"})
        else:
            shards, cur, size = [], {}, 0
            for k, t in sd.items():
                if cur and size + t.numel() * 4 > shard_bytes: shards.append(cur); cur, size = {}, 0
                cur[k] = t; size += t.numel() * 4
            shards.append(cur)
            index = {"metadata": {"total_size": sum(t.numel() * 4 for t in sd.values())}, "weight_map": {}}
            for j, part in enumerate(shards):
                fn = f"model-{j + 1:05d}-of-{len(shards):05d}.safetensors"
                save_file(part, os.path.join(d, fn), {"format": "pt"})
                for k in part: index["weight_map"][k] = fn
            with open(os.path.join(d, "model.safetensors.index.json"), "w") as f: json.dump(index, f, indent=2)
        ids = torch.randint(3, cfg["vocab_size"], (2, 9), generator=g)
        mask = torch.ones(2, 9, dtype=torch.int64)
        mask[1, :3] = 0   # the second row left-padded by three
        logits, hidden = forward(cfg, sd, ids, mask)
        expected = {"input_ids": ids, "attention_mask": mask, "logits": logits, "greedy": greedy(cfg, sd, ids, mask, 6)}
        for j, h in enumerate(hidden): expected[f"hidden_states.{j}"] = h
        save_file(expected, os.path.join(d, "expected.safetensors"))
        print(f"{name}: {len(sd)} tensors, logits {tuple(logits.shape)}")


if __name__ == "__main__":
    main()
