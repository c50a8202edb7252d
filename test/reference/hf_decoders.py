"""Tiny random checkpoints of today's decoder families written by transformers'
own save_pretrained, and what transformers and lm-evaluation-harness compute
on them: the reference of test/models/families.test.ts.

stdin: {
  family: llama | mistral | qwen2 | phi3, config: {...} (config.json keys),
  dir, seed, dtype: float32 | bfloat16 | float16, max_shard_size (optional),
  layout: "5" (as this transformers writes it) | "4" (transformers 4.x keys:
  rope_theta, rope_scaling, torch_dtype),
  tokenizer: {kind, vocab_size, texts} (hf_tokenizers.py) or null,
  ids: [[...]], attention_mask (optional), docs: [str] (scored when a tokenizer is given)
}
stdout: {logits, loss, rolling: [loglikelihood per doc], default_rolling, tokens: [[ids per doc]]}
"""
import json
import sys

import torch


def to_4x_layout(path):
    """Rewrites config.json with the keys transformers 4.x wrote."""
    with open(path) as f:
        config = json.load(f)
    rope = config.pop("rope_parameters", None) or {}
    config["rope_theta"] = rope.pop("rope_theta", 10000.0)
    if "partial_rotary_factor" in rope:
        config["partial_rotary_factor"] = rope.pop("partial_rotary_factor")
    rope_type = rope.pop("rope_type", "default")
    config["rope_scaling"] = None if rope_type == "default" else {"rope_type": rope_type, **rope}
    if "dtype" in config:
        config["torch_dtype"] = config.pop("dtype")
    config.pop("layer_types", None)
    config["transformers_version"] = "4.46.0"
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def main():
    from transformers import AutoConfig, AutoModelForCausalLM

    spec = json.load(sys.stdin)
    torch.manual_seed(spec.get("seed", 0))
    config = AutoConfig.for_model(spec["family"], **spec["config"])
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    # Weights far from the initializer's near-uniform outputs, norms around
    # one, biases non-zero: every parameter shows in the logits.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
    dtype = getattr(torch, spec.get("dtype", "float32"))
    model.to(dtype).save_pretrained(spec["dir"], max_shard_size=spec.get("max_shard_size", "5GB"))
    if spec.get("layout", "5") == "4":
        to_4x_layout(f"{spec['dir']}/config.json")

    # transformers reads back what it (or 4.x) wrote, in float32.
    ref = AutoModelForCausalLM.from_pretrained(spec["dir"], dtype=torch.float32)
    ref.eval()
    ids = torch.tensor(spec["ids"])
    mask = torch.tensor(spec["attention_mask"]) if spec.get("attention_mask") else None
    with torch.no_grad():
        out = ref(input_ids=ids, attention_mask=mask)
    labels = ids.clone()
    if mask is not None:
        labels[mask == 0] = -100
    loss = ref(input_ids=ids, attention_mask=mask, labels=labels).loss
    result = {"logits": out.logits.flatten().tolist(), "loss": loss.item()}

    if spec.get("tokenizer"):
        import hf_tokenizers
        from lm_eval.api.instance import Instance
        from lm_eval.models.huggingface import HFLM

        t = spec["tokenizer"]
        tok = hf_tokenizers.build(t["kind"], t["texts"], t["vocab_size"])
        tok.save_pretrained(spec["dir"])
        requests = [Instance(request_type="loglikelihood_rolling", doc={}, arguments=(d,), idx=i) for i, d in enumerate(spec["docs"])]
        # add_bos_token=False: documents encoded without special tokens (the
        # original's lm_eval, and HFLM before 0.4.9); the first window still
        # conditions on prefix_token_id (BOS, else EOS).
        lm = HFLM(pretrained=ref, tokenizer=tok, batch_size=1, add_bos_token=False)
        result["rolling"] = lm.loglikelihood_rolling(requests, disable_tqdm=True)
        result["max_length"] = lm.max_length
        result["prefix_token_id"] = lm.prefix_token_id
        result["tokens"] = [lm.tok_encode(d) for d in spec["docs"]]
        # This lm-eval's default (add_bos_token=None) keeps the tokenizer's
        # own special tokens: Llama's BOS then starts the scored tokens.
        default = HFLM(pretrained=ref, tokenizer=tok, batch_size=1)
        result["default_tokens"] = [default.tok_encode(d) for d in spec["docs"]]
    json.dump(result, sys.stdout)
