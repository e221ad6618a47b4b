#!/usr/bin/env python3
"""Fixtures written by the real Hugging Face libraries (transformers, peft), for cross-checking Kiln and the reference
implementations in make_transformers_golden.py.

Debian has no `transformers` or `peft`, so this script does not run in CI: it ran once on a machine that has them
(the lent GPU machine's image; everything here runs on its CPU in float32) and its output is committed under
tests/golden/data/hf/. Each case is a tiny random model saved with `save_pretrained` (the file layout and config.json
exactly as those versions write them) plus `expected.safetensors` with the inputs and what the library computed:
logits / last hidden state, every hidden state, greedy `generate` ids with a KV cache, and for adapters the PEFT
model's and the merged model's logits. `manifest.json` records the library versions and any case that failed.

    python3 tests/golden/hf_fixtures.py OUT_DIR
"""
import json, os, sys, traceback
import torch

out = sys.argv[1] if len(sys.argv) > 1 else "hf_fixtures"
os.makedirs(out, exist_ok=True)
import transformers
from safetensors.torch import save_file

manifest = {"torch": torch.__version__, "transformers": transformers.__version__, "cases": {}, "errors": {}}
try:
    import peft
    manifest["peft"] = peft.__version__
except Exception as e:  # adapters are skipped without peft
    peft = None
    manifest["errors"]["peft"] = repr(e)


def randomize(model, seed):
    """HF's 0.02-std init makes tiny models nearly constant; redraw every parameter so outputs differ per token."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g) * 0.2
            is_norm = ("norm" in name.lower() or "ln_" in name) and name.endswith("weight")
            p.copy_(1 + r if is_norm else r)
    return model


def decoder_inputs(vocab, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (2, 9), generator=g)
    mask = torch.ones(2, 9, dtype=torch.int64)
    mask[1, :3] = 0          # the second row left-padded by three
    ids[1, :3] = 0
    return ids, mask


def save_case(name, model, tensors, extra=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    if model is not None:
        model.save_pretrained(d, **(extra or {}))
    save_file({k: v.detach().clone().contiguous() for k, v in tensors.items()}, os.path.join(d, "expected.safetensors"))
    manifest["cases"][name] = sorted(os.listdir(d))


def causal_case(name, config, seed, shard=None):
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="eager").float().eval()
    randomize(model, seed)
    ids, mask = decoder_inputs(config.vocab_size, seed + 1)
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        model.generation_config.eos_token_id = None
        model.generation_config.pad_token_id = 0
        gen = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=6, min_new_tokens=6, do_sample=False)
    t = {"input_ids": ids, "attention_mask": mask, "logits": o.logits, "greedy": gen}
    for j, h in enumerate(o.hidden_states): t[f"hidden_states.{j}"] = h
    save_case(name, model, t, {"max_shard_size": shard} if shard else None)
    return model, ids, mask


def run(name, fn):
    try:
        fn()
        print("ok", name, flush=True)
    except Exception:
        manifest["errors"][name] = traceback.format_exc()[-2000:]
        print("FAILED", name, manifest["errors"][name], flush=True)


L = dict(hidden_size=32, intermediate_size=48, num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=2,
         vocab_size=97, rms_norm_eps=1e-5, max_position_embeddings=64, bos_token_id=1, eos_token_id=2)
run("llama_gqa", lambda: causal_case("llama_gqa", transformers.LlamaConfig(**L), 10))
run("llama_tied_bias_linear", lambda: causal_case("llama_tied_bias_linear", transformers.LlamaConfig(
    **L, tie_word_embeddings=True, attention_bias=True, mlp_bias=True, rope_scaling={"rope_type": "linear", "factor": 2.0}), 20))
run("llama3_rope_sharded", lambda: causal_case("llama3_rope_sharded", transformers.LlamaConfig(
    **{**L, "head_dim": 16}, rope_theta=500000.0, rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                                "high_freq_factor": 4.0, "original_max_position_embeddings": 16}), 30, shard="20KB"))
run("llama_yarn", lambda: causal_case("llama_yarn", transformers.LlamaConfig(
    **{**L, "max_position_embeddings": 32}, rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 8}), 40))
run("llama_dynamic", lambda: causal_case("llama_dynamic", transformers.LlamaConfig(
    **{**L, "max_position_embeddings": 8}, rope_scaling={"rope_type": "dynamic", "factor": 2.0}), 50))
Q = dict(hidden_size=32, intermediate_size=48, num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=2,
         vocab_size=97, rms_norm_eps=1e-6, max_position_embeddings=64, bos_token_id=1, eos_token_id=2,
         use_sliding_window=False, sliding_window=None, rope_theta=1000000.0)
run("qwen2", lambda: causal_case("qwen2", transformers.Qwen2Config(**Q, tie_word_embeddings=False), 60))
run("qwen2_tied", lambda: causal_case("qwen2_tied", transformers.Qwen2Config(**Q, tie_word_embeddings=True), 70))
G = dict(n_embd=32, n_layer=2, n_head=4, n_positions=64, vocab_size=97, bos_token_id=1, eos_token_id=2,
         resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
run("gpt2", lambda: causal_case("gpt2", transformers.GPT2Config(**G), 80))


def bert():
    config = transformers.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                                     vocab_size=97, max_position_embeddings=64, type_vocab_size=2,
                                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    torch.manual_seed(90)
    model = transformers.BertModel(config, add_pooling_layer=True).float().eval()
    randomize(model, 90)
    g = torch.Generator().manual_seed(91)
    ids = torch.randint(3, 97, (2, 9), generator=g)
    mask = torch.ones(2, 9, dtype=torch.int64)
    mask[1, 6:] = 0          # BERT pads on the right
    ids[1, 6:] = 0
    types = torch.zeros(2, 9, dtype=torch.int64)
    types[:, 5:] = 1
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
    m = mask[..., None].float()
    mean = (o.last_hidden_state * m).sum(1) / m.sum(1).clamp(min=1e-9)
    t = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "last_hidden_state": o.last_hidden_state,
         "pooler_output": o.pooler_output, "mean_pooled": mean,
         "mean_pooled_normalized": torch.nn.functional.normalize(mean, dim=-1)}
    for j, h in enumerate(o.hidden_states): t[f"hidden_states.{j}"] = h
    save_case("bert", model, t)


run("bert", bert)


def adapter_case(name, base_case, config_kw, seed):
    """A LoRA adapter over one of the saved base models: PEFT's folder, its logits, the merged model's logits."""
    base_dir = os.path.join(out, base_case)
    torch.manual_seed(seed)
    base = transformers.AutoModelForCausalLM.from_pretrained(base_dir, attn_implementation="eager").float().eval()
    model = peft.get_peft_model(base, peft.LoraConfig(**config_kw)).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():   # PEFT's init leaves lora_B at zero (or tiny); draw both so the adapter changes the output
        for n, p in model.named_parameters():
            if "lora_" in n or "modules_to_save" in n: p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    ids, mask = decoder_inputs(base.config.vocab_size, seed + 1)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
        with model.disable_adapter():
            base_logits = model(input_ids=ids, attention_mask=mask).logits
    import io, contextlib
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): model.print_trainable_parameters()
    d = os.path.join(out, name)
    model.save_pretrained(d)
    with torch.no_grad():
        merged = model.merge_and_unload()
        merged_logits = merged(input_ids=ids, attention_mask=mask).logits
    with open(os.path.join(d, "base.txt"), "w") as f: f.write(base_case + "\n")
    with open(os.path.join(d, "print_trainable_parameters.txt"), "w") as f: f.write(buf.getvalue())
    save_case(name, None, {"input_ids": ids, "attention_mask": mask, "logits": logits, "base_logits": base_logits,
                           "merged_logits": merged_logits})


if peft is not None:
    run("lora_llama_qv", lambda: adapter_case("lora_llama_qv", "llama_gqa", dict(
        r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]), 100))
    run("lora_llama_all_rslora", lambda: adapter_case("lora_llama_all_rslora", "llama_gqa", dict(
        r=4, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], use_rslora=True, rank_pattern={"o_proj": 2},
        alpha_pattern={"down_proj": 4}, layers_to_transform=[1], bias="lora_only"), 110))
    run("lora_llama_embed_save", lambda: adapter_case("lora_llama_embed_save", "llama_gqa", dict(
        r=2, lora_alpha=4, lora_dropout=0.0, target_modules=["embed_tokens", "gate_proj"], modules_to_save=["lm_head"]), 120))
    run("lora_gpt2_conv1d", lambda: adapter_case("lora_gpt2_conv1d", "gpt2", dict(
        r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["c_attn", "c_fc"], fan_in_fan_out=True), 130))



def prompt_case(name, base_case, config, seed):
    """Prompt / prefix tuning: PEFT's saved virtual-token tensors and the logits of the real tokens."""
    base = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(out, base_case), attn_implementation="eager").float().eval()
    model = peft.get_peft_model(base, config).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.requires_grad: p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    ids = torch.randint(3, base.config.vocab_size, (2, 7), generator=g)
    mask = torch.ones(2, 7, dtype=torch.int64)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    d = os.path.join(out, name)
    model.save_pretrained(d)
    with open(os.path.join(d, "base.txt"), "w") as f: f.write(base_case + "\n")
    save_case(name, None, {"input_ids": ids, "attention_mask": mask, "logits": logits})


if peft is not None:
    run("prompt_tuning_llama", lambda: prompt_case("prompt_tuning_llama", "llama_gqa", peft.PromptTuningConfig(
        task_type="CAUSAL_LM", num_virtual_tokens=4), 140))
    run("prefix_tuning_llama", lambda: prompt_case("prefix_tuning_llama", "llama_gqa", peft.PrefixTuningConfig(
        task_type="CAUSAL_LM", num_virtual_tokens=3), 150))
    run("prefix_tuning_llama_projection", lambda: prompt_case("prefix_tuning_llama_projection", "llama_gqa", peft.PrefixTuningConfig(
        task_type="CAUSAL_LM", num_virtual_tokens=3, prefix_projection=True, encoder_hidden_size=24), 160))
    run("p_tuning_llama", lambda: prompt_case("p_tuning_llama", "llama_gqa", peft.PromptEncoderConfig(
        task_type="CAUSAL_LM", num_virtual_tokens=4, encoder_hidden_size=24, encoder_reparameterization_type="MLP"), 170))

with open(os.path.join(out, "manifest.json"), "w") as f: json.dump(manifest, f, indent=2)
print(json.dumps({k: v for k, v in manifest.items() if k != "cases"}, indent=1)[:3000])
