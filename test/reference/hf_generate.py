"""Greedy continuations by transformers' generate(do_sample=False) on tiny
random checkpoints written by its own save_pretrained: the reference of
test/models/kv-cache.test.ts.

stdin: {family, config: {...} (config.json keys), dir, seed, prompts: [[ids]], max_new_tokens}
stdout: {sequences: [[prompt + new ids]]}
"""
import json
import sys

import torch


def main():
    from transformers import AutoConfig, AutoModelForCausalLM

    spec = json.load(sys.stdin)
    torch.manual_seed(spec.get("seed", 0))
    config = AutoConfig.for_model(spec["family"], **spec["config"])
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    # Weights far from the initializer's near-uniform outputs (as hf_decoders.py):
    # the argmax is then rarely a near tie.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or ".ln_" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif "wpe" in name:
                # Strong positions: GPT-2's and GPT-Neo's tied output layer
                # otherwise makes tiny random models repeat their input token.
                p.copy_(torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
    model.save_pretrained(spec["dir"])
    ref = AutoModelForCausalLM.from_pretrained(spec["dir"], dtype=torch.float32)
    ref.eval()
    sequences = []
    for prompt in spec["prompts"]:
        ids = torch.tensor([prompt])
        with torch.no_grad():
            out = ref.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=spec["max_new_tokens"],
                               eos_token_id=config.eos_token_id, pad_token_id=config.eos_token_id)
        sequences.append(out[0].tolist())
    json.dump({"sequences": sequences}, sys.stdout)
